"""Composition root: parses the command line, builds everything from the profile, starts the loop.

The only module that imports ``ui``. ``epay-desktop`` and ``python -m epay_desktop`` land here.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import QApplication

from epay_desktop import APP_NAME, __version__
from epay_desktop.ui.aio import run_app
from epay_desktop.ui.main_window import MainWindow


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=APP_NAME, description="Vipps MobilePay ePayment back-office")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--smoke", action="store_true", help="start, show the window, and quit (for checks)")
    parser.add_argument("--screenshot", metavar="FILE", type=Path, help="render the window to a PNG and quit")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    window = MainWindow()

    async def run() -> int:
        window.show()
        if args.screenshot or args.smoke:
            # Let the window lay out and paint once before grabbing it.
            await asyncio.sleep(0.05)
            if args.screenshot:
                window.grab().save(str(args.screenshot))
            window.close()
            return 0
        closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def _closed() -> None:
            if not closed.done():
                closed.set_result(0)

        app.lastWindowClosed.connect(_closed)
        return await closed

    return run_app(run)


if __name__ == "__main__":
    sys.exit(main())
