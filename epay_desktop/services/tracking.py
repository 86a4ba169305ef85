"""The register part of ``PaymentDesk``: the state every part shares, tracking, refreshing and the audit.

Every SQLite call goes through ``asyncio.to_thread`` (``_db``): the GUI thread never blocks on the disk.
"""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from epay_desktop.api import EPaymentClient, EPaymentError, redact
from epay_desktop.domain import Money, Payment, PaymentEvent, TrackedPayment
from epay_desktop.services.errors import DeskError, ReadOnlyRegisterError, said
from epay_desktop.services.importing import parse_csv, parse_references
from epay_desktop.services.profiles import Profile
from epay_desktop.services.results import AddReport, ImportReport
from epay_desktop.store import AuditEntry, Intent, NewEntry, Operation, SnapshotError, Store

if TYPE_CHECKING:
    from epay_desktop.services.demo import DemoControls

P = ParamSpec("P")
T = TypeVar("T")


def current_os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return "unknown"


class TrackingDesk:
    """The state of one profile's desk and its register use cases. Not used alone: ``PaymentDesk``
    (``services/desk.py``) adds the journaled money movement, recovery and creating payments."""

    def __init__(
        self,
        profile: Profile,
        client: EPaymentClient,
        store: Store,
        *,
        demo: DemoControls | None = None,
        operator: str | None = None,
    ) -> None:
        self._profile = profile
        self.client = client
        self.store = store
        self.msn = profile.merchant_serial_number
        self.operator = operator or current_os_user()
        self._demo = demo
        # The money-moving part's state (``moving.py``). Payments with a money-moving call running in
        # this desk (reference -> operation). Set and checked without an await in between, so two
        # calls on one payment cannot both start.
        self._in_flight: dict[str, Operation] = {}
        # The shielded tasks that commit and send (strong references; see ``MovingDesk._shielded``).
        self._moving: dict[str, asyncio.Task[Any]] = {}

    @property
    def read_only(self) -> bool:
        return self.store.db.read_only

    @property
    def damage(self) -> str:
        """What is wrong with a register opened read-only ("" when nothing was found)."""
        lost = self.store.register.unreadable_rows
        found = self.store.db.damage
        if lost:
            found = (
                f"{found}; {lost} row(s) could not be read" if found else f"{lost} row(s) could not be read"
            )
        return found

    def _writable(self, doing: str) -> None:
        if self.read_only:
            why = "it is damaged" if self.store.db.damage else "it was opened read-only"
            raise ReadOnlyRegisterError(
                f"Cannot {doing}: the register {self.store.path.name} is open read-only ({why}). "
                "Nothing was sent. Open a working register to do this."
            )

    @property
    def profile(self) -> Profile:
        return self._profile

    @property
    def demo(self) -> DemoControls | None:
        return self._demo

    async def _db(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(work, *args, **kwargs)

    # --- the register -----------------------------------------------------------------------------

    async def load_register(self) -> list[TrackedPayment]:
        """Every tracked payment with its last snapshot, from SQLite only (instant, works offline)."""
        return await self._db(self.store.register.all, self.msn)

    async def tracked(self, reference: str) -> TrackedPayment | None:
        return await self._db(self.store.register.get, self.msn, reference)

    async def events_of(self, reference: str) -> tuple[PaymentEvent, ...] | None:
        """The saved event log of one payment (the list is loaded without them); None when none was
        saved yet. Raises ``DeskError`` when the saved log cannot be read (a refresh replaces it)."""
        try:
            return await self._db(self.store.register.events_of, self.msn, reference)
        except SnapshotError as problem:
            raise DeskError(
                f"The saved event log of {reference} could not be read ({problem}); refresh the payment."
            ) from problem

    async def _fetch(self, reference: str) -> tuple[Payment, list[PaymentEvent]]:
        try:
            async with asyncio.TaskGroup() as group:
                payment = group.create_task(self.client.get_payment(reference))
                events = group.create_task(self.client.get_events(reference))
        except BaseExceptionGroup as errors:
            raise _first(errors) from None
        return payment.result(), events.result()

    async def refresh(self, reference: str) -> TrackedPayment:
        """GET the payment and its events; the snapshot is saved. On failure the old snapshot is kept,
        ``fetch_error`` is recorded, and the client's error is raised."""
        asked_at = datetime.now(UTC)  # an older answer arriving late must not overwrite a newer one
        try:
            payment, events = await self._fetch(reference)
        except EPaymentError as error:
            if not self.read_only:
                await self._db(self.store.register.save_fetch_error, self.msn, reference, said(error))
            raise
        if self.read_only:
            # Shown, not saved: the register cannot be written.
            kept = await self.tracked(reference)
            return TrackedPayment(
                reference,
                self.msn,
                payment=payment,
                events=tuple(events),
                description=kept.description if kept else payment.description,
                created_at=kept.created_at if kept else None,
                fetched_at=datetime.now(UTC),
            )
        return await self._db(
            self.store.register.save_snapshot, self.msn, payment, events, fetched_at=asked_at
        )

    async def refresh_all(
        self, references: Iterable[str], concurrency: int = 8
    ) -> AsyncIterator[TrackedPayment]:
        """Yield each payment as its refresh finishes (a failed one comes back with ``fetch_error``).
        Stopping the iteration (or cancelling the task) cancels the refreshes still running."""
        gate = asyncio.Semaphore(max(1, concurrency))

        async def one(reference: str) -> TrackedPayment:
            async with gate:
                try:
                    return await self.refresh(reference)
                except EPaymentError as error:
                    kept = await self.tracked(reference)
                    return kept or TrackedPayment(reference, self.msn, fetch_error=said(error))

        tasks = [asyncio.ensure_future(one(r)) for r in dict.fromkeys(references)]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def add_references(self, text_or_list: str | Iterable[str]) -> AddReport:
        """Track pasted references (checked one by one; nothing is fetched here)."""
        self._writable("add payments")
        good, rejected = parse_references(text_or_list)
        added, existing = await self._db(
            self.store.register.add, self.msn, [NewEntry(c.reference, source="added") for c in good]
        )
        report = AddReport(tuple(added), tuple(existing), tuple(rejected))
        if added or rejected:
            await self._audit("add", "ok" if not rejected else "partly", _one(added), report.summary())
        return report

    async def import_csv(self, path: Path) -> ImportReport:
        """Track the references of a CSV file. Bad rows (broken quoting, too many columns, a bad
        reference) are reported by line and every good row is added; ``CsvImportError`` only when the
        file as a whole cannot be read or has no ``reference`` header (nothing is added then)."""
        self._writable("import payments")
        read = await self._db(parse_csv, Path(path))
        entries = [NewEntry(c.reference, description=c.description, source="imported") for c in read.good]
        added, existing = await self._db(self.store.register.add, self.msn, entries)
        report = ImportReport(
            str(path),
            read.rows,
            tuple(added),
            tuple(existing),
            tuple(read.rejected),
            duplicates=tuple(read.duplicates),
        )
        await self._audit(
            "import", "ok" if report.ok else "partly", "", f"{Path(path).name}: {report.summary()}"
        )
        return report

    # --- audit -------------------------------------------------------------------------------------

    async def _audit(
        self, action: str, result: str, reference: str = "", detail: str = "", amount: Money | None = None
    ) -> None:
        await self._db(
            self.store.audit.record,
            os_user=self.operator,
            profile=self._profile.name,
            msn=self.msn,
            action=action,
            result=result,
            reference=reference,
            amount=amount,
            detail=redact(detail),
        )

    async def audit(self, limit: int = 1000) -> list[AuditEntry]:
        """The newest ``limit`` audit lines, newest first."""
        return await self._db(self.store.audit.entries, limit)

    async def export_audit_csv(self, path: Path) -> int:  # reads only: fine when read-only
        return await self._db(self.store.audit.export_csv, Path(path))

    async def journal(self, limit: int = 1000) -> list[Intent]:
        return await self._db(self.store.journal.all, limit)

    async def pending_intents(self) -> list[Intent]:
        return await self._db(self.store.journal.pending, profile=self._profile.name, msn=self.msn)


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    leaves: list[BaseException] = []

    def walk(error: BaseException) -> None:
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                walk(inner)
        else:
            leaves.append(error)

    walk(group)
    for leaf in leaves:
        if not isinstance(leaf, asyncio.CancelledError):
            return leaf
    return leaves[0]


def _one(references: list[str]) -> str:
    return references[0] if len(references) == 1 else ""
