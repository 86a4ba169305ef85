"""Refreshing payments from the API: all of them (F5) with progress and stop, one on selection, and an
automatic refresh of the payments that can still change. All go through the ``TaskRunner`` under one
name per kind, so the latest refresh wins and a stopped refresh leaves every finished row updated.

Rows are updated in batches (at most every ``flush_interval`` seconds) so a thousand answers cost a
handful of ``dataChanged`` signals, not a thousand repaints.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from epay_desktop.domain import TrackedPayment
from epay_desktop.ui.aio import TaskRunner
from epay_desktop.ui.payments_model import PaymentsModel

if TYPE_CHECKING:
    from epay_desktop.services import PaymentDesk

REFRESH = "refresh"
REFRESH_ONE = "refresh-one"


class RefreshFlow(QObject):
    progressed = Signal(int, int)  # done, total
    started = Signal(int)  # total
    finished = Signal(int, int, bool)  # done, total, stopped

    def __init__(
        self,
        desk: PaymentDesk,
        model: PaymentsModel,
        runner: TaskRunner,
        *,
        auto_interval_ms: int = 30_000,
        flush_interval: float = 0.1,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._desk = desk
        self._model = model
        self._runner = runner
        self.flush_interval = flush_interval
        self.auto_timer = QTimer(self)
        self.auto_timer.setInterval(auto_interval_ms)
        self.auto_timer.timeout.connect(self.refresh_changing)

    # --- slots (one line each) ----------------------------------------------------------------------
    def refresh_everything(self) -> None:
        self._runner.start(REFRESH, self.refresh(self._model.references()))

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
        loop = asyncio.get_running_loop()
        last_flush = loop.time()
        self.started.emit(total)
        self.progressed.emit(0, total)
        stream = self._desk.refresh_all(refs)
        try:
            async for tracked in stream:
                batch.append(tracked)
                done += 1
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
            self.progressed.emit(done, total)
            self.finished.emit(done, total, stopped)
        return done

    async def refresh_single(self, reference: str) -> TrackedPayment:
        tracked = await self._desk.refresh(reference)
        self._model.update_payment(tracked)
        return tracked


async def _close(stream: AsyncIterator[TrackedPayment]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
