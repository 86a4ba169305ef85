"""Offscreen checks of the window: render it to a PNG (``--screenshot``) and wait until the table painted
its rows (``--startup-marks``, for benchmarks/startup.py)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from epay_desktop import APP_NAME
from epay_desktop.ui.window.main_window import MainWindow


async def render(window: MainWindow, target: Path, select: str | None) -> int:
    """Load the register, select a payment, paint once, save the PNG."""
    await window.load()
    if select and not window.select_reference(select):
        print(f"{APP_NAME}: no payment {select!r} in the register", file=sys.stderr)
        return 2
    await asyncio.sleep(0.1)  # let the layout settle
    await window.shutdown()
    QApplication.processEvents()
    if not window.grab().save(str(target)):
        print(f"{APP_NAME}: could not write {target}", file=sys.stderr)
        return 1
    return 0


async def rows_painted(window: MainWindow) -> int:
    """Wait until the table has painted with its rows; the row count (for --startup-marks)."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    table = window.register_view.table
    assert table is not None, "bind a desk first"

    class Watcher(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and window.model.rowCount() and not done.done():
                done.set_result(None)
            return False

    watcher = Watcher()
    table.viewport().installEventFilter(watcher)
    table.viewport().update()
    try:
        if window.model.rowCount():
            await done
    finally:
        table.viewport().removeEventFilter(watcher)
    return window.model.rowCount()
