"""Settings: the profiles (Demo, Test, Production, a custom base URL), their secrets, Test connection.

Plain settings go to the services' :class:`~epay_desktop.services.ProfileStore`; the client secret and
the subscription key go to its :class:`~epay_desktop.services.SecretStore` (the OS keyring), never to a
file. Stored secrets are never shown again: the fields stay empty ("type to replace"), so they cannot
leak through a screenshot. Where no keyring backend works, a notice says the secrets are kept for this
session only. Production is marked in red (banner, list entry, window title).

Its parts: the saved profiles (:class:`~epay_desktop.ui.dialogs.profile_list.ProfileList`), the
language beside them (:class:`~epay_desktop.ui.dialogs.language_choice.LanguageChoice`), the fields of
one profile (:class:`~epay_desktop.ui.dialogs.profile_form.ProfileForm`) and what is kept of its secrets
(:class:`~epay_desktop.ui.dialogs.kept_secrets.KeptSecrets`). The dialog composes them and runs Save,
Test connection, Delete and Use.

Keyring and file calls run in a worker thread (a keyring may wait for an unlock prompt), through the
dialog's :class:`~epay_desktop.ui.aio.TaskRunner`.

Usage (main window)::

    dialog = SettingsDialog(ProfileStore(), secret_store, test_connection=services.test_connection,
                            current=desk.profile.name, parent=window)
    dialog.profile_chosen.connect(window.switch_profile)     # Profile
    dialog.open()
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from epay_desktop.i18n import _
from epay_desktop.services import (
    DEMO_PROFILE,
    DEMO_SECRETS,
    Profile,
    ProfileError,
    ProfileKind,
    ProfileSecrets,
    ProfileStore,
    ProfileStoreError,
    SecretStore,
)
from epay_desktop.ui.dialogs.feedback import StatusLabel, Tone, describe_error, dialog_runner
from epay_desktop.ui.dialogs.kept_secrets import KeptSecrets
from epay_desktop.ui.dialogs.language_choice import LanguageChoice
from epay_desktop.ui.dialogs.profile_form import KIND_LABELS, PRODUCTION_RED, ProfileForm
from epay_desktop.ui.dialogs.profile_list import ProfileList

ConnectionTester = Callable[[Profile, ProfileSecrets | None], Awaitable[Any]]


class SettingsDialog(QDialog):
    """Edit profiles and choose the one to work with.

    Args:
        store: where profiles are kept (``ProfileStore()``).
        secrets: where client secrets and subscription keys are kept (one ``SecretStore`` for the app:
            secrets kept for the session only live in it).
        test_connection: ``await test_connection(profile, secrets)`` fetches a token through the services
            and answers ``(ok, sentence)`` (the services' ``test_connection``); a tester that raises the
            client's error or returns a sentence works too.
        current: name of the profile in use (selected first).

    Signals:
        profile_chosen(Profile): "Use this profile" (or a double click) on a saved profile.
        profiles_changed(): a profile was saved or deleted.
    """

    profile_chosen = Signal(object)
    profiles_changed = Signal()

    def __init__(
        self,
        store: ProfileStore,
        secrets: SecretStore,
        *,
        test_connection: ConnectionTester | None = None,
        current: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.secrets = secrets
        self.kept = KeptSecrets(secrets)
        self.test_connection = test_connection
        self.setObjectName("SettingsDialog")
        self.setWindowTitle(_("Settings: profiles"))
        self.editing: Profile | None = None  # the saved profile the form shows (None: a new one)

        # Left: the saved profiles.
        self.profile_list = ProfileList(self)
        self.profile_list.currentRowChanged.connect(self._row_changed)
        self.profile_list.itemActivated.connect(lambda _item: self.start_use())
        self.new_button = QPushButton(_("&New profile"), self)
        self.new_button.setAccessibleName(_("New profile"))
        self.new_button.clicked.connect(self.new_profile)
        self.delete_button = QPushButton(_("&Delete"), self)
        self.delete_button.setAccessibleName(_("Delete the selected profile"))
        self.delete_button.clicked.connect(self.start_delete)
        left = QVBoxLayout()
        list_label = QLabel(_("&Profiles"), self)
        list_label.setBuddy(self.profile_list)
        left.addWidget(list_label)
        left.addWidget(self.profile_list, 1)
        left_buttons = QHBoxLayout()
        left_buttons.addWidget(self.new_button)
        left_buttons.addWidget(self.delete_button)
        left.addLayout(left_buttons)
        # The language is the person's, not a profile's: it is kept beside the profiles.
        self.language_combo = LanguageChoice(self.store, self)
        self.language_combo.saved.connect(self._language_saved)
        self.language_combo.not_saved.connect(self._language_not_saved)
        language_label = QLabel(_("&Language"), self)
        language_label.setBuddy(self.language_combo)
        left.addWidget(language_label)
        left.addWidget(self.language_combo)

        # Right: the form.
        self.production_banner = QLabel(_("PRODUCTION: real customers and real money."), self)
        self.production_banner.setObjectName("ProductionBanner")
        self.production_banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.production_banner.setStyleSheet(
            f"background: {PRODUCTION_RED}; color: white; font-weight: bold; padding: 6px;"
        )
        self.demo_note = QLabel(
            _("The built-in sandbox: nothing real is touched. It cannot be changed."), self
        )
        self.demo_note.setWordWrap(True)
        self.form_box = ProfileForm(self)
        self.name_edit = self.form_box.name_edit
        self.kind_combo = self.form_box.kind_combo
        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        self.base_url_edit = self.form_box.base_url_edit
        self.unencrypted_check = self.form_box.unencrypted_check
        self.msn_edit = self.form_box.msn_edit
        self.client_id_edit = self.form_box.client_id_edit
        self.client_secret_edit = self.form_box.client_secret_edit
        self.subscription_key_edit = self.form_box.subscription_key_edit
        self.secrets_state = self.form_box.secrets_state
        self.keyring_notice = QLabel(self)
        self.keyring_notice.setObjectName("KeyringNotice")
        self.keyring_notice.setWordWrap(True)
        self.keyring_notice.setStyleSheet("color: #8a4b00;")

        self.test_button = QPushButton(_("&Test connection"), self)
        self.test_button.setAccessibleName(_("Test connection: fetch an access token"))
        self.test_button.clicked.connect(self.start_test)
        self.save_button = QPushButton(_("Sa&ve"), self)
        self.save_button.setAccessibleName(_("Save the profile"))
        self.save_button.clicked.connect(self.start_save)
        self.status = StatusLabel(_("Settings status"), self)
        self.status.setObjectName("SettingsStatus")
        self.runner = dialog_runner(self.status, self._busy_changed)
        actions = QHBoxLayout()
        actions.addWidget(self.test_button)
        actions.addStretch(1)
        actions.addWidget(self.save_button)

        right = QVBoxLayout()
        right.addWidget(self.production_banner)
        right.addWidget(self.demo_note)
        right.addWidget(self.form_box)
        right.addWidget(self.keyring_notice)
        right.addLayout(actions)
        right.addWidget(self.status)
        right.addStretch(1)

        self.buttons = QDialogButtonBox(self)
        self.use_button = self.buttons.addButton(
            _("&Use this profile"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.use_button.setAccessibleName(_("Use this profile"))
        self.use_button.setDefault(True)
        self.use_button.clicked.connect(self.start_use)
        close = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName(_("Close"))
        close.clicked.connect(self.reject)

        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(self.buttons)

        self._show_keyring_notice()
        try:
            last_used = self.store.last_used
        except ProfileStoreError:
            last_used = DEMO_PROFILE.name
        self.reload(select=current or last_used)
        self.resize(760, 480)

    def _language_saved(self) -> None:
        self.status.show_message(_("Saved. The new language is used from the next start."), Tone.OK)

    def _language_not_saved(self, error: str) -> None:
        self.status.show_error(_("The language was not saved: {error}").format(error=error))

    # --- list and form ---------------------------------------------------------------------------

    def reload(self, select: str | None = None) -> None:
        """Re-read the profiles (a small JSON file) and select ``select`` (or keep the selection)."""
        selected = select or (self.editing.name if self.editing else None)
        problem = ""
        try:
            profiles = self.store.list()
        except ProfileStoreError as error:
            # A damaged profiles file is left as it is; the built-in Demo profile still works.
            profiles = [DEMO_PROFILE]
            problem = str(error)
        self.profile_list.show_profiles(profiles, selected)
        self._row_changed(self.profile_list.currentRow())
        if problem:
            self.status.show_error(problem)

    def _row_changed(self, row: int) -> None:
        if (profile := self.profile_list.profile_at(row)) is not None:
            self.show_profile(profile)

    def show_profile(self, profile: Profile | None) -> None:
        """Fill the form from ``profile`` (None: an empty new Test profile). Secret fields stay empty."""
        self.editing = profile
        self.form_box.fill(profile)
        self._kind_changed()
        self.status.show_message("")
        if profile is not None and not profile.is_demo:
            self.runner.start("secrets-state", self._load_secrets_state(profile))

    def _kind_changed(self) -> None:
        builtin = self.editing is not None and self.editing.is_demo
        production = self.current_kind() is ProfileKind.PRODUCTION
        self.production_banner.setVisible(production)
        self.demo_note.setVisible(builtin)
        self.setWindowTitle(_("Settings: profiles  [PRODUCTION]") if production else "Settings: profiles")
        self.form_box.apply_kind(self.editing)
        self._busy_changed()

    def _busy_changed(self, _name: str = "", _busy: bool = False) -> None:
        running = self.runner.is_running
        builtin = self.editing is not None and self.editing.is_demo
        saving = running("save") or running("use") or running("delete")
        self.save_button.setEnabled(not builtin and not saving)
        self.use_button.setEnabled(not saving)
        self.delete_button.setEnabled(self.editing is not None and not builtin and not saving)
        self.test_button.setEnabled(not running("test"))

    def current_kind(self) -> ProfileKind:
        return self.form_box.current_kind()

    def form_profile(self) -> Profile:
        """The profile as the form shows it now (not validated, not saved)."""
        return self.form_box.profile(self.editing)

    def typed_secrets(self) -> tuple[str, str]:
        return self.form_box.typed_secrets()

    def _show_keyring_notice(self) -> None:
        if not (notice := self.kept.notice):
            self.keyring_notice.hide()
        else:
            # Said here once for the whole visit; the secrets line and the save message do not repeat it.
            self.keyring_notice.setText(notice)
            self.keyring_notice.show()

    def new_profile(self) -> None:
        self.profile_list.clearSelection()
        self.show_profile(None)
        self.name_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- actions ---------------------------------------------------------------------------------

    def start_save(self) -> None:
        self.runner.start("save", self.save(), replace=False)

    def start_test(self) -> None:
        self.runner.start("test", self.test())

    def start_delete(self) -> None:
        self.runner.start("delete", self.delete(), replace=False)

    def start_use(self) -> None:
        self.runner.start("use", self.use(), replace=False)

    async def _load_secrets_state(self, profile: Profile) -> None:
        if profile.is_team:
            self.secrets_state.setText(
                _(
                    "The team server holds the merchant's secrets; you log in as {agent} when you use it."
                ).format(agent=profile.agent)
            )
            return
        text = await self.kept.state_of(profile)
        if self.editing == profile:
            self.secrets_state.setText(text)

    async def _secrets_for(self, profile: Profile, previous_name: str | None) -> ProfileSecrets | None:
        """Typed secrets, completed by the stored ones (from ``previous_name`` when renamed)."""
        return await self.kept.completed(previous_name or profile.name, self.typed_secrets())

    async def save(self) -> Profile | None:
        """Validate and save the form; secrets go to the secret store, never the profiles file."""
        profile = self.form_profile()
        if profile.is_demo:
            self.status.show_message(_("The Demo profile is built in and cannot be changed."), Tone.WARNING)
            return None
        try:
            profile.validate()
        except ProfileError as error:
            self.status.show_error(str(error))
            return None
        previous = self.editing.name if self.editing is not None else None
        if profile.name != previous and profile.name in {p.name for p in self.profile_list.profiles}:
            self.status.show_error(
                _("A profile named {name!r} exists already; choose another name.").format(name=profile.name)
            )
            return None
        new_secrets = None if profile.is_team else await self._secrets_for(profile, previous)
        try:
            profile = await asyncio.to_thread(self.store.save, profile, replacing=previous)
        except ProfileError as error:  # e.g. its register holds operations begun where it points now
            self.status.show_error(str(error))
            return None
        persistent = None
        if new_secrets is not None:
            persistent = await self.kept.keep(profile, new_secrets, replacing=previous)
        self.editing = profile
        self.reload(select=profile.name)
        self.profiles_changed.emit()
        self._show_keyring_notice()
        if profile.is_team:
            self.status.show_message(
                _("Saved {name}. Use it to log in to the team server.").format(name=profile.name), Tone.OK
            )
        elif persistent is False:
            # The keyring notice (shown above) already says where the secrets are kept.
            self.status.show_message(_("Saved {name}.").format(name=profile.name), Tone.OK)
        elif new_secrets is None or not new_secrets.complete:
            self.status.show_message(
                _("Saved {name}. Secrets are still missing: type both to connect.").format(name=profile.name),
                Tone.WARNING,
            )
        else:
            self.status.show_message(
                _("Saved {name}. The secrets are in the keyring.").format(name=profile.name), Tone.OK
            )
        return profile

    async def test(self) -> bool:
        """Fetch a token with what the form shows now (typed secrets, else the stored ones)."""
        profile = self.form_profile()
        try:
            profile.validate()
        except ProfileError as error:
            self.status.show_error(str(error))
            return False
        if profile.is_team:
            self.status.show_message(
                _("A Team profile is checked when you log in: choose “Use this profile”."), Tone.OK
            )
            return True
        tester = self.test_connection
        if tester is None:
            self.status.show_error(_("Test connection is not available: no connection tester was given."))
            return False
        if profile.is_demo:
            secrets: ProfileSecrets | None = DEMO_SECRETS
        else:
            secrets = await self._secrets_for(profile, self.editing.name if self.editing else None)
        if not profile.is_demo and (secrets is None or not secrets.complete):
            self.status.show_error(_("Type the client secret and the subscription key first (or save them)."))
            return False
        self.status.show_message(
            _("Connecting to {effective_base_url}…").format(effective_base_url=profile.effective_base_url)
        )
        try:
            answer = await tester(profile, secrets)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.status.show_error(
                _("Connection to {url} failed: {error}").format(
                    url=profile.effective_base_url, error=describe_error(error)
                )
            )
            return False
        # The services' test_connection answers (ok, sentence); a tester may also raise or return a sentence.
        if isinstance(answer, tuple) and len(answer) == 2 and isinstance(answer[0], bool):
            ok, connected = answer[0], str(answer[1])
        else:
            text = answer if isinstance(answer, str) and answer else _("an access token was issued.")
            ok, connected = (
                True,
                _("Connected to {url}: {what}").format(url=profile.effective_base_url, what=text),
            )
        text = connected
        if ok:
            self.status.show_message(connected, Tone.OK)
        else:
            self.status.show_error(text)
        return ok

    async def delete(self) -> None:
        if self.editing is None or self.editing.is_demo:
            return
        name = self.editing.name
        try:
            await asyncio.to_thread(self.store.delete, name)
        except ProfileError as error:
            self.status.show_error(str(error))
            return
        await self.kept.forget(name)
        self.editing = None
        self.reload(select=DEMO_PROFILE.name)
        self.profiles_changed.emit()
        self.status.show_message(_("Deleted {name} and its secrets.").format(name=name), Tone.OK)

    async def use(self) -> Profile | None:
        """Save unsaved changes, remember the choice, emit ``profile_chosen`` and close."""
        profile = self.editing
        dirty = self.form_profile() != profile or any(self.typed_secrets())
        if profile is None or (not profile.is_demo and dirty):
            profile = await self.save()
            if profile is None:
                return None
        await asyncio.to_thread(self.store.set_last_used, profile.name)
        self.profile_chosen.emit(profile)
        self.accept()
        return profile

    def closeEvent(self, event: QCloseEvent) -> None:
        for name in ("secrets-state", "test"):
            self.runner.cancel(name)
        super().closeEvent(event)

    def done(self, result: int) -> None:
        for name in ("secrets-state", "test"):
            self.runner.cancel(name)
        # Secrets typed but not saved are not kept around in the widgets.
        self.form_box.clear_secrets()
        super().done(result)


__all__ = ["KIND_LABELS", "PRODUCTION_RED", "ConnectionTester", "ProfileForm", "SettingsDialog"]
