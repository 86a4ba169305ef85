"""The README's user part in each language: docs/README.<language>.md exists, is linked from README.md,
shows the window and the cancel dialog in its language, and names the menus and buttons exactly as the
program says them (every **bold** name is in that language's catalog)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from epay_desktop import i18n

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = [code for code in i18n.LANGUAGES if code != i18n.ENGLISH]


def _catalog_text(language: str) -> str:
    with i18n.catalog_path(ROOT / "resources" / "translations", language).open("rb") as handle:
        catalog = read_po(handle)
    texts: list[str] = []
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        texts += [s for s in strings if s]
    return "\n".join(texts).replace("&", "").lower()


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_has_its_user_guide_with_its_pictures(language: str) -> None:
    guide = ROOT / "docs" / f"README.{language}.md"
    text = guide.read_text(encoding="utf-8")
    assert f"docs/README.{language}.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert f"screenshots/window-{language}.png" in pictures
    assert f"screenshots/cancel-{language}.png" in pictures
    for picture in pictures:
        assert (guide.parent / picture).is_file(), picture


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_guide_names_menus_and_buttons_as_the_program_does(language: str) -> None:
    text = (ROOT / "docs" / f"README.{language}.md").read_text(encoding="utf-8")
    said = _catalog_text(language)
    missing = [
        name
        for bold in re.findall(r"\*\*([^*]+)\*\*", text)
        for name in bold.split(" → ")
        if " ".join(name.replace("…", "").split()).lower() not in said
    ]
    assert not missing, f"{language}: named in the guide, not in the catalog: {missing}"
