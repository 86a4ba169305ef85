"""Qt's own words for its standard dialogs (buttons, the file dialog, a line edit's context menu) follow
the language chosen: qtbase_<language>.qm from PySide6's translations folder, and for Bokmål Qt's
Nynorsk catalog with our Bokmål words over the ones that differ."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QLibraryInfo
from PySide6.QtWidgets import QDialogButtonBox, QLineEdit, QMessageBox

from epay_desktop.ui.language import install_language

CATALOGS = Path(__file__).resolve().parents[2] / "resources" / "translations"


@pytest.fixture
def back_to_english(qapp: Any) -> Iterator[None]:
    yield
    install_language("en", None)


def _button_texts(qtbot: Any) -> dict[str, str]:
    box = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Cancel
        | QDialogButtonBox.StandardButton.Save
        | QDialogButtonBox.StandardButton.Close
    )
    qtbot.addWidget(box)
    texts = {
        name: box.button(button).text().replace("&", "")
        for name, button in (
            ("cancel", QDialogButtonBox.StandardButton.Cancel),
            ("save", QDialogButtonBox.StandardButton.Save),
            ("close", QDialogButtonBox.StandardButton.Close),
        )
    }
    message = QMessageBox(QMessageBox.Icon.Question, "", "", QMessageBox.StandardButton.Yes)
    qtbot.addWidget(message)
    texts["yes"] = message.button(QMessageBox.StandardButton.Yes).text().replace("&", "")
    return texts


def test_pyside6_ships_qts_catalogs_for_our_languages() -> None:
    folder = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))
    for name in ("da", "fi", "nn"):
        assert (folder / f"qtbase_{name}.qm").is_file(), name


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", {"cancel": "Cancel", "save": "Save", "close": "Close", "yes": "Yes"}),
        ("da", {"cancel": "Annuller", "save": "Gem", "close": "Luk", "yes": "Ja"}),
        # Qt's own Finnish (as GTK's) for a dialog's Cancel is "Peru".
        ("fi", {"cancel": "Peru", "save": "Tallenna", "close": "Sulje", "yes": "Kyllä"}),
        # Nynorsk would say "Lagra"; Bokmål says "Lagre".
        ("nb", {"cancel": "Avbryt", "save": "Lagre", "close": "Lukk", "yes": "Ja"}),
    ],
)
def test_standard_buttons_speak_the_language_chosen(
    language: str, expected: dict[str, str], back_to_english: None, qtbot: Any
) -> None:
    assert install_language(language, CATALOGS) == language
    assert _button_texts(qtbot) == expected


def test_english_again_removes_qts_translations(back_to_english: None, qtbot: Any) -> None:
    install_language("da", CATALOGS)
    install_language("en", CATALOGS)
    assert _button_texts(qtbot)["cancel"] == "Cancel"


def test_a_line_edits_context_menu_speaks_bokmal(back_to_english: None, qtbot: Any) -> None:
    install_language("nb", CATALOGS)
    field = QLineEdit("1 234,50")
    qtbot.addWidget(field)
    menu = field.createStandardContextMenu()
    texts = [action.text().split("\t")[0].replace("&", "") for action in menu.actions() if action.text()]
    menu.deleteLater()
    # Bokmål "Angre" over Nynorsk "Angra"; the rest is Qt's own catalog.
    assert "Angre" in texts
    assert "Lim inn" in texts
    assert not any(text in {"Undo", "Paste", ""} for text in texts), texts
