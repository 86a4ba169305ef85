"""Nothing in the window skips the catalog: under ``x-pseudo`` (every translated text bracketed ⟦…⟧),
the main window in Demo, with a payment selected, shows no English sentence in any label, button,
action, tooltip, column title, status line, or in the cancel and capture dialogs.

Data stays as it is (descriptions, references, amounts), so the table's cells, the event table and
text fields are not read."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel, QTableView, QWidget

from epay_desktop.app import open_demo
from epay_desktop.domain import Action, cancel_outcome, check_action
from epay_desktop.i18n.pseudo import PSEUDO
from epay_desktop.ui.dialogs.cancel import CancelDialog
from epay_desktop.ui.dialogs.money_move import MoneyMoveDialog
from epay_desktop.ui.language import install_language
from epay_desktop.ui.window.main_window import SMALLEST, MainWindow
from tests.support.waiting import wait_until

_SENTENCE = re.compile(r"[A-Za-z]{2,}[,;:]? [A-Za-z]{2,}[,;:]? [A-Za-z]{2,}")
_HTML = re.compile(r"<[^>]+>")


@pytest.fixture
def pseudo(qapp: Any) -> Iterator[None]:
    install_language(PSEUDO, None)
    yield
    install_language("en", None)


def english(text: str) -> bool:
    """A sentence of English outside any ⟦…⟧ (what came through the catalog)."""
    outside = re.sub(r"⟦[^⟦⟧]*⟧", "", _HTML.sub(" ", text))
    while "⟦" in outside:  # nested: a translated sentence with a translated piece inside
        outside = re.sub(r"⟦[^⟦⟧]*⟧", "", outside)
    return bool(_SENTENCE.search(outside))


def words_of(root: QWidget) -> list[str]:
    texts: list[str] = []
    for widget in [root, *root.findChildren(QWidget)]:
        if isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
        if isinstance(widget, QGroupBox):
            texts.append(widget.title())
        texts.append(widget.toolTip())
        texts.append(widget.accessibleName())
        if isinstance(widget, QTableView) and widget.model() is not None:
            model = widget.model()
            for column in range(model.columnCount()):
                texts.append(str(model.headerData(column, Qt.Orientation.Horizontal) or ""))
    for action in root.findChildren(QAction):
        texts += [action.text(), action.toolTip(), action.statusTip()]
    return [text for text in texts if text]


def test_the_checker() -> None:
    assert english("Cancel the payment now")
    assert not english("⟦Çåñçél thé påýméñt ñöw·ˇ·ˇ⟧")
    assert not english("⟦Çåñçél ⟦thé påýméñt⟧ ñöw⟧ fjordkaffe-ord-100228")
    assert english("⟦Çåñçél⟧: the payment was not found")


def test_the_window_and_its_money_dialogs_say_nothing_in_english(
    pseudo: None, ui_loop: asyncio.AbstractEventLoop, tmp_path: Path, qtbot: Any
) -> None:
    async def main() -> None:
        session = await open_demo(tmp_path / "register.sqlite3")
        window = MainWindow(session.desk, show_error_dialogs=False, auto_refresh_ms=3_600_000)
        qtbot.addWidget(window)
        window.show_profile(session.desk.profile)
        window.resize(*SMALLEST)
        window.show()
        said: dict[str, list[str]] = {}
        try:
            await window.load(refresh=False)
            payments = [t for t in window.model.payments() if t.payment is not None]
            target = next(t for t in payments if check_action(t.payment, Action.CAPTURE).allowed)
            assert window.select_reference(target.reference)
            await wait_until(lambda: window.details.figures["authorized"].text() != "")
            await asyncio.sleep(0.05)
            said["main window"] = [t for t in words_of(window) if english(t)]
            said["status bar"] = [t for t in [window.statusBar().currentMessage()] if english(t)]
            outcome = cancel_outcome(target.payment)
            assert outcome is not None
            for name, dialog in {
                "cancel": CancelDialog(target, outcome, parent=window),
                "capture": MoneyMoveDialog(target, Action.CAPTURE, parent=window),
            }.items():
                qtbot.addWidget(dialog)
                dialog.show()
                await asyncio.sleep(0.05)
                said[name] = [t for t in words_of(dialog) if english(t)]
                dialog.close()
        finally:
            await window.shutdown()
            window.close()
            await session.aclose()
        found = {name: texts for name, texts in said.items() if texts}
        assert not found, found

    ui_loop.run_until_complete(main())
