"""Refreshing payments from the API: all of them (F5) with progress and stop, one on selection, and an
automatic refresh of the payments that can still change. All go through the ``TaskRunner`` under one
name per kind, so the latest refresh wins and a stopped refresh leaves every finished row updated.

The flow never writes the table: the desk publishes every answer on its change feed and the table's
adapter (``ui/table/changes.py``) shows it by the one rule "the newer read wins" (a slow answer read
before the customer approved cannot undo the approval on screen). The flow reads the rows it needs
through a :class:`RegisterRows` and says when the table's clock moved (``clock_moved``).

Payments waiting for the customer (CREATED, or not fetched yet and created in this session) are polled
fast besides: every ``poll_interval_ms`` (2 s) from ``poll_delay`` (5 s) after creation, FACTS.md §12's
guideline, until they leave CREATED or their 10-minute timeout passes. Each poll is two reads (payment
and events), so one reference costs 60 reads a minute plus two per automatic refresh: within the
120 a minute the API allows per reference. A poll does not start while the previous one runs. Which
payments wait is learnt from the desk's change feed, whoever published the change.

Offline: each refresh and timer tick moves the table's ``now`` (stale rows are drawn muted). When a
refresh brings nothing but failures, one payment is read again to learn why; a network failure sets
``offline`` and ``status_changed`` says the list shows the register as of its last fetch. A desk that
gives up on a refresh with a ``NetworkError`` (a Team profile's server out of reach) sets ``offline``
too, and the status says how many payments were not refreshed and why.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from epay_desktop.api import EPaymentError, NetworkError
from epay_desktop.domain import State, TrackedPayment
from epay_desktop.domain.tracked import CUSTOMER_TIMEOUT
from epay_desktop.i18n import _, ngettext
from epay_desktop.services.changes import Change, ListLoaded, PaymentChanged
from epay_desktop.ui.aio import TaskRunner
from epay_desktop.ui.errors import redact
from epay_desktop.ui.table.cells import describe_age

if TYPE_CHECKING:
    from epay_desktop.services import DeskSurface

REFRESH = "refresh"
REFRESH_ONE = "refresh-one"
POLL = "poll"

# FACTS.md §12: Get payment and Get event log allow 120 calls a minute each per reference; a refresh
# reads both once. Polling starts 5 s after creation, then every 2 s.
READ_LIMIT_PER_MINUTE = 120
READS_PER_REFRESH = 2
POLL_INTERVAL_MS = 2_000
POLL_DELAY = timedelta(seconds=5)
POLL_CONCURRENCY = 8  # as refresh_all: many waiting payments make a slower round, never a burst


def utc_now() -> datetime:
    return datetime.now(UTC)


class RegisterRows(Protocol):
    """The rows shown, read-only (the table's adapter)."""

    def payments(self) -> Sequence[TrackedPayment]: ...

    def references(self) -> list[str]: ...

    def tracked(self, reference: str) -> TrackedPayment | None: ...

    def payments_in_states(
        self, states: Collection[State | None], *, created_since: datetime | None = None
    ) -> list[TrackedPayment]: ...

    def references_that_can_change(self) -> list[str]: ...

    def newest_fetch(self) -> datetime | None: ...


# The payments that may wait for the customer: created, or not fetched yet.
_MAY_WAIT = frozenset({State.CREATED, None})


class RefreshFlow(QObject):
    progressed = Signal(int, int)  # done, total
    started = Signal(int)  # total
    finished = Signal(int, int, bool)  # done, total, stopped
    # done, total: instead of ``finished`` when the desk gave up on the rest (a Team profile's server
    # out of reach); ``status_changed`` then says why and how many were not refreshed.
    cut_short = Signal(int, int)
    # A line for the status bar, emitted after ``finished`` (so it is the one that stays): offline,
    # online again, or how many payments could not be read.
    status_changed = Signal(str)
    clock_moved = Signal(object)  # datetime: judge staleness against this from now on

    def __init__(
        self,
        desk: DeskSurface,
        rows: RegisterRows,
        runner: TaskRunner,
        *,
        auto_interval_ms: int = 30_000,
        flush_interval: float = 0.1,
        clock: Callable[[], datetime] = utc_now,
        poll_interval_ms: int = POLL_INTERVAL_MS,
        poll_delay: timedelta = POLL_DELAY,
        customer_timeout: timedelta = CUSTOMER_TIMEOUT,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._desk = desk
        self._rows = rows
        self._runner = runner
        self._clock = clock
        self.flush_interval = flush_interval  # at most one progress signal per interval
        self.offline = False
        self.auto_timer = QTimer(self)
        self.auto_timer.setInterval(auto_interval_ms)
        self.auto_timer.timeout.connect(self._auto_tick)
        # Fast polling of the payments waiting for the customer: runs only while some wait.
        self.session_started = clock()
        self.poll_delay = poll_delay
        self.customer_timeout = customer_timeout
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(poll_interval_ms)
        self.poll_timer.timeout.connect(self.poll_waiting)
        self._waiting: dict[str, None] = {}  # an ordered set of references
        self._unsubscribe: Callable[[], None] | None = desk.changes.subscribe(self._changed)
        self._watch_listed()

    def close(self) -> None:
        """Stop the timers and stop following the desk's changes (the window closes)."""
        self.auto_timer.stop()
        self.poll_timer.stop()
        if self._unsubscribe is not None:
            unsubscribe, self._unsubscribe = self._unsubscribe, None
            unsubscribe()

    # --- slots (one line each) ----------------------------------------------------------------------
    def refresh_everything(self) -> None:
        self._runner.start(REFRESH, self.refresh(self._rows.references()))

    def _auto_tick(self) -> None:
        self.clock_moved.emit(self._clock())
        self.refresh_changing()

    def refresh_changing(self) -> None:
        if self._runner.is_running(REFRESH):
            return  # a refresh is running; it will bring these too
        references = self._rows.references_that_can_change()
        if references:
            self._runner.start(REFRESH, self.refresh(references))

    def refresh_one(self, reference: str) -> None:
        self._runner.start(REFRESH_ONE, self.refresh_single(reference))

    def stop(self) -> None:
        self._runner.cancel(REFRESH)

    def poll_waiting(self) -> None:
        """Timer slot: poll the waiting payments that are due (the previous poll must have ended)."""
        if self._runner.closed:
            self.poll_timer.stop()
            return
        due = self.due_for_polling(self._clock())
        if not self._waiting:
            self.poll_timer.stop()
        if due and not self._runner.is_running(POLL):
            self._runner.start(POLL, self.poll(due))

    def waiting(self) -> list[str]:
        return list(self._waiting)

    def is_running(self) -> bool:
        return self._runner.is_running(REFRESH)

    # --- which payments wait for the customer -------------------------------------------------------
    def due_for_polling(self, now: datetime) -> list[str]:
        """Forget the payments that stopped waiting; return those waiting for ``poll_delay`` or more."""
        due: list[str] = []
        for reference in list(self._waiting):
            tracked = self._rows.tracked(reference)
            if tracked is None or not self._waits(tracked, now):
                del self._waiting[reference]
            elif tracked.created_at is not None and _age(now, tracked.created_at) >= self.poll_delay:
                due.append(reference)
        return due

    def _waits(self, tracked: TrackedPayment, now: datetime) -> bool:
        return tracked.waits_for_customer(
            now, created_since=self.session_started, timeout=self.customer_timeout
        )

    def _changed(self, changes: Sequence[Change]) -> None:
        self._watch(c.tracked for c in changes if isinstance(c, PaymentChanged))
        if any(isinstance(c, ListLoaded) for c in changes):
            self._watch_listed()

    def _watch_listed(self) -> None:
        """``_watch`` the rows that may wait: created lately (older ones cannot), not closed."""
        since = self._clock() - self.customer_timeout
        self._watch(self._rows.payments_in_states(_MAY_WAIT, created_since=since))

    def _watch(self, payments: Iterable[TrackedPayment]) -> None:
        now = self._clock()
        for tracked in payments:
            # Only CREATED or never fetched can wait: the cheap test first (a refresh publishes many).
            if tracked.payment is not None and tracked.payment.state is not State.CREATED:
                continue
            if self._waits(tracked, now):
                self._waiting[tracked.reference] = None
        if self._waiting and not self.poll_timer.isActive():
            self.poll_timer.start()

    # --- coroutines ---------------------------------------------------------------------------------
    async def poll(self, references: Iterable[str]) -> None:
        """Refresh the waiting payments once, side by side; failures mark their rows, never raise."""
        refs = list(references)
        gate = asyncio.Semaphore(POLL_CONCURRENCY)
        answers = await asyncio.gather(*(self._read(r, gate) for r in refs))
        errors = [a for a in answers if not isinstance(a, TrackedPayment)]
        network = next((e for e in errors if isinstance(e, NetworkError)), None)
        if network is not None and not self.offline:
            self._go_offline(network)
        elif network is None and self.offline and len(errors) < len(answers):
            self.offline = False
            self.status_changed.emit(_("Online again."))

    async def _read(self, reference: str, gate: asyncio.Semaphore) -> TrackedPayment | EPaymentError:
        async with gate:
            try:
                return await self._desk.refresh(reference)
            except EPaymentError as error:
                return error  # the desk published the row with its fetch error

    async def refresh(self, references: Iterable[str]) -> int:
        refs = list(references)
        total = len(refs)
        done = 0
        stopped = True
        failed: list[str] = []
        sent_at = utc_now()  # compared with fetched_at, which the register stamps with the wall clock
        loop = asyncio.get_running_loop()
        last_progress = loop.time()
        self.clock_moved.emit(self._clock())
        self.started.emit(total)
        self.progressed.emit(0, total)
        stream = self._desk.refresh_all(refs)
        unreachable: NetworkError | None = None
        try:
            try:
                async for tracked in stream:
                    done += 1
                    if _failed(tracked, sent_at):
                        failed.append(tracked.reference)
                    if loop.time() - last_progress >= self.flush_interval:
                        last_progress = loop.time()
                        self.progressed.emit(done, total)
            except NetworkError as error:
                # The desk gave up on the rest (a Team profile's server is out of reach): the rows not
                # read yet stay as they were, and the status says so (``cut_short``, not "N of M").
                unreachable = error
            stopped = False
        finally:
            await _close(stream)  # the desk publishes what was refreshed, also when stopped
            self.clock_moved.emit(self._clock())
            self.progressed.emit(done, total)
            if unreachable is None:
                self.finished.emit(done, total, stopped)
            else:
                self.cut_short.emit(done, total)
        if unreachable is not None:
            self._go_offline(unreachable, not_refreshed=total - done)
            return done
        await self._report(done, failed)
        return done

    async def refresh_single(self, reference: str) -> TrackedPayment:
        try:
            return await self._desk.refresh(reference)
        except NetworkError:
            self.offline = True
            raise

    # --- offline ------------------------------------------------------------------------------------
    async def _report(self, done: int, failed: list[str]) -> None:
        """After a refresh ran to its end: say offline, online again, or what could not be read."""
        if done and len(failed) == done:
            # Nothing came back: read one payment again to learn why (the batch only kept the text).
            try:
                await self._desk.refresh(failed[0])
            except NetworkError as error:
                self._go_offline(error)
                return
            except EPaymentError as error:
                could_not = ngettext(
                    "Could not refresh {count} payment: {reason}",
                    "Could not refresh {count} payments: {reason}",
                    done,
                )
                self.status_changed.emit(redact(could_not.format(count=done, reason=error)))
                return
            failed.pop(0)
        was_offline, self.offline = self.offline, False
        if failed:
            refreshed = ngettext(
                "Refreshed {done} payment; {count} could not be read (see the Last updated tips).",
                "Refreshed {done} payments; {count} could not be read (see the Last updated tips).",
                done,
            )
            self.status_changed.emit(refreshed.format(done=done, count=len(failed)))
        elif was_offline:
            online = ngettext(
                "Online again: refreshed {count} payment.", "Online again: refreshed {count} payments.", done
            )
            self.status_changed.emit(online.format(count=done))

    def _go_offline(self, error: BaseException, *, not_refreshed: int = 0) -> None:
        self.offline = True
        if not_refreshed:
            cut_short = ngettext(
                "Offline: {count} payment not refreshed. {reason}",
                "Offline: {count} payments not refreshed. {reason}",
                not_refreshed,
            )
            self.status_changed.emit(redact(cut_short.format(count=not_refreshed, reason=error)))
            return
        newest = self._rows.newest_fetch()
        if newest is not None:
            text = _(
                "Offline: could not reach the API ({reason}). The list shows the register as of its last "
                "fetch ({age})."
            ).format(reason=error, age=describe_age(self._clock() - newest))
        else:
            text = _(
                "Offline: could not reach the API ({reason}). The list shows the register as of its last "
                "fetch."
            ).format(reason=error)
        self.status_changed.emit(redact(text))


def _age(now: datetime, moment: datetime) -> timedelta:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return now - aware


def _failed(tracked: TrackedPayment, sent_at: datetime) -> bool:
    """The refresh of ``tracked`` did not bring a new snapshot (a read-only register keeps no error)."""
    return bool(tracked.fetch_error) or tracked.fetched_at is None or tracked.fetched_at < sent_at


async def _close(stream: AsyncIterator[TrackedPayment]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
