"""The language of the window: our catalogs, Qt's own words for its standard dialogs, and QLocale.

Called once, after the QApplication exists and before the first widget is made (a widget reads its
words when it is built). The choice: ``--lang``, else the one saved in Settings, else the operating
system's (Qt reads it on every platform; the POSIX variables come after), else English.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from epay_desktop import i18n
from epay_desktop.i18n import pgettext
from epay_desktop.i18n.pseudo import PSEUDO

# Kept alive for the whole run: Qt does not own an installed translator.
_qt_translators: list[QTranslator] = []
# Qt ships no Bokmål catalog, only Nynorsk ("nn"): Bokmål starts from it and :class:`_BokmalWords`
# puts the Bokmål form over the words where the two differ (Lagra/Lagre, Opna/Åpne, Angra/Angre).
_QT_NAMES = {"nb": ("nb", "nn"), "da": ("da",), "fi": ("fi",), "en": ("en",), PSEUDO: ()}


def _bokmal_words() -> dict[str, str]:
    """Qt's English words whose Nynorsk form a Bokmål reader would notice, in our catalog (context
    "Qt") so a translator corrects them where every other word is."""
    return {
        "Save": pgettext("Qt", "Save"),
        "Save All": pgettext("Qt", "Save All"),
        "Open": pgettext("Qt", "Open"),
        "Yes to &All": pgettext("Qt", "Yes to &All"),
        "N&o to All": pgettext("Qt", "N&o to All"),
        "&Undo": pgettext("Qt", "&Undo"),
        "&Redo": pgettext("Qt", "&Redo"),
        "Show Details...": pgettext("Qt", "Show Details..."),
        "Hide Details...": pgettext("Qt", "Hide Details..."),
        "Copy &Link Location": pgettext("Qt", "Copy &Link Location"),
    }


class _BokmalWords(QTranslator):
    """Installed after Qt's Nynorsk catalog, so Qt asks it first; no answer (None) passes the question on."""

    def __init__(self, parent: QCoreApplication) -> None:
        super().__init__(parent)
        self._words = {source: text for source, text in _bokmal_words().items() if text != source}

    def translate(
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str | None:
        # None is a null QString: "not mine, ask the next translator". An empty string would be taken
        # as the translation, and every other standard button would be blank.
        return self._words.get(source)

    def isEmpty(self) -> bool:
        return not self._words


def system_preferences() -> list[str]:
    return [*QLocale.system().uiLanguages(), *i18n.system_languages()]


def install_language(requested: str | None, catalogs: Path | None, *, cache: Path | None = None) -> str:
    """Set the language of everything from now on; returns the language chosen (``en``, ``nb``, ...).
    ``cache``: where the compiled catalogs are kept (``i18n.load_catalog``)."""
    chosen = i18n.set_language(requested, catalogs, system_preferences(), cache=cache)
    QLocale.setDefault(QLocale(i18n.format_locale()))
    app = QCoreApplication.instance()
    if app is not None:
        for old in _qt_translators:
            app.removeTranslator(old)
        _qt_translators.clear()
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        for name in _QT_NAMES.get(chosen, ()):
            translator = QTranslator(app)
            if translator.load(f"qtbase_{name}", folder):
                app.installTranslator(translator)
                _qt_translators.append(translator)
                break
        if chosen == "nb":
            overlay = _BokmalWords(app)
            app.installTranslator(overlay)
            _qt_translators.append(overlay)
    return chosen


def qt_translates(text: str, context: str = "QPlatformTheme") -> str:
    """Qt's own word for ``text`` (``"Cancel"`` on a standard button) in the language installed."""
    return QCoreApplication.translate(context, text)
