"""Paint the real main window before the heavy parts are imported.

Start-up order (``app.main``): QApplication → the main window's frame (light imports only: Qt's
widgets and the domain records; see ``first_paint``) → :func:`~epay_desktop.ui.first_paint.paint_now`
→ the register's rows (``app.listing``: read on a worker thread, painted) → then asyncio, qasync,
httpx, the services and the keyring are imported, the session is opened, and the same window is bound
to the desk.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication

from epay_desktop import APP_NAME, __version__
from epay_desktop.ui.first_paint import paint_now, skip_pyside_source_scan

if TYPE_CHECKING:
    from epay_desktop.services import Profile
    from epay_desktop.ui.window.main_window import MainWindow

# Before the window's modules (and everything after them) are imported: see skip_pyside_source_scan.
skip_pyside_source_scan()


def first_window(
    profile: Profile,
    *,
    dark: bool = False,
    offscreen: bool = False,
    size: tuple[int, int] | None = None,
    show_error_dialogs: bool = True,
    language: str | None = None,
) -> tuple[QApplication, MainWindow]:
    """The QApplication and the real main window showing ``profile``'s banner, painted once.
    ``offscreen``: render without a screen unless a platform was chosen (``--screenshot``)."""
    from epay_desktop import paths
    from epay_desktop.ui.language import install_language
    from epay_desktop.ui.theme import apply_style
    from epay_desktop.ui.window.main_window import MainWindow

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
    # Before the first widget: widgets read their words when they are built.
    install_language(language, paths.resource("translations"), cache=paths.cache_dir() / "catalogs")
    window = MainWindow(show_error_dialogs=show_error_dialogs)
    window.show_profile(profile)
    if size is not None:
        window.resize(*size)
    paint_now(window)
    return app, window


__all__ = ["first_window"]
