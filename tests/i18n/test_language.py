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


def _catalog_of(translations: object) -> dict[object, str]:
    catalog: dict[object, str] = translations._catalog  # type: ignore[attr-defined]
    return dict(catalog)


@pytest.mark.parametrize("code", ["nb", "da", "fi"])
def test_a_kept_compiled_catalog_says_what_the_po_says(code: str, tmp_path: Path) -> None:
    from epay_desktop.paths import resource

    po = i18n.catalog_path(resource("translations"), code)
    fresh = i18n.load_catalog(po)
    first = i18n.load_catalog(po, tmp_path)  # compiles and keeps
    kept = list(tmp_path.glob(f"{code}-*.mo"))
    assert len(kept) == 1
    again = i18n.load_catalog(po, tmp_path)  # read from the kept file
    assert _catalog_of(again) == _catalog_of(first) == _catalog_of(fresh)
    assert len(_catalog_of(fresh)) > 100


def test_a_changed_catalog_is_compiled_again_and_the_old_one_dropped(catalogs: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    po = i18n.catalog_path(catalogs, "nb")
    i18n.set_language("nb", catalogs, cache=cache)
    assert _("Refresh") == "Oppdater"
    before = list(cache.glob("nb-*.mo"))
    po.write_text(PO.replace("Oppdater", "Oppfrisk"), encoding="utf-8")
    i18n.set_language("nb", catalogs, cache=cache)
    assert _("Refresh") == "Oppfrisk"
    after = list(cache.glob("nb-*.mo"))
    assert len(after) == 1
    assert after != before


def test_a_damaged_kept_catalog_is_compiled_again(catalogs: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    i18n.set_language("nb", catalogs, cache=cache)
    (kept,) = cache.glob("nb-*.mo")
    for damage in (b"", b"\x95\x04\x12\xde" + b"\xff" * 40, kept.read_bytes()[:30]):
        kept.write_bytes(damage)
        i18n.set_language("nb", catalogs, cache=cache)
        assert _("Refresh") == "Oppdater"
        assert pgettext("payment action", "Cancel") == "Kanseller"
        assert kept.read_bytes() != damage  # written again, whole


def test_a_cache_that_cannot_be_written_still_gives_the_language(catalogs: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be", encoding="utf-8")
    assert i18n.set_language("nb", catalogs, cache=blocked) == "nb"
    assert _("Refresh") == "Oppdater"
