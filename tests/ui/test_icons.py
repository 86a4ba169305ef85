"""Every icon the window asks for exists (``theme.icon`` falls back to an empty icon, which hides a typo)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QApplication

from epay_desktop.paths import resource
from epay_desktop.ui.theme import apply_style
from epay_desktop.ui.window.action_specs import ACTIONS
from epay_desktop.ui.window.main_window import MainWindow


def test_every_icon_an_action_declares_is_a_resource() -> None:
    names = {spec.icon for spec in ACTIONS if spec.icon}
    assert len(names) >= 5  # the toolbar's icons
    missing = sorted(n for n in names if not resource("icons", f"{n}.svg").is_file())
    assert not missing, f"icons asked for but not in resources/icons: {missing}"


def test_the_window_shows_every_declared_icon(qtbot: Any) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    for spec in ACTIONS:
        assert window.action(spec.id).icon().isNull() is not bool(spec.icon), spec.id
    search_icons = [a.icon() for a in window.filter_bar.search.actions()]
    assert search_icons
    assert not search_icons[0].isNull()
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_style(app)
    assert not app.windowIcon().isNull()
