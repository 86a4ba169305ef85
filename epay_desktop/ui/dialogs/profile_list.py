"""The settings dialog's list of saved profiles (:class:`ProfileList`): one entry per profile with its
kind, Production's in red; the profiles shown are ``profiles``, in the list's order."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from epay_desktop.i18n import N_, _, translate
from epay_desktop.services import Profile, ProfileKind
from epay_desktop.ui.dialogs.profile_form import PRODUCTION_RED

LIST_KIND = {
    ProfileKind.DEMO: N_("built-in sandbox"),
    ProfileKind.TEST: N_("test"),
    ProfileKind.PRODUCTION: N_("PRODUCTION"),
    ProfileKind.CUSTOM: N_("custom URL"),
    ProfileKind.TEAM: N_("team server"),
}


class ProfileList(QListWidget):
    """Object name ``ProfileList``. ``currentRowChanged(int)`` says which row is selected;
    :meth:`profile_at` says which profile that is."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ProfileList")
        self.setAccessibleName(_("Profiles"))
        self.profiles: list[Profile] = []

    def show_profiles(self, profiles: list[Profile], select: str | None) -> None:
        """Show ``profiles`` and select the one named ``select`` (the first when none is). Emptying and
        filling the list says nothing; the selection's change is said (``currentRowChanged``)."""
        self.profiles = profiles
        self.blockSignals(True)
        self.clear()
        for profile in profiles:
            item = QListWidgetItem(f"{profile.name}  ·  {translate(LIST_KIND[profile.kind])}")
            item.setData(Qt.ItemDataRole.UserRole, profile.name)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{profile.name}, {profile.kind.value}")
            if profile.is_production:
                item.setForeground(QBrush(QColor(PRODUCTION_RED)))
            self.addItem(item)
        self.blockSignals(False)
        names = [p.name for p in profiles]
        self.setCurrentRow(names.index(select) if select in names else 0)

    def profile_at(self, row: int) -> Profile | None:
        """The profile of ``row`` (None outside the list)."""
        return self.profiles[row] if 0 <= row < len(self.profiles) else None


__all__ = ["LIST_KIND", "ProfileList"]
