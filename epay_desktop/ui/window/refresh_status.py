"""The status bar's view of the refreshes: a progress bar and a Stop button while any refresh runs (a
replaced refresh finishes after its successor started, so they are counted), and a line saying how far
each one got (not for one the desk cut short: the refresh flow says why). Fed by the refresh flow's
signals; emits ``running_changed(bool)`` and ``status_changed(str)``."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QSizePolicy, QToolButton, QWidget

from epay_desktop.i18n import _, ngettext


class RefreshStatus(QWidget):
    running_changed = Signal(bool)
    status_changed = Signal(str)

    def __init__(self, stop_action: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName(_("Refresh progress"))
        self.progress.setFixedWidth(220)
        self.progress.setTextVisible(True)
        self.progress.setFormat(_("Refreshing %v of %m"))
        self.stop_button = QToolButton(self)
        self.stop_button.setDefaultAction(stop_action)
        self.stop_button.setAccessibleName(_("Stop refresh"))
        row.addWidget(self.progress)
        row.addWidget(self.stop_button)
        # As wide as its parts: the status bar's permanent area gives the rest to the message.
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self._running = 0
        self.hide()

    @property
    def running(self) -> bool:
        return self._running > 0

    def started(self, total: int) -> None:
        self._running += 1
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(0)
        self.show()
        if self._running == 1:
            self.running_changed.emit(True)

    def progressed(self, done: int, _total: int) -> None:
        # QProgressBar.setValue repaints the bar at once, inside this call (its text changes with every
        # value): that paint came on top of whatever the refresh's pass did. With updates held off for
        # the call, the new value is painted with the rest of the window in its next paint.
        self.progress.setUpdatesEnabled(False)
        try:
            self.progress.setValue(done)
        finally:
            self.progress.setUpdatesEnabled(True)

    def finished(self, done: int, total: int, stopped: bool) -> None:
        self._ended()
        said = (
            ngettext(
                "Refresh stopped after {done} of {total} payment.",
                "Refresh stopped after {done} of {total} payments.",
                total,
            )
            if stopped
            else ngettext(
                "Refreshed {done} of {total} payment.", "Refreshed {done} of {total} payments.", total
            )
        )
        self.status_changed.emit(said.format(done=done, total=total))

    def cut_short(self, _done: int, _total: int) -> None:
        """A refresh the desk gave up (its server out of reach): the flow says why and how many were
        not refreshed, so no "Refreshed N of M" here."""
        self._ended()

    def _ended(self) -> None:
        self._running -= 1
        if self._running <= 0:
            self._running = 0
            self.hide()
            self.running_changed.emit(False)


__all__ = ["RefreshStatus"]
