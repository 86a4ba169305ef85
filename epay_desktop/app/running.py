"""After the first paint (``cli.main`` imports this module then): open the profile's session into the
painted window and run until it closes; or, for ``--screenshot`` and ``--smoke``, a throwaway Demo
world; or, for ``--startup-marks`` (benchmarks/startup.py), load the register, say when its rows are
painted, and quit."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from epay_desktop import APP_NAME
from epay_desktop.app.controller import Controller
from epay_desktop.app.sessions import open_demo
from epay_desktop.ui.main_window import MainWindow


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

    class Watcher(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and window.model.rowCount() and not done.done():
                done.set_result(None)
            return False

    watcher = Watcher()
    window.table.viewport().installEventFilter(watcher)
    window.table.viewport().update()
    try:
        if window.model.rowCount():
            await done
    finally:
        window.table.viewport().removeEventFilter(watcher)
    return window.model.rowCount()


async def run(app: QApplication, args: argparse.Namespace, window: MainWindow) -> int:
    """``args.chosen_profile``: the profile ``main`` chose before the first paint (None when throwaway)."""
    throwaway = bool(args.screenshot or args.smoke)
    controller = Controller(app, window, show_error_dialogs=not throwaway)
    if throwaway:
        with tempfile.TemporaryDirectory(prefix="epay-demo-") as folder:
            session = await open_demo(Path(folder) / "demo.sqlite3")
            controller._attach(window, session)
            try:
                if args.screenshot:
                    return await render(window, args.screenshot, args.select)
                await window.load(refresh=False)
                await asyncio.sleep(0.05)
                return 0
            finally:
                await controller.aclose()
                window.close()
    profile = args.chosen_profile
    if args.startup_marks:
        opened = await controller.open(profile)
        if opened is None:
            await controller.aclose()
            return 1
        controller._attach(window, opened)
        with contextlib.suppress(asyncio.CancelledError):
            await window.load(refresh=False)
        print(f"listed {await rows_painted(window)}", flush=True)
        await controller.aclose()
        window.close()
        return 0
    await controller.start(profile)
    return await controller.run_until_closed()
