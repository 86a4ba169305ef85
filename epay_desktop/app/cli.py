"""The command line and ``main``: parses the arguments, builds everything from the profile, starts the
loop (the other parts of the composition root: ``logs``, ``sessions``, ``controller``).

``epay-desktop`` and ``python -m epay_desktop`` land here.

Start-up order (fast first paint, issue 6 item 6): QApplication → the real main window's frame (Qt, the
domain records and the table model only) painted with a "Loading the register…" placeholder → then the
log file and secret redaction, asyncio and qasync, httpx, the services, the keyring and the register are
imported and opened, and the same window is bound to the profile's desk. Heavy imports are inside the
functions below, on purpose.

Demo (the default, no set-up): the sandbox runs in-process (``httpx.ASGITransport``, no port) with its
demo data; its state is kept beside the register so the demo world survives a restart. Test,
Production and custom profiles come from the profile store, their secrets from the keyring.
``--screenshot`` and ``--smoke`` always use a fresh, throwaway Demo world.

Problems on opening a profile never end in a traceback: missing secrets → a message and the Settings
dialog; a damaged, locked or too-new register → a message offering "Open read-only" where that can
work. Switching profile opens the new session first (so a failure leaves the current one working), then
shows a new window bound to it, then stops the old window's tasks and closes the old session.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import QApplication

from epay_desktop import APP_NAME, __version__
from epay_desktop.app.controller import Controller
from epay_desktop.app.logs import close_logging, setup_logging
from epay_desktop.app.sessions import choose_profile, open_demo
from epay_desktop.ui.main_window import MainWindow
from epay_desktop.ui.startup import paint_now
from epay_desktop.ui.theme import apply_style

log = logging.getLogger("epay_desktop.app")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=APP_NAME, description="Vipps MobilePay ePayment back-office")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--profile", metavar="NAME", help="open this profile (default: the last used)")
    parser.add_argument("--dark", action="store_true", help="use a dark palette")
    parser.add_argument("--smoke", action="store_true", help="start, show the window, and quit (for checks)")
    parser.add_argument("--screenshot", metavar="FILE", type=Path, help="render the window to a PNG and quit")
    parser.add_argument("--select", metavar="REFERENCE", help="with --screenshot: select this payment")
    parser.add_argument("--size", metavar="WxH", default="1280x760", help="with --screenshot: window size")
    # benchmarks/startup.py: print "painted" at the first paint and "listed N" once the register's rows
    # are painted, then quit.
    parser.add_argument("--startup-marks", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


async def render(window: MainWindow, target: Path, select: str | None) -> int:
    """Load the register, select a payment, paint once, save the PNG."""
    import asyncio

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
    import asyncio

    from PySide6.QtCore import QEvent, QObject

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
    import asyncio
    import contextlib
    import tempfile

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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.screenshot and QApplication.instance() is None:
        # A screenshot needs no screen: render offscreen unless a platform was chosen.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_NAME)
    # The window closing ends run(); Qt quitting by itself would stop the loop under our cleanup.
    app.setQuitOnLastWindowClosed(False)
    apply_style(app, dark=args.dark)
    throwaway = bool(args.screenshot or args.smoke)
    # The profile is known before the first paint, so the window paints its real banner (DEMO,
    # PRODUCTION, the profile's name). Reading the profiles file loads no httpx and no store.
    from epay_desktop.services import DEMO_PROFILE

    try:
        args.chosen_profile = None if throwaway else choose_profile(args.profile)
    except Exception as error:  # a named profile that does not exist, an unreadable profiles file
        print(f"{APP_NAME}: {error}", file=sys.stderr)
        return 2
    window = MainWindow(show_error_dialogs=not throwaway)
    window.show_profile(args.chosen_profile or DEMO_PROFILE)
    if args.screenshot:
        width, _, height = str(args.size).partition("x")
        window.resize(int(width), int(height))
    # The real window paints first; everything heavy is imported after this line.
    paint_now(window)
    if args.startup_marks:
        print("painted", flush=True)
    handler = setup_logging()
    from epay_desktop.ui.aio import run_app
    from epay_desktop.ui.gc_guard import GarbageCollector

    # Garbage is collected on this (the GUI) thread only: a QObject destroyed by a collection that
    # happened to start in a worker thread leaves its timers behind (a later segfault).
    collector = GarbageCollector(app)
    try:
        log.info("%s %s starting", APP_NAME, __version__)
        collector.start()
        return run_app(lambda: run(app, args, window))
    finally:
        collector.stop()
        close_logging(handler)
