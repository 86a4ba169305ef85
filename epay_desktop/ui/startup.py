"""Paint the real main window before the heavy parts are imported (issue 6 item 6).

Start-up order (``app.main``): QApplication → the main window's frame (light imports only: Qt's
widgets and the domain records) → :func:`paint_now` → then asyncio, qasync, httpx, the services, the
keyring and the register are imported and opened, and the same window is bound to the desk.

The code that runs before the first paint does not touch ``PySide6.QtCore.Qt``: the first use of the Qt
namespace builds all of its enums as Python enums (93 of them, about 12 ms on Python 3.11, more than a
tenth of a bare window's start). Where that code needs one of Qt's enums it sets it by its key names
through Qt's property system (:func:`set_qt_enum`); ``tests/test_foundation.py`` checks that the first
paint leaves the namespace unbuilt.

:func:`paint_now` runs Qt's own event loop until the window has painted once (or ``limit_ms`` passed,
e.g. on a platform that shows nothing); no asyncio loop exists yet, so nothing else can run in it.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from epay_desktop import APP_NAME, __version__

if TYPE_CHECKING:
    from epay_desktop.services import Profile
    from epay_desktop.ui.main_window import MainWindow


def set_qt_enum(target: QObject, name: str, keys: str) -> None:
    """Set ``target``'s Qt-enum property ``name`` by key names, e.g. ``set_qt_enum(label, "alignment",
    "AlignRight|AlignVCenter")``: the same value as ``Qt.AlignmentFlag.AlignRight | ...`` without
    building the Qt namespace (see the module docstring). A wrong name or key raises ``ValueError``."""
    if not target.metaObject().indexOfProperty(name) >= 0 or not target.setProperty(name, keys):
        raise ValueError(f"{type(target).__name__} has no enum property {name!r} taking {keys!r}")


class _FirstPaint(QObject):
    def __init__(self, loop: QEventLoop) -> None:
        super().__init__()
        self.loop = loop
        self.painted = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self.painted:
            self.painted = True
            # Quit after this paint is done (the filter runs before the widget paints).
            QTimer.singleShot(0, self.loop.quit)
        return False


def paint_now(window: QWidget, *, limit_ms: int = 2000) -> bool:
    """Show ``window`` and spin Qt's event loop until it painted once; True when it did."""
    loop = QEventLoop()
    watcher = _FirstPaint(loop)
    window.installEventFilter(watcher)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    try:
        window.show()
        timer.start(limit_ms)
        if not watcher.painted:
            loop.exec()
    finally:
        timer.stop()
        window.removeEventFilter(watcher)
    return watcher.painted


def first_window(
    profile: Profile,
    *,
    dark: bool = False,
    offscreen: bool = False,
    size: tuple[int, int] | None = None,
    show_error_dialogs: bool = True,
) -> tuple[QApplication, MainWindow]:
    """The QApplication and the real main window showing ``profile``'s banner, painted once.
    ``offscreen``: render without a screen unless a platform was chosen (``--screenshot``)."""
    from epay_desktop.ui.main_window import MainWindow
    from epay_desktop.ui.theme import apply_style

    if offscreen and QApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_NAME)
    # The window closing ends the run; Qt quitting by itself would stop the loop under our cleanup.
    app.setQuitOnLastWindowClosed(False)
    apply_style(app, dark=dark)
    window = MainWindow(show_error_dialogs=show_error_dialogs)
    window.show_profile(profile)
    if size is not None:
        window.resize(*size)
    paint_now(window)
    return app, window


__all__ = ["first_window", "paint_now", "set_qt_enum"]
