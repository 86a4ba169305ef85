"""What every part of one desk shares: the profile, the client, the register (its SQLite file), who
operates it, whether it is read-only, and the change feed. Every SQLite call goes through
``asyncio.to_thread`` (:meth:`DeskContext.db`): the GUI thread never blocks on the disk."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Callable
from dataclasses import replace
from typing import ParamSpec, TypeVar

from epay_desktop.api import EPaymentClient, redact
from epay_desktop.domain import Money, State, TrackedPayment
from epay_desktop.domain.listed import ListedPayments
from epay_desktop.i18n import _, ngettext
from epay_desktop.services.changes import ChangeFeed
from epay_desktop.services.errors import ReadOnlyRegisterError
from epay_desktop.services.profiles import Profile
from epay_desktop.store import Store

P = ParamSpec("P")
T = TypeVar("T")


def current_os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return "unknown"


class DeskContext:
    """The shared state of one profile's desk (each part holds it; none holds another's state)."""

    def __init__(self, profile: Profile, client: EPaymentClient, store: Store, *, operator: str) -> None:
        self.profile = profile
        self.client = client
        self.store = store
        self.operator = operator
        self.msn = profile.merchant_serial_number
        # Every new snapshot a use case produces is published here too (views subscribe).
        self.changes = ChangeFeed()
        # References the sandbox says are in 3-D Secure right now (Demo only: the real API never says);
        # kept by the demo controls, applied to every snapshot read (see ``with_authorizing``).
        self.authorizing: set[str] = set()

    def with_authorizing(self, tracked: TrackedPayment) -> TrackedPayment:
        """``tracked`` marked as authorizing while the sandbox said so and it still waits (CREATED)."""
        if tracked.reference not in self.authorizing:
            return tracked
        if tracked.payment is not None and tracked.payment.state is not State.CREATED:
            self.authorizing.discard(tracked.reference)
            return tracked
        return replace(tracked, authorizing=True)

    def mark_authorizing(self, listed: ListedPayments) -> None:
        """``with_authorizing`` for a whole list (one pass over its references, and only in a Demo
        whose sandbox said some customer is in 3-D Secure)."""
        if not self.authorizing:
            return
        for row, reference in enumerate(listed.references):
            if reference in self.authorizing:
                if listed.state_at(row) in (State.CREATED, None):
                    listed.mark_authorizing(reference)
                else:
                    self.authorizing.discard(reference)

    @property
    def read_only(self) -> bool:
        return self.store.db.read_only

    @property
    def damage(self) -> str:
        """What is wrong with a register opened read-only ("" when nothing was found)."""
        lost = self.store.register.unreadable_rows
        found = self.store.db.damage
        if lost:
            rows = ngettext("{count} row could not be read", "{count} rows could not be read", lost).format(
                count=lost
            )
            found = _("{damage}; {rows}").format(damage=found, rows=rows) if found else rows
        return found

    @property
    def skipped_rows(self) -> list[str]:
        """Register rows the last load left out, each "reference (why)": a cell in them cannot be read."""
        return list(self.store.register.skipped_rows)

    @property
    def skipped_intents(self) -> list[str]:
        """Journal entries the last read of the journal left out (a cell in them cannot be read)."""
        return list(self.store.journal.skipped)

    def writable(self, cannot: str) -> None:
        """Raise ``ReadOnlyRegisterError`` (nothing sent) when the register cannot be written.
        ``cannot`` is the caller's own whole sentence, already translated (``_("Cannot add payments.")``):
        an operation word is never put into another sentence."""
        if self.read_only:
            if self.store.db.damage:
                why = _("The register {name} is open read-only because it is damaged.")
            else:
                why = _("The register {name} was opened read-only.")
            then = _("Nothing was sent. Open a working register to do this.")
            raise ReadOnlyRegisterError(f"{cannot} {why.format(name=self.store.path.name)} {then}")

    async def db(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a (blocking) register call on a worker thread."""
        return await asyncio.to_thread(work, *args, **kwargs)

    async def record(
        self, action: str, result: str, reference: str = "", detail: str = "", amount: Money | None = None
    ) -> None:
        """One audit line, by this desk's operator (secrets removed from ``detail``)."""
        await self.db(
            self.store.audit.record,
            os_user=self.operator,
            profile=self.profile.name,
            msn=self.msn,
            action=action,
            result=result,
            reference=reference,
            amount=amount,
            detail=redact(detail),
        )
