"""``SidePanel`` through its public surface, offscreen: the details on top, what a profile adds under
them, scrolled up and down only, and never narrower than the panel's own minimum width."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QSplitter

from epay_desktop.ui.window.side_panel import SidePanel


def test_what_is_added_shows_under_the_details(qtbot: Any) -> None:
    side = SidePanel()
    qtbot.addWidget(side)
    below = QPushButton("Approve", side.panel)
    side.add_below(below)
    side.resize(400, 900)
    side.show()
    qtbot.waitExposed(side)
    assert side.widget() is side.panel
    assert side.details.parent() is side.panel
    assert below.isVisible()
    assert below.geometry().top() >= side.details.geometry().bottom()


def test_it_scrolls_up_and_down_and_asks_for_its_panels_minimum_width(qtbot: Any) -> None:
    splitter = QSplitter()
    qtbot.addWidget(splitter)
    splitter.addWidget(QPushButton("table"))
    side = SidePanel(splitter)
    splitter.addWidget(side)
    splitter.resize(1000, 300)  # lower than the details need: they scroll
    splitter.show()
    qtbot.waitExposed(splitter)
    assert side.horizontalScrollBarPolicy() is Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    needs = side.panel.minimumSizeHint().width() + side.verticalScrollBar().sizeHint().width()
    assert side.minimumSizeHint().width() >= needs
    assert splitter.minimumSizeHint().width() >= needs  # the window cannot squeeze it narrower
    assert side.verticalScrollBar().maximum() > 0
