"""The language of the window and of epay (:class:`LanguageChoice`): the person's, not a profile's, so
the settings dialog keeps it beside the profiles. Chosen here, saved at once in the profile store, used
from the next start; ``saved()`` or ``not_saved(str)`` (why) says how the saving went."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from epay_desktop.i18n import LANGUAGES, _
from epay_desktop.services import ProfileStore, ProfileStoreError


class LanguageChoice(QComboBox):
    """The languages: "As the system" first, then every one of the app; shows the one saved in ``store``."""

    saved = Signal()
    not_saved = Signal(str)

    def __init__(self, store: ProfileStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self.setObjectName("Language")
        self.setAccessibleName(_("Language"))
        self.setToolTip(_("The language of the window and of epay; used from the next start."))
        self.addItem(_("As the system"), "")
        for code, name in LANGUAGES.items():
            self.addItem(name, code)
        try:
            chosen = store.language or ""
        except ProfileStoreError:
            chosen = ""
        self.setCurrentIndex(max(0, self.findData(chosen)))
        self.currentIndexChanged.connect(self._chosen)

    @property
    def code(self) -> str | None:
        """The language chosen (None: as the system)."""
        return self.currentData() or None

    def _chosen(self) -> None:
        try:
            self._store.set_language(self.code)
        except (OSError, ProfileStoreError) as error:
            self.not_saved.emit(str(error))
            return
        self.saved.emit()


__all__ = ["LanguageChoice"]
