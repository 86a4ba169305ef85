"""Refreshing payments from the API: all of them (F5) with progress and stop, one on selection, and an
automatic refresh of the payments that can still change. All go through the ``TaskRunner`` under one
name per kind, so the latest refresh wins and a stopped refresh leaves every finished row updated.

Rows are updated in batches (at most every ``flush_interval`` seconds) so a thousand answers cost a
handful of ``dataChanged`` signals, not a thousand repaints.

Offline: each refresh and timer tick moves the model's ``now`` (stale rows are drawn muted). When a
refresh brings nothing but failures, one payment is read again to learn why; a network failure sets
``offline`` and ``status_changed`` says the list shows the register as of its last fetch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from epay_desktop.api import EPaymentError, NetworkError
from epay_desktop.domain import TrackedPayment
from epay_desktop.ui.aio import TaskRunner
from epay_desktop.ui.errors import redact
from epay_desktop.ui.payments_model import PaymentsModel, describe_age

if TYPE_CHECKING:
    from epay_desktop.services import PaymentDesk

REFRESH = "refresh"
REFRESH_ONE = "refresh-one"


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

    def is_running(self) -> bool:
        return self._runner.is_running(REFRESH)

    # --- coroutines ---------------------------------------------------------------------------------
    async def refresh(self, references: Iterable[str]) -> int:
        refs = list(references)
        total = len(refs)
        done = 0
        stopped = True
        batch: list[TrackedPayment] = []
        failed: list[str] = []
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
                    self._model.update_payments(batch)
                    batch = []
                    last_flush = loop.time()
                    self.progressed.emit(done, total)
            stopped = False
        finally:
            await _close(stream)
            if batch:
                self._model.update_payments(batch)
            self._model.set_now(self._clock())
            self.progressed.emit(done, total)
            self.finished.emit(done, total, stopped)
        await self._report(done, failed)
        return done

    async def refresh_single(self, reference: str) -> TrackedPayment:
        try:
            tracked = await self._desk.refresh(reference)
        except EPaymentError as error:
            self._mark_failed(reference, error)
            raise
        self._model.update_payment(tracked)
        return tracked

    # --- offline ------------------------------------------------------------------------------------
    async def _report(self, done: int, failed: list[str]) -> None:
        """After a refresh ran to its end: say offline, online again, or what could not be read."""
        if done and len(failed) == done:
            # Nothing came back: read one payment again to learn why (the batch only kept the text).
            try:
                self._model.update_payment(await self._desk.refresh(failed[0]))
            except NetworkError as error:
                self._go_offline(error)
                return
            except EPaymentError as error:
                self._mark_failed(failed[0], error)
                self.status_changed.emit(redact(f"Could not refresh {_payments(done)}: {error}"))
                return
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

    def _mark_failed(self, reference: str, error: BaseException) -> None:
        """Show the failure on the row at once (muted, and the reason in its Last updated tip)."""
        current = self._model.tracked(reference)
        if current is not None:
            self._model.update_payment(replace(current, fetch_error=redact(str(error))))
        if isinstance(error, NetworkError):
            self.offline = True


def _payments(count: int) -> str:
    return f"{count} payment" if count == 1 else f"{count} payments"


def _failed(tracked: TrackedPayment, sent_at: datetime) -> bool:
    """The refresh of ``tracked`` did not bring a new snapshot (a read-only register keeps no error)."""
    return bool(tracked.fetch_error) or tracked.fetched_at is None or tracked.fetched_at < sent_at


async def _close(stream: AsyncIterator[TrackedPayment]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
