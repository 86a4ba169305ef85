"""Counting the paints of widgets (tests that a change is painted with the window, not at once)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject


class Paints(QObject):
    """Counts the paint events of the widgets it filters (``widget.installEventFilter(paints)``)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False
