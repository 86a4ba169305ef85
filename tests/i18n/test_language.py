"""Choosing the language, reading catalogs, the pseudo-language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from epay_desktop import i18n
from epay_desktop.i18n import _, ngettext, pgettext
from epay_desktop.i18n.pseudo import pseudo_translate

PO = r"""msgid ""
msgstr ""
"Language: nb\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"
"Content-Type: text/plain; charset=utf-8\n"

msgid "Refresh"
msgstr "Oppdater"

msgid "{n} payment"
msgid_plural "{n} payments"
msgstr[0] "{n} betaling"
msgstr[1] "{n} betalinger"

msgctxt "dialog button"
msgid "Cancel"
msgstr "Avbryt"

msgctxt "payment action"
msgid "Cancel"
msgstr "Kanseller"

#, fuzzy
msgid "Quit"
msgstr "Avslutt kanskje"
"""


@pytest.fixture
def catalogs(tmp_path: Path) -> Path:
    path = i18n.catalog_path(tmp_path, "nb")
    path.parent.mkdir(parents=True)
    path.write_text(PO, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("requested", "preferred", "chosen"),
    [
        ("nb", [], "nb"),
        (None, ["da_DK.UTF-8"], "da"),
        (None, ["sv_SE", "fi-FI"], "fi"),
        (None, ["no_NO"], "nb"),
        (None, ["nn_NO.UTF-8"], "nb"),
        ("de", ["fr_FR"], "en"),
        (None, ["C", "POSIX"], "en"),
        ("x-pseudo", ["nb_NO"], "x-pseudo"),
        ("da", ["nb_NO"], "da"),
    ],
)
def test_choose_language_prefers_the_request_then_the_system_then_english(
    requested: str | None, preferred: list[str], chosen: str
) -> None:
    assert i18n.choose_language(requested, preferred) == chosen


def test_a_catalog_translates_plain_plural_and_context(catalogs: Path) -> None:
    assert i18n.set_language("nb", catalogs) == "nb"
    assert _("Refresh") == "Oppdater"
    assert ngettext("{n} payment", "{n} payments", 1).format(n=1) == "1 betaling"
    assert ngettext("{n} payment", "{n} payments", 3).format(n=3) == "3 betalinger"
    assert pgettext("dialog button", "Cancel") == "Avbryt"
    assert pgettext("payment action", "Cancel") == "Kanseller"
    # A fuzzy entry is a guess nobody checked: the English source is shown instead.
    assert _("Quit") == "Quit"
    assert _("Not in the catalog") == "Not in the catalog"
    assert i18n.format_locale() == "nb_NO"


def test_a_missing_catalog_means_english_not_an_error(tmp_path: Path) -> None:
    assert i18n.set_language("fi", tmp_path) == "fi"
    assert _("Refresh") == "Refresh"
    assert i18n.format_locale() == "fi_FI"


def test_english_again_after_another_language(catalogs: Path) -> None:
    i18n.set_language("nb", catalogs)
    i18n.set_language("en", catalogs)
    assert _("Refresh") == "Refresh"


def test_pseudo_is_longer_accented_and_keeps_what_code_needs() -> None:
    text = pseudo_translate("Cancel {amount} for %(name)s &now: <b>sure</b>?")
    for kept in ("{amount}", "%(name)s", "<b>", "</b>", "&ñ"):
        assert kept in text
    assert text.startswith("⟦")
    assert text.endswith("⟧")
    assert re.search("[åçéîñöü]", text)
    source = "Refresh the whole register now"
    assert len(pseudo_translate(source)) >= 1.4 * len(source)
    assert pseudo_translate("") == ""


def test_pseudo_language_through_the_functions() -> None:
    i18n.set_language("x-pseudo", None)
    assert _("Refresh").startswith("⟦Réfréšh")
    assert ngettext("{n} payment", "{n} payments", 2).format(n=2).startswith("⟦2 påýméñtš")
    assert pgettext("dialog button", "Cancel").startswith("⟦Çåñçél")
