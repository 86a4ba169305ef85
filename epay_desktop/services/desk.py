"""PaymentDesk: the use cases of one profile's register, as one facade the window and scripts use.

Every SQLite call goes through ``asyncio.to_thread`` (the GUI thread never blocks on the disk). Every
cancel, capture and refund is journaled (durably) before it is sent, with its own Idempotency-Key; every
retry reuses that key, also after a crash (``recover_pending``). Success is reported only after the API
confirmed it, directly or through the event log. Every new snapshot is published on ``changes``.

The desk is composed of parts, each holding the shared ``context`` and the parts it needs, none
touching another's private members (after Anki's ``Collection``, made of managers):

- ``context`` (``context.py``): profile, client, register, operator, read-only, the change feed;
- ``claims`` (``claims.py``): the money-moving calls in flight (claim, shield, busy, drain);
- ``tracking`` (``tracking.py``): the register (load, refresh, add, import), publishing changes;
- ``engine`` (``engine.py``): the one journaled-send engine (shared with ``epay``);
- ``moves`` (``moving.py``): cancel, capture and refund;
- ``recovery`` (``recovery.py``): intents left without an outcome (recover, resume, abandon);
- ``creation`` (``creating.py``): new payments;
- ``demo`` (``demo.py``, the Demo profile only): the customer's part, played through the sandbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from epay_desktop.api import EPaymentClient
from epay_desktop.domain import Money, PaymentEvent, TrackedPayment
from epay_desktop.domain.listed import ListedPayments
from epay_desktop.services.changes import ChangeFeed
from epay_desktop.services.claims import InFlight
from epay_desktop.services.context import DeskContext, current_os_user
from epay_desktop.services.creating import PHONE_PATTERN, USER_FLOWS, Creation, new_reference
from epay_desktop.services.engine import RESEND_WINDOW, SendEngine
from epay_desktop.services.errors import (
    ActionNotPossibleError,
    DeskError,
    DeskInputError,
    NotTrackedError,
    OperationPendingError,
    ReadOnlyRegisterError,
    StaleConfirmationError,
    said,
)
from epay_desktop.services.moving import ACTION_OF, MoneyMoves
from epay_desktop.services.profiles import Profile
from epay_desktop.services.recovery import Recovery
from epay_desktop.services.results import (
    AddReport,
    CancelResult,
    ImportReport,
    OperationResult,
    RecoveryResult,
)
from epay_desktop.services.tracking import RegisterTracking
from epay_desktop.store import AuditEntry, Intent, Store

if TYPE_CHECKING:
    from epay_desktop.services.demo import DemoControls

__all__ = [
    "ACTION_OF",
    "PHONE_PATTERN",
    "RESEND_WINDOW",
    "USER_FLOWS",
    "ActionNotPossibleError",
    "DeskError",
    "DeskInputError",
    "NotTrackedError",
    "OperationPendingError",
    "PaymentDesk",
    "ReadOnlyRegisterError",
    "StaleConfirmationError",
    "current_os_user",
    "new_reference",
    "said",
]

P = ParamSpec("P")
T = TypeVar("T")


class PaymentDesk:
    """One profile's desk. Open it with ``await PaymentDesk.open(...)``; close it with ``aclose()``
    (the client belongs to the caller and is not closed)."""

    def __init__(
        self,
        profile: Profile,
        client: EPaymentClient,
        store: Store,
        *,
        demo: DemoControls | None = None,
        operator: str | None = None,
    ) -> None:
        self.context = DeskContext(profile, client, store, operator=operator or current_os_user())
        self.claims = InFlight()
        self.tracking = RegisterTracking(self.context)
        self.engine = SendEngine(
            store.journal, client, self.tracking, profile=profile.name, operator=self.context.operator
        )
        self.moves = MoneyMoves(self.context, self.claims, self.tracking, self.engine)
        self.recovery = Recovery(self.context, self.claims, self.tracking, self.engine)
        self.creation = Creation(self.context, self.tracking)
        self._demo = demo

    @classmethod
    async def open(
        cls,
        profile: Profile,
        client: EPaymentClient,
        register_path: Path,
        demo: DemoControls | None = None,
        operator: str | None = None,
        *,
        read_only: bool = False,
        store: Store | None = None,
    ) -> PaymentDesk:
        """Open (or create) the register; raises ``RegisterLockedError``/``RegisterDamagedError``.

        ``read_only=True`` (what to offer after those errors) opens an existing register without
        writing, also when it is damaged (``damage`` says what was found; the list shows the rows that
        can be read) or locked by another program. Reading and refreshing work (refreshed payments are
        not saved); every call that writes or moves money raises ``ReadOnlyRegisterError`` before
        anything is sent.

        ``store``: the register at ``register_path`` already open (the composition root reads the list
        before the network stack is imported); the desk closes it with itself."""
        if client.merchant_serial_number != profile.merchant_serial_number:
            raise ValueError(
                f"the client is for serial number {client.merchant_serial_number}, "
                f"the profile for {profile.merchant_serial_number}"
            )
        if store is None:
            store = await asyncio.to_thread(Store, register_path, read_only=read_only)
        desk = cls(profile, client, store, demo=demo, operator=operator)
        if demo is not None:
            demo.bind(desk.context, desk.tracking, desk.creation)
            if not read_only:
                await demo.seed_if_first_open()
        return desk

    async def aclose(self) -> None:
        """Wait for the money-moving calls in flight (``drain``), then close the register."""
        await self.drain()
        await self.engine.drain()  # confirmed outcomes still being recorded (the register was busy)
        await self._db(self.store.close)

    async def _db(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.context.db(work, *args, **kwargs)

    # --- the context (``context`` has the rest: msn, operator) ---------------------------------------

    @property
    def profile(self) -> Profile:
        return self.context.profile

    @property
    def client(self) -> EPaymentClient:
        return self.context.client

    @property
    def store(self) -> Store:
        return self.context.store

    @property
    def read_only(self) -> bool:
        return self.context.read_only

    @property
    def damage(self) -> str:
        """What is wrong with a register opened read-only ("" when nothing was found)."""
        return self.context.damage

    @property
    def skipped(self) -> list[str]:
        """What the last load of the register and read of the journal left out because a cell in it
        cannot be read (one line each, saying which and why): to be told, never silently dropped."""
        rows = [f"register row {row}" for row in self.context.skipped_rows]
        return rows + self.context.skipped_intents

    @property
    def changes(self) -> ChangeFeed:
        """Every new snapshot a use case produces, published (see ``changes.py``)."""
        return self.context.changes

    @property
    def demo(self) -> DemoControls | None:
        return self._demo

    # --- the register -------------------------------------------------------------------------------

    async def load_register(self) -> Sequence[TrackedPayment]:
        """The register's list (``ListedPayments``: a sequence of records built when read), published
        in one ``ListLoaded``."""
        return await self.tracking.load()

    def offer_list(self, payments: ListedPayments) -> None:
        """The list as ``Register.all`` read it from this desk's store, with nothing written to the
        register since (the caller checked): the next ``load_register`` publishes it instead of
        reading the register again."""
        self.tracking.offer_list(payments)

    async def tracked(self, reference: str) -> TrackedPayment | None:
        return await self.tracking.tracked(reference)

    async def events_of(self, reference: str) -> tuple[PaymentEvent, ...] | None:
        return await self.tracking.events_of(reference)

    async def refresh(self, reference: str) -> TrackedPayment:
        return await self.tracking.refresh(reference)

    def refresh_all(self, references: Iterable[str], concurrency: int = 8) -> AsyncIterator[TrackedPayment]:
        return self.tracking.refresh_all(references, concurrency)

    async def add_references(self, text_or_list: str | Iterable[str]) -> AddReport:
        return await self.tracking.add_references(text_or_list)

    async def import_csv(self, path: Path) -> ImportReport:
        return await self.tracking.import_csv(path)

    async def remove_payments(self, references: Iterable[str]) -> list[TrackedPayment]:
        """Take payments out of the register (never the API); the rows as they were, for undo."""
        return await self.tracking.remove(references)

    async def restore_payments(self, rows: Iterable[TrackedPayment]) -> list[str]:
        """Undo ``remove_payments``."""
        return await self.tracking.restore(rows)

    # --- money moves --------------------------------------------------------------------------------

    async def cancel(
        self, reference: str, *, expected_release: Money | None = None, reason: str = ""
    ) -> CancelResult:
        return await self.moves.cancel(reference, expected_release=expected_release, reason=reason)

    async def capture(
        self, reference: str, amount: Money, *, key: str | None = None, reason: str = "", again: bool = False
    ) -> OperationResult:
        """``RepeatNotConfirmedError`` (nothing sent) when the same amount was captured on the payment
        minutes ago, unless ``again`` (the person confirmed a second one); ``key`` and ``reason`` as for
        ``MoneyMoves.capture``."""
        return await self.moves.capture(reference, amount, key=key, reason=reason, again=again)

    async def refund(
        self, reference: str, amount: Money, *, key: str | None = None, reason: str = "", again: bool = False
    ) -> OperationResult:
        return await self.moves.refund(reference, amount, key=key, reason=reason, again=again)

    def busy_references(self) -> frozenset[str]:
        """Payments with a money-moving call committed and in flight in this desk (it will finish and
        record its outcome even if nobody waits for it). Ask before closing or switching profile."""
        return self.claims.busy()

    async def drain(self) -> None:
        """Wait until every money-moving call in flight in this desk has finished and recorded its
        outcome (``aclose`` does this first). Close the client only after this."""
        await self.claims.drain()

    # --- recovery -----------------------------------------------------------------------------------

    async def recover_pending(self) -> list[RecoveryResult]:
        return await self.recovery.recover_pending()

    async def resume_intent(self, intent_id: int) -> CancelResult | OperationResult:
        return await self.recovery.resume_intent(intent_id)

    async def abandon_intent(self, intent_id: int) -> RecoveryResult:
        return await self.recovery.abandon_intent(intent_id)

    # --- creating -----------------------------------------------------------------------------------

    async def create_payment(
        self,
        amount: Money,
        description: str,
        phone_number: str | None = None,
        user_flow: str = "PUSH_MESSAGE",
    ) -> TrackedPayment:
        return await self.creation.create_payment(amount, description, phone_number, user_flow)

    # --- the journal and the audit (read only) ------------------------------------------------------

    async def audit(self, limit: int = 1000) -> list[AuditEntry]:
        """The newest ``limit`` audit lines, newest first."""
        return await self._db(self.store.audit.entries, limit)

    async def export_payments_csv(self, rows: Iterable[TrackedPayment], path: Path) -> int:
        """The list as shown (``rows``) to a CSV file (formula-safe); reads nothing, writes no register."""
        from epay_desktop.services.exporting import write_payments_csv

        return await asyncio.to_thread(write_payments_csv, list(rows), Path(path))

    async def export_audit_csv(self, path: Path) -> int:  # reads only: fine when read-only
        return await self._db(self.store.audit.export_csv, Path(path))

    async def journal(self, limit: int = 1000) -> list[Intent]:
        return await self._db(self.store.journal.all, limit)

    async def pending_intents(self) -> list[Intent]:
        # Also those begun under the profile's earlier name (the register follows a renamed profile).
        return await self.engine.pending(everywhere=True)

    async def check_pending(self, reference: str) -> tuple[list[str], int]:
        """Settle ``reference``'s intents without a known outcome from its event log (nothing is sent):
        the messages of those the log settled, and how many stay pending."""
        messages: list[str] = []
        left = 0
        for intent in await self.engine.pending(reference=reference, everywhere=True):
            settled = await self.engine.settle(intent, None, source="recovery")
            if settled is None:
                left += 1
            else:
                messages.append(settled.message)
        return messages, left
