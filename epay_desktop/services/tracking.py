"""Register tracking: which payments one desk follows, their last snapshots, refreshing them, and every
new snapshot published on the context's change feed ("the newer read wins" compares ``asked_at``).

It is also where the journaled-send engine hands the payments it reads (:class:`RegisterTracking` is
the desk's ``engine.Snapshots``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from epay_desktop.api import EPaymentError
from epay_desktop.domain import Payment, PaymentEvent, TrackedPayment
from epay_desktop.domain.listed import ListedPayments
from epay_desktop.i18n import _
from epay_desktop.services.bounded import as_they_finish
from epay_desktop.services.changes import ListLoaded, PaymentChanged, PaymentsRemoved
from epay_desktop.services.context import DeskContext
from epay_desktop.services.errors import DeskError, said
from epay_desktop.services.importing import parse_csv, parse_references
from epay_desktop.services.reading import read_with_events
from epay_desktop.services.results import AddReport, ImportReport
from epay_desktop.store import NewEntry, PaymentStore, SnapshotError

__all__ = ["NEVER", "PUBLISH_EVERY", "FreshRead", "RegisterTracking"]

_log = logging.getLogger(__name__)

# When nothing was ever read from the API: older than any read ("the newer read wins").
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FreshRead:
    """One refresh, not yet published: the change (for a failed read, the register's row with its
    ``fetch_error`` when it has one) and the client's error when the read failed."""

    change: PaymentChanged | None
    error: EPaymentError | None


# How often a long refresh publishes what it read so far (seconds of the loop's clock).
PUBLISH_EVERY = 0.1


class RegisterTracking:
    """The register use cases of one desk: load, refresh (one or many), add, import."""

    def __init__(self, context: DeskContext) -> None:
        self.context = context
        self._offered: ListedPayments | None = None

    def offer_list(self, payments: ListedPayments) -> None:
        """See ``PaymentDesk.offer_list``: used once, by the next ``load``."""
        self._offered = payments

    # --- reading ----------------------------------------------------------------------------------

    async def load(self) -> ListedPayments:
        """Every tracked payment with its last snapshot, from SQLite only (instant, works offline),
        column by column (a row's record is built when it is asked for). Published too, in one change
        (``ListLoaded``: each row as of the read that produced its snapshot)."""
        ctx = self.context
        offered, self._offered = self._offered, None
        listed = offered if offered is not None else await ctx.db(ctx.store.register.listed, ctx.msn)
        ctx.mark_authorizing(listed)
        ctx.changes.publish(ListLoaded(listed))
        return listed

    async def tracked(self, reference: str) -> TrackedPayment | None:
        ctx = self.context
        tracked = await ctx.db(ctx.store.register.get, ctx.msn, reference)
        return ctx.with_authorizing(tracked) if tracked is not None else None

    async def events_of(self, reference: str) -> tuple[PaymentEvent, ...] | None:
        """The saved event log of one payment (the list is loaded without them); None when none was
        saved yet. Raises ``DeskError`` when the saved log cannot be read (a refresh replaces it)."""
        ctx = self.context
        try:
            return await ctx.db(ctx.store.register.events_of, ctx.msn, reference)
        except SnapshotError as problem:
            raise DeskError(
                _(
                    "The saved event log of {reference} could not be read ({reason}); refresh the payment."
                ).format(reference=reference, reason=problem)
            ) from problem

    async def refresh(self, reference: str, *, source: str = "refresh") -> TrackedPayment:
        """GET the payment and its events; the snapshot is saved and published. On failure the old
        snapshot is kept, ``fetch_error`` is recorded (and published), and the client's error is
        raised."""
        fresh = await self.read_fresh(reference, source)
        if fresh.change is not None:
            self.context.changes.publish(fresh.change)
        if fresh.error is not None:
            raise fresh.error
        assert fresh.change is not None
        return fresh.change.tracked

    async def read_fresh(self, reference: str, source: str) -> FreshRead:
        """One refresh, saved but not published (the caller publishes, e.g. in one batch)."""
        ctx = self.context
        asked_at = datetime.now(UTC)  # an older answer arriving late must not overwrite a newer one
        try:
            payment, events = await read_with_events(ctx.client, reference)
        except EPaymentError as error:
            if ctx.read_only:
                return FreshRead(None, error)
            row = await ctx.db(ctx.store.register.save_fetch_error, ctx.msn, reference, said(error))
            return FreshRead(PaymentChanged(row, asked_at, source) if row is not None else None, error)
        if ctx.read_only:
            # Shown, not saved: the register cannot be written.
            kept = await self.tracked(reference)
            shown = ctx.with_authorizing(
                TrackedPayment(
                    reference,
                    ctx.msn,
                    payment=payment,
                    events=tuple(events),
                    description=kept.description if kept else payment.description,
                    created_at=kept.created_at if kept else None,
                    fetched_at=datetime.now(UTC),
                )
            )
            return FreshRead(PaymentChanged(shown, asked_at, source), None)
        tracked = await ctx.db(
            ctx.store.register.save_snapshot, ctx.msn, payment, events, fetched_at=asked_at
        )
        return FreshRead(_changed(ctx.with_authorizing(tracked), asked_at, source), None)

    async def refresh_all(
        self, references: Iterable[str], concurrency: int = 8
    ) -> AsyncIterator[TrackedPayment]:
        """Yield each payment as its refresh finishes (a failed one comes back with ``fetch_error``).
        Stopping the iteration (or cancelling the task) cancels the refreshes still running. What was
        refreshed is published in batches as the answers arrive (whenever ``PUBLISH_EVERY`` passed since
        the last batch, so rows fill in during a long refresh without a table update per answer) and the
        rest when the iteration ends (also when stopped early)."""
        done: list[PaymentChanged] = []
        loop = asyncio.get_running_loop()
        last_published = loop.time()

        def publish_done() -> None:
            nonlocal last_published
            batch = tuple(done)
            done.clear()
            last_published = loop.time()
            self.context.changes.publish(*batch)

        async def one(reference: str) -> TrackedPayment:
            fresh = await self.read_fresh(reference, "refresh")
            change = fresh.change
            if change is None:
                assert fresh.error is not None
                kept = await self.tracked(reference)
                lost = TrackedPayment(reference, self.context.msn, fetch_error=said(fresh.error))
                change = PaymentChanged(kept or lost, datetime.now(UTC), "refresh")
            done.append(change)
            return change.tracked

        try:
            # At most ``concurrency`` at a time, one started per pass of the loop (``bounded``).
            refreshes = as_they_finish(dict.fromkeys(references), one, concurrency)
            async with contextlib.aclosing(refreshes) as finished:
                async for task in finished:
                    if loop.time() - last_published >= PUBLISH_EVERY:
                        publish_done()
                    yield task.result()
        finally:
            publish_done()

    # --- keeping what was read (the engine's Snapshots) -----------------------------------------------

    async def keep(
        self,
        payment: Payment,
        events: list[PaymentEvent] | None,
        *,
        asked_at: datetime,
        source: str,
        fetch_error: str = "",
    ) -> TrackedPayment:
        """Save what a read asked for at ``asked_at`` showed (``events=None`` keeps the events saved
        before), and publish the register's row."""
        ctx = self.context
        tracked = await ctx.db(
            ctx.store.register.save_snapshot,
            ctx.msn,
            payment,
            events,
            fetched_at=asked_at,
            fetch_error=fetch_error,
        )
        tracked = ctx.with_authorizing(tracked)
        ctx.changes.publish(_changed(tracked, asked_at, source))
        return tracked

    async def read_again(self, reference: str, source: str) -> None:
        """Refresh after a refusal; a failure is only logged (the refusal is what the person sees)."""
        try:
            await self.refresh(reference, source=source)
        except EPaymentError as error:
            _log.info("refresh of %s after a refusal failed: %s", reference, error)

    async def note_fetch_error(
        self, reference: str, error: EPaymentError, *, asked_at: datetime, source: str
    ) -> None:
        """Record (and publish) why reading ``reference`` failed; its previous snapshot is kept."""
        ctx = self.context
        row = await ctx.db(ctx.store.register.save_fetch_error, ctx.msn, reference, said(error))
        if row is not None:
            ctx.changes.publish(PaymentChanged(row, asked_at, source))

    # --- adding -------------------------------------------------------------------------------------

    async def track(self, entries: list[NewEntry]) -> tuple[list[str], list[str]]:
        """Track new references (nothing fetched, nothing published): (added, already tracked)."""
        ctx = self.context
        return await ctx.db(ctx.store.register.add, ctx.msn, entries)

    async def untrack(self, reference: str) -> None:
        ctx = self.context
        await ctx.db(ctx.store.register.remove, ctx.msn, reference)

    async def remove(self, references: Iterable[str]) -> list[TrackedPayment]:
        """Take payments out of the register (the API is never asked: the payments themselves do not
        change) and publish ``PaymentsRemoved``; returns the rows as they were, for :meth:`restore`."""
        ctx = self.context
        ctx.writable(_("Cannot remove payments from the register."))
        removed: list[TrackedPayment] = []
        for reference in dict.fromkeys(references):
            row = await ctx.db(ctx.store.register.get, ctx.msn, reference)
            if row is not None and await ctx.db(ctx.store.register.remove, ctx.msn, reference):
                removed.append(row)
        if removed:
            ctx.changes.publish(PaymentsRemoved(tuple(t.reference for t in removed)))
            await ctx.record(
                "remove",
                "ok",
                _one([t.reference for t in removed]),
                f"removed from the register (not the API): {', '.join(t.reference for t in removed)}"[:500],
            )
        return removed

    async def restore(self, rows: Iterable[TrackedPayment]) -> list[str]:
        """Undo :meth:`remove`: the rows come back as they were (description, created time, the last
        snapshot and its events) and are published; returns the references restored."""
        ctx = self.context
        ctx.writable(_("Cannot restore payments to the register."))
        kept = list(rows)
        entries = [NewEntry(t.reference, t.description, t.created_at, source="restored") for t in kept]
        added, _existing = await self.track(entries)
        back = set(added)
        for row in kept:
            if row.reference not in back:
                continue
            if row.payment is not None:
                await ctx.db(
                    ctx.store.register.save_snapshot,
                    ctx.msn,
                    row.payment,
                    # ``remove`` read the rows with their logs: None is a log never saved.
                    list(row.events) if row.events is not None else None,
                    fetched_at=row.fetched_at,
                )
            if row.fetch_error:  # its last refresh's failure (a 404: unknown to the API) comes back too
                await ctx.db(ctx.store.register.save_fetch_error, ctx.msn, row.reference, row.fetch_error)
        await self.publish_rows(added, "add")
        if added:
            await ctx.record("restore", "ok", _one(added), f"back in the register: {', '.join(added)}"[:500])
        return [r for r in (t.reference for t in kept) if r in back]

    async def set_redirect_url(self, reference: str, url: str) -> None:
        ctx = self.context
        await ctx.db(ctx.store.register.set_redirect_url, ctx.msn, reference, url)

    async def add_references(self, text_or_list: str | Iterable[str]) -> AddReport:
        """Track pasted references (checked one by one; nothing is fetched here)."""
        self.context.writable(_("Cannot add payments."))
        good, rejected = parse_references(text_or_list)
        added, existing = await self.track([NewEntry(c.reference, source="added") for c in good])
        report = AddReport(tuple(added), tuple(existing), tuple(rejected))
        await self.publish_rows(added, "add")
        if added or rejected:
            await self.context.record(
                "add", "ok" if not rejected else "partly", _one(added), report.summary()
            )
        return report

    async def import_csv(self, path: Path) -> ImportReport:
        """Track the references of a CSV file. Bad rows (broken quoting, too many columns, a bad
        reference) are reported by line and every good row is added; ``CsvImportError`` only when the
        file as a whole cannot be read or has no ``reference`` header (nothing is added then)."""
        self.context.writable(_("Cannot import payments."))
        read = await self.context.db(parse_csv, Path(path))
        entries = [NewEntry(c.reference, description=c.description, source="imported") for c in read.good]
        added, existing = await self.track(entries)
        report = ImportReport(
            str(path),
            read.rows,
            tuple(added),
            tuple(existing),
            tuple(read.rejected),
            duplicates=tuple(read.duplicates),
        )
        await self.publish_rows(added, "add")
        await self.context.record(
            "import", "ok" if report.ok else "partly", "", f"{Path(path).name}: {report.summary()}"
        )
        return report

    async def publish_rows(self, references: Iterable[str], source: str) -> None:
        """Publish the register's rows of ``references`` (just tracked: nothing read from the API yet)."""
        wanted = list(references)
        if not wanted:
            return
        ctx = self.context
        asked_at = datetime.now(UTC)
        rows = await ctx.db(_rows, ctx.store, ctx.msn, wanted)
        ctx.changes.publish(*(PaymentChanged(t, asked_at, source) for t in rows))


def _changed(tracked: TrackedPayment, asked_at: datetime, source: str) -> PaymentChanged:
    """The register's row as a change: when the register kept a newer snapshot than this read's
    (an older answer that arrived late), that one is published, as of its own read."""
    fetched = tracked.fetched_at
    return PaymentChanged(
        tracked, fetched if fetched is not None and fetched > asked_at else asked_at, source
    )


def _rows(store: PaymentStore, msn: str, references: list[str]) -> list[TrackedPayment]:
    rows = (store.register.get(msn, reference) for reference in references)
    return [row for row in rows if row is not None]


def _one(references: list[str]) -> str:
    return references[0] if len(references) == 1 else ""
