"""The status bar's own words (:class:`StatusLine`): the message line, the Recent messages it keeps, and
the payment counts.

- The message line shows one outcome or error at a time, for 15 s, and cuts a long one: every message is
  also kept (the last ``HISTORY_LENGTH``), and the status bar's button opens them, newest first
  (Recent messages…).
- An error said about one payment (its refresh failed) leaves the line when the person moves to another
  row (:meth:`StatusLine.show_about`, :meth:`StatusLine.selection_moved`); Recent messages still has it.
- The counts of the payments shown, by business state, with their tooltip.

Its widgets (``history_button``, ``counts_label``) are made here; the window places them in its status
bar beside its other permanent widgets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMainWindow, QToolButton

from epay_desktop.i18n import _
from epay_desktop.ui.first_paint import set_qt_enum
from epay_desktop.ui.window.screen_fit import fitted_size

if TYPE_CHECKING:
    from datetime import datetime

    from PySide6.QtWidgets import QDialog

HISTORY_LENGTH = 100
SHOWN_MS = 15_000  # how long the message line shows a message


class StatusLine(QObject):
    """The message line, Recent messages and the counts of ``window``'s status bar (see the module
    docstring); ``history_action`` opens Recent messages (the status bar's button shows it)."""

    def __init__(self, window: QMainWindow, history_action: QAction) -> None:
        super().__init__(window)
        self._window = window
        self.history: list[tuple[datetime, str]] = []  # what the line said, oldest first
        self.history_dialog: QDialog | None = None  # Recent messages, once opened
        self._about: str | None = None  # the payment the message shown is about
        self.counts_label = QLabel(window)
        self.counts_label.setAccessibleName(_("Payment counts"))
        self.history_button = QToolButton(window)
        self.history_button.setObjectName("HistoryButton")
        self.history_button.setDefaultAction(history_action)
        set_qt_enum(self.history_button, "toolButtonStyle", "ToolButtonIconOnly")
        self.history_button.setAutoRaise(True)
        self.history_button.setAccessibleName(_("Recent messages"))

    def show(self, text: str) -> None:
        """Say ``text`` on the message line (an empty one clears it) and keep it in Recent messages."""
        self._window.statusBar().showMessage(text, SHOWN_MS)
        if text:
            from datetime import datetime

            self.history.append((datetime.now(), text))
            del self.history[:-HISTORY_LENGTH]
        self._about = None

    def show_about(self, reference: str | None, text: str) -> None:
        """Say ``text``, which is about the payment ``reference`` (the selected one): it leaves the line
        when another row is selected."""
        self.show(text)
        self._about = reference

    def selection_moved(self, reference: str | None) -> None:
        """The selection moved to ``reference`` (None: no row): a message about another payment goes."""
        if self._about is not None and reference != self._about:
            self._window.statusBar().clearMessage()
            self._about = None

    def show_counts(self, text: str, tooltip: str) -> None:
        self.counts_label.setText(text)
        self.counts_label.setToolTip(tooltip)

    def open_history(self) -> None:
        """Recent messages…: the outcomes and errors the line showed, newest first (window-modal)."""
        from PySide6.QtCore import Qt  # not before the first paint (ui/first_paint.py)
        from PySide6.QtWidgets import QDialog, QListWidget, QVBoxLayout

        dialog = QDialog(self._window)
        dialog.setObjectName("RecentMessages")
        dialog.setWindowTitle(_("Recent messages"))
        layout = QVBoxLayout(dialog)
        listing = QListWidget(dialog)
        listing.setObjectName("RecentMessagesList")
        listing.setAccessibleName(_("Recent messages, newest first"))
        listing.setWordWrap(True)
        for moment, text in reversed(self.history):
            listing.addItem(f"{moment:%H:%M:%S}  {text}")
        layout.addWidget(listing)
        dialog.resize(fitted_size(720, 420))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.history_dialog = dialog
        dialog.open()


__all__ = ["HISTORY_LENGTH", "StatusLine"]
