"""The window's side (:class:`SidePanel`): the selected payment's details and, under them, what a
profile adds (the Demo's customer controls).

It scrolls up and down rather than squeeze its wrapped lines and figures below the height their words
need (a small window, a language longer than English), never sideways, and it is never narrower than
its panel's own minimum width, so the splitter cannot hide its right edge.
"""

from __future__ import annotations

from PySide6.QtCore import QLocale, QSize
from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget

from epay_desktop.ui.first_paint import set_qt_enum
from epay_desktop.ui.window.details_panel import DetailsPanel


class SidePanel(QScrollArea):
    """``details`` on top of ``panel`` (the scrolled widget: the parent of what is added below)."""

    def __init__(self, parent: QWidget | None = None, *, locale: QLocale | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SidePanelScroll")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        set_qt_enum(self, "horizontalScrollBarPolicy", "ScrollBarAlwaysOff")
        self.panel = QWidget(self)
        self._layout = QVBoxLayout(self.panel)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.details = DetailsPanel(self.panel, locale=locale)
        self._layout.addWidget(self.details, 1)
        self.setWidget(self.panel)

    def add_below(self, widget: QWidget) -> None:
        """Show ``widget`` (a child of ``panel``) under what the side shows already."""
        self._layout.addWidget(widget)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        panel = self.widget()
        if panel is None:
            return hint
        width = panel.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width()
        return QSize(max(hint.width(), width + 2 * self.frameWidth()), hint.height())


__all__ = ["SidePanel"]
