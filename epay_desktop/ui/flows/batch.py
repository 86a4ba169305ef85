"""The batch flow: Cancel N payments… / Capture N payments… of the selected rows (or all shown).

preview (``BatchDialog``, opened with ``open()``) → on Start, ``services.batch.BatchRun`` sends each
payment through the desk (each its own journaled intent), the dialog shows each result as it arrives,
Stop sends nothing new → a summary in the dialog and the status bar. The rows follow from what the desk
publishes. The loop keeps running throughout (every send is awaited; nothing blocks).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal

from epay_desktop.domain import Action, TrackedPayment
from epay_desktop.i18n import _
from epay_desktop.services.batch import BatchOutcome, BatchRun, plan_batch
from epay_desktop.ui.dialogs.batch import BatchDialog
from epay_desktop.ui.flows.desk_flow import DeskFlow
from epay_desktop.ui.theme import DESTRUCTIVE_BUTTON_STYLE

if TYPE_CHECKING:
    from epay_desktop.services.batch import BatchResult


LISTED_BEFORE_SHOWN = 500  # a batch of up to this many rows is shown listed whole (25 short steps)


class BatchFlow(DeskFlow):
    references_busy = Signal(list, bool)  # these payments are being sent / have ended
    dialog: BatchDialog | None = None  # the preview and its progress, while it is open
    run_: BatchRun | None = None  # the batch being sent

    async def run(self, action: Action, payments: Sequence[TrackedPayment]) -> list[BatchResult]:
        plan = plan_batch(action, payments, self._desk.busy_references())
        await asyncio.sleep(0)  # the plan and the dialog's making in passes of their own
        dialog = BatchDialog(
            plan, production=self._desk.profile.is_production, parent=self._parent_widget, locale=self._locale
        )
        dialog.start_button.setStyleSheet(DESTRUCTIVE_BUTTON_STYLE)  # the one styled widget
        self.dialog = dialog
        loop = asyncio.get_running_loop()
        closed: asyncio.Future[object] = loop.create_future()
        started = asyncio.Event()

        def close(result: int) -> None:
            if not closed.done():
                closed.set_result(result)

        dialog.finished.connect(close)
        dialog.start_requested.connect(started.set)
        waiting: asyncio.Future[object] = asyncio.ensure_future(started.wait())
        try:
            # Made in this pass of the event loop, its rows listed a step per pass from the next while it
            # is hidden, shown once they are all there (a batch of more than LISTED_BEFORE_SHOWN: once
            # the first screen is, the rest follow). Each step is a millisecond or so, and the first
            # paint is the only one: rows listed into a shown list repaint it whole.
            await self._listed(dialog, len(plan.items))
            # Its layout worked out in a pass of its own: open() then only shows it, and its first paint
            # follows in the same pass.
            dialog.lay_out()
            await asyncio.sleep(0)
            dialog.open()
            self.dialog_opened.emit(dialog)
            await asyncio.wait({closed, waiting}, return_when=asyncio.FIRST_COMPLETED)
            if not started.is_set():
                self._status(_("Kept the payments: nothing was sent."))
                return []
            references = [item.reference for item in plan.planned]
            batch = BatchRun(self._desk, plan, on_result=self._shown(dialog))
            self.run_ = batch
            dialog.stop_requested.connect(batch.stop)
            self.references_busy.emit(references, True)  # one table update for the whole batch
            try:
                results = await batch.run()
            finally:
                self.references_busy.emit(references, False)
            dialog.show_finished(results, batch.stopped)
            self._status(dialog.last_summary)
            await closed
            return results
        finally:
            waiting.cancel()
            self.dialog = None
            self.run_ = None
            dialog.deleteLater()

    @staticmethod
    async def _listed(dialog: BatchDialog, rows: int) -> None:
        """Until every row is listed (a step per pass, ROWS_AT_ONCE rows each), or the first screen of
        them for a batch of more than LISTED_BEFORE_SHOWN rows (the rest follow while it is open)."""
        whole = rows <= LISTED_BEFORE_SHOWN
        if dialog.rows_complete or (not whole and dialog.first_rows_in):
            await asyncio.sleep(0)
            return
        listed = asyncio.Event()
        (dialog.rows_listed if whole else dialog.first_rows_listed).connect(listed.set)
        await listed.wait()

    def _shown(self, dialog: BatchDialog) -> Callable[[BatchResult], None]:
        def show(result: BatchResult) -> None:
            dialog.show_result(result)
            self.references_busy.emit([result.reference], False)

        return show


__all__ = ["BatchFlow", "BatchOutcome"]
