"""The words people read, in their language: gettext catalogs, the language in use, and CLDR formats.

Every layer that makes text for a person (domain rules, api advice, services, the ``epay`` command line,
the window) imports its functions from here, so this package sits below all of them and imports nothing
of ours::

    from epay_desktop.i18n import _, ngettext, pgettext, N_

    _("Cancel the payment")                        # a sentence: translated at the call
    ngettext("{n} payment", "{n} payments", n).format(n=n)
    pgettext("dialog button", "Cancel")            # the same English word, another meaning
    LABEL = N_("Refresh")                          # marked for extraction, translated where it is shown

Rules that keep translations possible (a test reads the sources and enforces them):

- the argument of ``_``/``ngettext``/``pgettext``/``N_`` is one string literal, never built;
- placeholders are named (``{amount}``) and filled by ``.format`` *after* translation, so a translator
  can move them; a sentence is never glued from translated pieces (``_("a") + _("b")``).

The catalogs are ``<catalogs>/<language>/LC_MESSAGES/epay_desktop.po``, read with Babel at start (no
compile step to forget; a fuzzy entry is not used). :func:`set_language` is called once by each
composition root (the window, ``epay``); until then every text is the English source, which is what the
tests below ``ui/`` see.

``x-pseudo`` is not a language but a check: every text about 40 % longer and full of accents, so a
clipped label or a string that never went through the catalog shows at a glance (see :mod:`.pseudo`).
"""

from __future__ import annotations

import gettext as _gettext
import io
import locale as _locale
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from epay_desktop.i18n.pseudo import PSEUDO, pseudo_translate

DOMAIN = "epay_desktop"
ENGLISH = "en"
# The languages people can choose, by their code, each named in its own language (the Settings list).
LANGUAGES: dict[str, str] = {
    "en": "English",
    "nb": "Norsk bokmål",
    "da": "Dansk",
    "fi": "Suomi",
}
# The CLDR locale whose formats (numbers, money, dates) go with each language.
_FORMAT_LOCALES = {"en": "en_GB", "nb": "nb_NO", "da": "da_DK", "fi": "fi_FI", PSEUDO: "en_GB"}
# What an operating system may call a language we speak: Nynorsk and the old "no" read Bokmål well.
_ALIASES = {"no": "nb", "nn": "nb", "nb": "nb", "da": "da", "fi": "fi", "en": "en"}


class _Pseudo(_gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return pseudo_translate(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return pseudo_translate(msgid1 if n == 1 else msgid2)

    def pgettext(self, context: str, message: str) -> str:
        return pseudo_translate(message)

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        return pseudo_translate(msgid1 if n == 1 else msgid2)


_translations: _gettext.NullTranslations = _gettext.NullTranslations()
_language = ENGLISH


def _(message: str) -> str:
    """``message`` in the language in use (the English source when the catalog has no translation)."""
    return _translations.gettext(message)


def gettext(message: str) -> str:
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a sentence with a count that fits ``n`` in the language in use."""
    return _translations.ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in a ``context`` (``"Cancel"`` a dialog is not ``"Cancel"`` a payment)."""
    return _translations.pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return _translations.npgettext(context, singular, plural, n)


def N_(message: str) -> str:
    """Marks ``message`` for the catalog without translating it: for text declared as data at import
    (actions, column titles) that is translated with ``_`` where it is shown, after the language is set."""
    return message


def translate(marked: str) -> str:
    """A text marked with :func:`N_` where it was declared, in the language in use now."""
    return _translations.gettext(marked)


def language() -> str:
    """The language in use: ``en``, ``nb``, ``da``, ``fi`` or ``x-pseudo``."""
    return _language


def format_locale() -> str:
    """The CLDR locale for numbers, money and dates in the language in use (``nb_NO``, ...)."""
    return _FORMAT_LOCALES[_language]


def supported(code: str | None) -> str | None:
    """Our language for an OS or user locale name (``nb_NO.UTF-8``, ``da-DK``, ``no``, ``x-pseudo``);
    None for a language we do not speak."""
    if not code:
        return None
    code = code.strip()
    if code.lower() == PSEUDO:
        return PSEUDO
    base = code.replace("-", "_").split(".")[0].split("@")[0].split("_")[0].lower()
    return _ALIASES.get(base)


def system_languages() -> list[str]:
    """The operating system's preferred languages, most preferred first (POSIX variables; the
    window adds Qt's reading of the OS, which also knows Windows and macOS settings)."""
    found: list[str] = []
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            found.extend(part for part in value.split(":") if part)
    try:
        current = _locale.getlocale(_locale.LC_MESSAGES if hasattr(_locale, "LC_MESSAGES") else 0)[0]
    except ValueError:
        current = None
    if current:
        found.append(current)
    return found


def requested_in(argv: Sequence[str]) -> str | None:
    """``--lang CODE`` or ``--lang=CODE`` among command-line arguments (read before the parser, whose
    help is in that language)."""
    for index, arg in enumerate(argv):
        if arg == "--lang" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
    return None


def choose_language(requested: str | None, preferred: Iterable[str] = ()) -> str:
    """``requested`` (``--lang``, Settings) when we speak it, else the first of ``preferred`` (the
    OS's languages) we speak, else English. ``C``/``POSIX`` mean "no preference"."""
    for code in (requested, *preferred):
        chosen = supported(code)
        if chosen is not None:
            return chosen
    return ENGLISH


def catalog_path(catalogs: Path, code: str) -> Path:
    return catalogs / code / "LC_MESSAGES" / f"{DOMAIN}.po"


# Part of a compiled catalog's name: a change in how catalogs are compiled compiles them all again.
_COMPILED_FORMAT = b"epay-mo-1"


def load_catalog(path: Path, cache: Path | None = None) -> _gettext.GNUTranslations:
    """A ``.po`` file as gettext translations (through Babel's reader and .mo writer: plural forms
    come from the catalog's header; fuzzy entries are left out, as ``msgfmt`` does).

    ``cache``: a folder where the compiled catalog is kept, named by the ``.po``'s content: the next
    start reads it with gettext alone (some 200 ms less before the window's first paint than reading
    the ``.po`` with Babel). A kept file that cannot be read is compiled again; one that cannot be
    written only costs the next start the compile."""
    source = path.read_bytes()
    kept = None
    if cache is not None:
        import hashlib

        digest = hashlib.sha256(_COMPILED_FORMAT + source).hexdigest()[:24]
        kept = cache / f"{path.parent.parent.name}-{digest}.mo"
        try:
            with kept.open("rb") as handle:
                return _gettext.GNUTranslations(handle)
        except Exception:  # missing, or damaged (gettext raises several kinds): compiled again below
            pass
    compiled = _compiled(source)
    if kept is not None:
        _keep(kept, compiled)
    return _gettext.GNUTranslations(io.BytesIO(compiled))


def _compiled(source: bytes) -> bytes:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(io.BytesIO(source), domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    return compiled.getvalue()


def _keep(kept: Path, compiled: bytes) -> None:
    """Write ``kept`` whole (a new name, then renamed) and drop the language's older compilations."""
    language = kept.name.split("-")[0]
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        partial = kept.with_name(f"{kept.name}.{os.getpid()}.part")
        partial.write_bytes(compiled)
        os.replace(partial, kept)
        for old in kept.parent.glob(f"{language}-*.mo"):
            if old != kept:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # the catalog is in use from memory; the next start compiles it again


def set_language(
    requested: str | None, catalogs: Path | None, preferred: Sequence[str] = (), *, cache: Path | None = None
) -> str:
    """Use ``requested`` (or the first of ``preferred`` we speak, or English) from now on; returns the
    language chosen. ``catalogs`` is the folder of the ``.po`` files (None: English only); ``cache``:
    where compiled catalogs are kept (``load_catalog``). A missing catalog means the English source,
    never an error: the window must open."""
    global _translations, _language
    chosen = choose_language(requested, preferred)
    translations: _gettext.NullTranslations = _gettext.NullTranslations()
    if chosen == PSEUDO:
        translations = _Pseudo()
    elif chosen != ENGLISH and catalogs is not None and catalog_path(catalogs, chosen).is_file():
        translations = load_catalog(catalog_path(catalogs, chosen), cache)
    _translations, _language = translations, chosen
    return chosen
