"""Refreshing payments from the API: all of them (F5) with progress and stop, one on selection, and an
automatic refresh of the payments that can still change. All go through the ``TaskRunner`` under one
name per kind, so the latest refresh wins and a stopped refresh leaves every finished row updated.

Rows are updated in batches (at most every ``flush_interval`` seconds) so a thousand answers cost a
handful of ``dataChanged`` signals, not a thousand repaints.

Payments waiting for the customer (CREATED, or not fetched yet and created in this session) are polled
fast besides: every ``poll_interval_ms`` (2 s) from ``poll_delay`` (5 s) after creation, FACTS.md §12's
guideline, until they leave CREATED or their 10-minute timeout passes. Each poll is two reads (payment
and events), so one reference costs 60 reads a minute plus two per automatic refresh: within the
120 a minute the API allows per reference. A poll does not start while the previous one runs.

The latest refresh wins: every refresh, poll and single refresh takes a generation number when it
starts, and an answer is shown only if no answer from a later-started one was shown already for that
payment (a slow answer read before the customer approved cannot undo the approval on screen).

Offline: each refresh and timer tick moves the model's ``now`` (stale rows are drawn muted). When a
refresh brings nothing but failures, one payment is read again to learn why; a network failure sets
``offline`` and ``status_changed`` says the list shows the register as of its last fetch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, QTimer, Signal

from epay_desktop.api import EPaymentError, NetworkError
from epay_desktop.domain import State, TrackedPayment
from epay_desktop.domain.tracked import CUSTOMER_TIMEOUT
from epay_desktop.ui.aio import TaskRunner
from epay_desktop.ui.errors import redact
from epay_desktop.ui.payments_model import PaymentsModel, describe_age

if TYPE_CHECKING:
    from epay_desktop.services import PaymentDesk

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
_WATCH_CHANGED_ROWS = 64  # larger dataChanged ranges come from refreshes, which watch their own rows


def utc_now() -> datetime:
    return datetime.now(UTC)


class RefreshFlow(QObject):
    progressed = Signal(int, int)  # done, total
    started = Signal(int)  # total
    finished = Signal(int, int, bool)  # done, total, stopped
    # A line for the status bar, emitted after ``finished`` (so it is the one that stays): offline,
    # online again, or how many payments could not be read.
    status_changed = Signal(str)

    def __init__(
        self,
        desk: PaymentDesk,
        model: PaymentsModel,
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
        self._model = model
        self._runner = runner
        self._clock = clock
        self.flush_interval = flush_interval
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
        self._generation = 0
        self._shown: dict[str, int] = {}  # reference -> generation of the answer shown
        self._in_flight = 0
        model.modelReset.connect(self._watch_all)
        # Bound methods, not lambdas: Qt drops these connections when this flow is destroyed.
        model.rowsInserted.connect(self._rows_inserted)
        model.dataChanged.connect(self._rows_changed)
        self._watch_all()

    # --- slots (one line each) ----------------------------------------------------------------------
    def refresh_everything(self) -> None:
        self._runner.start(REFRESH, self.refresh(self._model.references()))

    def _auto_tick(self) -> None:
        self._model.set_now(self._clock())
        self.refresh_changing()

    def refresh_changing(self) -> None:
        if self._runner.is_running(REFRESH):
            return  # a refresh is running; it will bring these too
        references = [t.reference for t in self._model.payments() if t.can_still_change()]
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
            tracked = self._model.tracked(reference)
            if tracked is None or not self._waits(tracked, now):
                del self._waiting[reference]
            elif tracked.created_at is not None and _age(now, tracked.created_at) >= self.poll_delay:
                due.append(reference)
        return due

    def _waits(self, tracked: TrackedPayment, now: datetime) -> bool:
        return tracked.waits_for_customer(
            now, created_since=self.session_started, timeout=self.customer_timeout
        )

    def _watch(self, rows: Iterable[int]) -> None:
        now = self._clock()
        for row in rows:
            tracked = self._model.tracked_at(row)
            if self._waits(tracked, now):
                self._waiting[tracked.reference] = None
        if self._waiting and not self.poll_timer.isActive():
            self.poll_timer.start()

    def _watch_all(self) -> None:
        self._watch(self._model.rows_in_states((State.CREATED, None)))

    def _rows_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        self._watch_rows(first, last)

    def _rows_changed(self, top: QModelIndex, bottom: QModelIndex, _roles: object = None) -> None:
        self._watch_rows(top.row(), bottom.row())

    def _watch_rows(self, first: int, last: int) -> None:
        if 0 <= first <= last and last - first < _WATCH_CHANGED_ROWS:
            self._watch(range(first, last + 1))

    # --- the latest refresh wins --------------------------------------------------------------------
    def _begin(self) -> int:
        self._generation += 1
        self._in_flight += 1
        return self._generation

    def _end(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self._shown.clear()  # nothing in flight: no late answer can arrive

    def _show(self, answers: Iterable[TrackedPayment], generation: int) -> None:
        newest: list[TrackedPayment] = []
        for tracked in answers:
            if self._shown.get(tracked.reference, 0) <= generation:
                self._shown[tracked.reference] = generation
                newest.append(tracked)
        if newest:
            self._model.update_payments(newest)

    # --- coroutines ---------------------------------------------------------------------------------
    async def poll(self, references: Iterable[str]) -> None:
        """Refresh the waiting payments once, side by side; failures mark their rows, never raise."""
        refs = list(references)
        generation = self._begin()
        gate = asyncio.Semaphore(POLL_CONCURRENCY)
        try:
            answers = await asyncio.gather(*(self._read(r, gate) for r in refs))
            self._show([a for a in answers if isinstance(a, TrackedPayment)], generation)
            errors = [(r, a) for r, a in zip(refs, answers, strict=True) if not isinstance(a, TrackedPayment)]
            for reference, error in errors:
                self._mark_failed(reference, error, generation)
            network = next((e for _r, e in errors if isinstance(e, NetworkError)), None)
            if network is not None and not self.offline:
                self._go_offline(network)
            elif network is None and self.offline and len(errors) < len(answers):
                self.offline = False
                self.status_changed.emit("Online again.")
        finally:
            self._end()

    async def _read(self, reference: str, gate: asyncio.Semaphore) -> TrackedPayment | EPaymentError:
        async with gate:
            try:
                return await self._desk.refresh(reference)
            except EPaymentError as error:
                return error

    async def refresh(self, references: Iterable[str]) -> int:
        refs = list(references)
        total = len(refs)
        done = 0
        stopped = True
        batch: list[TrackedPayment] = []
        failed: list[str] = []
        generation = self._begin()
        sent_at = utc_now()  # compared with fetched_at, which the register stamps with the wall clock
        loop = asyncio.get_running_loop()
        last_flush = loop.time()
        self._model.set_now(self._clock())
        self.started.emit(total)
        self.progressed.emit(0, total)
        stream = self._desk.refresh_all(refs)
        try:
            async for tracked in stream:
                batch.append(tracked)
                done += 1
                if _failed(tracked, sent_at):
                    failed.append(tracked.reference)
                if loop.time() - last_flush >= self.flush_interval:
                    self._show(batch, generation)
                    batch = []
                    last_flush = loop.time()
                    self.progressed.emit(done, total)
            stopped = False
        finally:
            await _close(stream)
            if batch:
                self._show(batch, generation)
            self._model.set_now(self._clock())
            self.progressed.emit(done, total)
            self.finished.emit(done, total, stopped)
            self._end()
        await self._report(done, failed)
        return done

    async def refresh_single(self, reference: str) -> TrackedPayment:
        generation = self._begin()
        try:
            tracked = await self._desk.refresh(reference)
            self._show((tracked,), generation)
        except EPaymentError as error:
            self._mark_failed(reference, error, generation)
            raise
        finally:
            self._end()
        return tracked

    # --- offline ------------------------------------------------------------------------------------
    async def _report(self, done: int, failed: list[str]) -> None:
        """After a refresh ran to its end: say offline, online again, or what could not be read."""
        if done and len(failed) == done:
            # Nothing came back: read one payment again to learn why (the batch only kept the text).
            generation = self._begin()
            try:
                self._show((await self._desk.refresh(failed[0]),), generation)
            except NetworkError as error:
                self._go_offline(error)
                return
            except EPaymentError as error:
                self._mark_failed(failed[0], error, generation)
                self.status_changed.emit(redact(f"Could not refresh {_payments(done)}: {error}"))
                return
            finally:
                self._end()
            failed.pop(0)
        was_offline, self.offline = self.offline, False
        if failed:
            self.status_changed.emit(
                f"Refreshed {_payments(done)}; {len(failed)} could not be read (see the Last updated tips)."
            )
        elif was_offline:
            self.status_changed.emit(f"Online again: refreshed {_payments(done)}.")

    def _go_offline(self, error: BaseException) -> None:
        self.offline = True
        fetched = [t.fetched_at for t in self._model.payments() if t.fetched_at is not None]
        as_of = (
            f"its last fetch ({describe_age(self._clock() - max(fetched))})" if fetched else "its last fetch"
        )
        self.status_changed.emit(
            redact(f"Offline: could not reach the API ({error}). The list shows the register as of {as_of}.")
        )

    def _mark_failed(self, reference: str, error: BaseException, generation: int) -> None:
        """Show the failure on the row at once (muted, and the reason in its Last updated tip)."""
        current = self._model.tracked(reference)
        if current is not None:
            self._show((replace(current, fetch_error=redact(str(error))),), generation)
        if isinstance(error, NetworkError):
            self.offline = True


def _age(now: datetime, moment: datetime) -> timedelta:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return now - aware


def _payments(count: int) -> str:
    return f"{count} payment" if count == 1 else f"{count} payments"


def _failed(tracked: TrackedPayment, sent_at: datetime) -> bool:
    """The refresh of ``tracked`` did not bring a new snapshot (a read-only register keeps no error)."""
    return bool(tracked.fetch_error) or tracked.fetched_at is None or tracked.fetched_at < sent_at


async def _close(stream: AsyncIterator[TrackedPayment]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
