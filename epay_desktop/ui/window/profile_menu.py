"""Profile ▸ Switch profile: one entry per saved profile, read from the profile store each time the
menu opens; choosing one emits ``profile_chosen(Profile)`` (the window asks the composition root)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMenu, QWidget

from epay_desktop.i18n import _


class ProfileMenu(QMenu):
    profile_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.current: str | None = None  # the open profile's name (checked in the list)
        self.aboutToShow.connect(self.fill)

    def fill(self) -> None:
        from epay_desktop.services import ProfileStore, ProfileStoreError  # when first opened

        self.clear()
        try:
            profiles = ProfileStore().list()
        except ProfileStoreError as error:
            broken = self.addAction(_("Profiles file unreadable: {error}").format(error=error))
            broken.setEnabled(False)
            return
        for profile in profiles:
            label = f"{profile.name}  ({'PRODUCTION' if profile.is_production else profile.kind.value})"
            action = self.addAction(label)
            action.setCheckable(True)
            action.setChecked(profile.name == self.current)
            action.setStatusTip(
                _("Open {name} (MSN {merchant_serial_number}).").format(
                    name=profile.name, merchant_serial_number=profile.merchant_serial_number
                )
            )
            action.triggered.connect(lambda _checked=False, p=profile: self.profile_chosen.emit(p))


__all__ = ["ProfileMenu"]
