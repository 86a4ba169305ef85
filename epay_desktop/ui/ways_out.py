"""Every way out of the running app is the window's way out.

Closing the window lets a money-moving call in flight finish and record its outcome, then the session
closes the register (``MainWindow.closeEvent`` and ``Controller.run_until_closed``). Two other ways out
would skip that: ``QApplication.quit()`` (what a desktop session's logout does) ends Qt's event loop
under the asyncio code still closing the register, and SIGTERM (``kill``, a service manager, a shutdown)
ends the process at once. :class:`WaysOut` turns both into a request to close the window: the Quit
event is taken (and dropped) on its way to the application, and SIGTERM is handled inside the loop.

How long it takes is bounded by the send in flight, which the client bounds itself (a deadline per
request, a capped number of attempts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)


class WaysOut(QObject):
    """While installed, ``QApplication.quit()`` and SIGTERM call ``close`` (the window's way out)
    instead of ending the loop or the process. ``uninstall()`` when the run is over."""

    def __init__(self, app: QApplication, close: Callable[[], None]) -> None:
        super().__init__()
        self._app = app
        self._close = close
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous_sigterm: object = None
        self.requests: list[str] = []  # what asked to leave ("quit", "SIGTERM"), for the log and tests
        app.installEventFilter(self)
        self._handle_sigterm()

    def _handle_sigterm(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            # Runs in the loop (set_wakeup_fd + a reader on the loop's self-pipe), not between two
            # arbitrary bytecodes: it may touch Qt and the session safely.
            loop.add_signal_handler(signal.SIGTERM, self._request, "SIGTERM")
            self._loop = loop
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
            with contextlib.suppress(ValueError, OSError):
                self._previous_sigterm = signal.signal(
                    signal.SIGTERM, lambda *_: loop.call_soon_threadsafe(self._request, "SIGTERM")
                )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._app and event.type() == QEvent.Type.Quit:
            self._request("quit")
            return True  # the loop goes on: the window's way out ends the run
        return False

    def _request(self, what: str) -> None:
        log.info("%s asked the app to quit: closing the window (sends in flight finish first)", what)
        self.requests.append(what)
        self._close()

    def uninstall(self) -> None:
        self._app.removeEventFilter(self)
        if self._loop is not None:
            with contextlib.suppress(RuntimeError, ValueError):
                self._loop.remove_signal_handler(signal.SIGTERM)
            self._loop = None
        elif self._previous_sigterm is not None:
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(signal.SIGTERM, self._previous_sigterm)  # type: ignore[arg-type]
            self._previous_sigterm = None
