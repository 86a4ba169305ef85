"""Nothing untranslated, nothing glued: the sources and the catalogs checked against each other.

Every text marked in the sources (``_``, ``ngettext``, ``pgettext``, ``npgettext``, ``N_``) must have a
checked (not fuzzy) translation in each catalog, with the same placeholders; and no message may be built
by gluing translated pieces or by formatting the msgid before it is looked up.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from epay_desktop import i18n

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "epay_desktop"
CATALOGS = ROOT / "resources" / "translations"
LANGUAGES = [code for code in i18n.LANGUAGES if code != i18n.ENGLISH]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "N_": None,
}
_PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([^)]*\)[sdif]|%[sdif]")


def _source_messages() -> dict[tuple[str | None, str], tuple[str, ...]]:
    found: dict[tuple[str | None, str], tuple[str, ...]] = {}
    for filename, _lineno, message, _comments, context in extract_from_dir(
        str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        ids = (message,) if isinstance(message, str) else tuple(message)
        assert all(ids), f"an empty or non-literal message in {filename}"
        found[(context, ids[0])] = ids
    return found


def _placeholders(text: str) -> list[str]:
    return sorted(_PLACEHOLDER.findall(text))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_the_same_placeholders(language: str) -> None:
    with i18n.catalog_path(CATALOGS, language).open("rb") as handle:
        catalog = read_po(handle)
    problems: list[str] = []
    for (context, msgid), ids in _source_messages().items():
        entry = catalog.get(msgid, context=context)
        name = f"{context + ' | ' if context else ''}{msgid!r}"
        if entry is None:
            problems.append(f"missing: {name}")
            continue
        translations = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
        if entry.fuzzy or not all(translations):
            problems.append(f"untranslated or fuzzy: {name}")
            continue
        wanted = _placeholders(ids[-1])
        for text in translations:
            if _placeholders(text) != wanted and _placeholders(text) != _placeholders(ids[0]):
                problems.append(f"placeholders differ: {name} -> {text!r}")
    assert not problems, f"{language}: " + "; ".join(problems)


def test_the_catalogs_are_read_the_way_the_app_reads_them() -> None:
    for language in LANGUAGES:
        assert i18n.set_language(language, CATALOGS) == language


_TRANSLATING = {"_", "gettext", "ngettext", "pgettext", "npgettext", "N_"}


def _is_translation(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _TRANSLATING


def _imports_underscore(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "epay_desktop.i18n"
        and any(alias.name == "_" for alias in node.names)
        for node in ast.walk(tree)
    )


def _glue_problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if not _imports_underscore(tree) and "i18n" not in path.read_text(encoding="utf-8"):
        return []
    where = path.relative_to(ROOT)
    problems: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _is_translation(node):
            for arg in node.args:
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)) and not (
                    isinstance(node.func, ast.Name)
                    and node.func.id in {"ngettext", "npgettext"}
                    and arg is node.args[-1]
                ):
                    problems.append(f"{where}:{node.lineno}: the message must be one string literal")
            for arg in node.args:
                if (
                    isinstance(arg, ast.Constant)
                    and isinstance(arg.value, str)
                    and re.search(r"\{\}|%[sd]", arg.value)
                ):
                    problems.append(f"{where}:{node.lineno}: unnamed placeholder (name it: {{amount}})")
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Add)
            and (_is_translation(node.left) or _is_translation(node.right))
        ):
            problems.append(
                f"{where}:{node.lineno}: a sentence glued from a translated piece (use one message)"
            )
        if isinstance(node, ast.JoinedStr):
            for value in node.values:
                if isinstance(value, ast.FormattedValue) and _is_translation(value.value):
                    problems.append(
                        f"{where}:{node.lineno}: a translated piece inside an f-string (use one message)"
                    )
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join":
            for arg in node.args:
                if isinstance(arg, ast.List | ast.Tuple) and any(_is_translation(e) for e in arg.elts):
                    problems.append(
                        f"{where}:{node.lineno}: translated pieces joined into one text (use one message)"
                    )
        if (
            _imports_underscore(tree)
            and isinstance(node, ast.Name)
            and node.id == "_"
            and isinstance(node.ctx, ast.Store)
        ):
            problems.append(
                f"{where}:{node.lineno}: '_' is the translation function here; do not assign to it"
            )
    return problems


def test_no_message_is_glued_from_translated_pieces() -> None:
    # The i18n package itself passes messages through; everything that uses it is checked.
    sources = [
        path for path in sorted(PACKAGE.rglob("*.py")) if "i18n" not in path.relative_to(PACKAGE).parts
    ]
    problems = [problem for path in sources for problem in _glue_problems(path)]
    assert not problems, "\n".join(problems)


def test_the_glue_check_finds_glue(tmp_path: Path) -> None:
    sample = PACKAGE / "ui" / "_glue_sample_for_test.py"
    sample.write_text(
        "from epay_desktop.i18n import _, ngettext\n"
        "a = _('Cancel') + ' ' + _('payment')\n"
        "b = f'{_(\"Amount\")}: 5'\n"
        "c = ' '.join([_('x'), _('y')])\n"
        "d = _('Cancel {}'.format(1))\n"
        "e = _('%s payments')\n"
        "for _ in range(2):\n    pass\n"
        "ok = _('Cancel {amount}').format(amount=1)\n"
        "ok2 = ngettext('{n} payment', '{n} payments', 2)\n",
        encoding="utf-8",
    )
    try:
        problems = _glue_problems(sample)
    finally:
        sample.unlink()
    assert len(problems) == 7, problems
    assert not any(":8:" in p or ":9:" in p for p in problems)
