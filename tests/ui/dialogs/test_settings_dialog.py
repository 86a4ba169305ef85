"""Settings: profiles saved through the services' ProfileStore, secrets only in the SecretStore."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel

from epay_desktop.services import (
    Profile,
    ProfileKind,
    ProfileSecrets,
    ProfileStore,
    SecretStore,
    register_path,
)
from epay_desktop.store import Operation, Store
from epay_desktop.ui.dialogs.feedback import Tone
from epay_desktop.ui.dialogs.settings import SettingsDialog
from tests.ui.dialogs.helpers import MemoryKeyring, save_screenshot, unnamed_controls


def fill(
    dialog: SettingsDialog, *, name: str, kind: ProfileKind, msn: str, secret: str = "", key: str = ""
) -> None:
    dialog.new_profile()
    dialog.name_edit.setText(name)
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData(kind))
    dialog.msn_edit.setText(msn)
    dialog.client_id_edit.setText("client-1")
    dialog.client_secret_edit.setText(secret)
    dialog.subscription_key_edit.setText(key)


def run(loop: asyncio.AbstractEventLoop, coro: Any) -> Any:
    return loop.run_until_complete(coro)


def test_saving_keeps_secrets_in_the_keyring_and_out_of_the_file(
    qtbot: Any, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    backend = MemoryKeyring()
    store, secrets = ProfileStore(tmp_path / "profiles.json"), SecretStore(backend)
    dialog = SettingsDialog(store, secrets)
    qtbot.addWidget(dialog)
    assert dialog.keyring_notice.isHidden()
    fill(
        dialog, name="Shop test", kind=ProfileKind.TEST, msn="123456", secret="s3cr3t-value", key="k3y-value"
    )
    assert dialog.client_secret_edit.echoMode() is dialog.client_secret_edit.EchoMode.Password

    saved = run(qt_loop, dialog.save())

    assert saved == Profile("Shop test", ProfileKind.TEST, "123456", "client-1", None)
    assert store.get("Shop test") == saved
    text = (tmp_path / "profiles.json").read_text()
    assert "s3cr3t-value" not in text
    assert "k3y-value" not in text
    assert secrets.get(saved) == ProfileSecrets("s3cr3t-value", "k3y-value")
    assert set(backend.passwords.values()) == {"s3cr3t-value", "k3y-value"}
    assert dialog.status.tone is Tone.OK
    # Stored secrets are never shown again.
    assert dialog.client_secret_edit.text() == ""
    run(qt_loop, asyncio.sleep(0.05))
    assert "stored in the keyring" in dialog.secrets_state.text()

    # Changing only the client id keeps the stored secrets.
    dialog.client_id_edit.setText("client-2")
    run(qt_loop, dialog.save())
    assert store.get("Shop test").client_id == "client-2"
    assert secrets.get("Shop test") == ProfileSecrets("s3cr3t-value", "k3y-value")


def test_without_a_keyring_the_notice_says_session_only(
    qtbot: Any, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    secrets = SecretStore()  # conftest selects keyring's "fail" backend: no keyring here
    dialog = SettingsDialog(ProfileStore(tmp_path / "profiles.json"), secrets)
    qtbot.addWidget(dialog)
    assert not dialog.keyring_notice.isHidden()
    assert "kept for this session only" in dialog.keyring_notice.text()
    fill(dialog, name="Shop", kind=ProfileKind.TEST, msn="123456", secret="a", key="b")
    run(qt_loop, dialog.save())
    assert secrets.get("Shop") == ProfileSecrets("a", "b")
    run(qt_loop, asyncio.sleep(0.05))
    # Said once in the visit: the notice stays, nothing else repeats it.
    shown = [label.text() for label in dialog.findChildren(QLabel) if label.isVisibleTo(dialog)]
    assert sum("session only" in text or "keyring" in text.lower() for text in shown) == 1, shown
    assert "Saved Shop." in dialog.status.text()


@pytest.mark.parametrize(
    ("msn", "kind", "base_url", "message"),
    [
        ("12", ProfileKind.TEST, "", "4 to 10 digits"),
        ("123456", ProfileKind.CUSTOM, "ftp://x", "base URL"),
    ],
)
def test_invalid_profiles_are_refused_with_the_reason(
    qtbot: Any,
    qt_loop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    msn: str,
    kind: ProfileKind,
    base_url: str,
    message: str,
) -> None:
    store = ProfileStore(tmp_path / "profiles.json")
    dialog = SettingsDialog(store, SecretStore(MemoryKeyring()))
    qtbot.addWidget(dialog)
    fill(dialog, name="Bad", kind=kind, msn=msn)
    dialog.base_url_edit.setText(base_url)
    assert run(qt_loop, dialog.save()) is None
    assert dialog.status.tone is Tone.ERROR
    assert message in dialog.status.text()
    assert [p.name for p in store.list()] == ["Demo"]


def test_production_is_marked_in_red_and_choosing_emits_the_profile(
    qtbot: Any, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    store = ProfileStore(tmp_path / "profiles.json")
    dialog = SettingsDialog(store, SecretStore(MemoryKeyring()))
    qtbot.addWidget(dialog)
    assert dialog.production_banner.isHidden()
    fill(dialog, name="Live shop", kind=ProfileKind.PRODUCTION, msn="7654321", secret="x", key="y")
    assert not dialog.production_banner.isHidden()
    assert "PRODUCTION" in dialog.windowTitle()
    chosen: list[Profile] = []
    dialog.profile_chosen.connect(chosen.append)
    dialog.show()
    run(qt_loop, asyncio.sleep(0.05))
    assert unnamed_controls(dialog) == []
    save_screenshot(dialog, "settings-production.png", tmp_path)
    run(qt_loop, dialog.use())  # unsaved changes are saved first
    assert [p.name for p in chosen] == ["Live shop"]
    assert chosen[0].is_production
    assert store.last_used == "Live shop"
    assert dialog.result() == dialog.DialogCode.Accepted


def test_demo_profile_is_read_only_and_deleting_removes_secrets(
    qtbot: Any, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    backend = MemoryKeyring()
    store = ProfileStore(tmp_path / "profiles.json")
    dialog = SettingsDialog(store, SecretStore(backend))
    qtbot.addWidget(dialog)
    assert dialog.editing is not None
    assert dialog.editing.is_demo
    assert not dialog.name_edit.isEnabled()
    assert not dialog.delete_button.isEnabled()
    fill(dialog, name="Temp", kind=ProfileKind.TEST, msn="1234", secret="x", key="y")
    run(qt_loop, dialog.save())
    assert backend.passwords
    assert dialog.delete_button.isEnabled()
    run(qt_loop, dialog.delete())
    assert [p.name for p in store.list()] == ["Demo"]
    assert backend.passwords == {}


def test_a_damaged_profiles_file_is_reported_and_left_alone(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "profiles.json"
    path.write_text("{not json")
    dialog = SettingsDialog(ProfileStore(path), SecretStore(MemoryKeyring()))
    qtbot.addWidget(dialog)
    assert [p.name for p in dialog.profile_list.profiles] == ["Demo"]
    assert dialog.status.tone is Tone.ERROR
    assert "cannot be read" in dialog.status.text()
    assert path.read_text() == "{not json"


def test_renaming_in_the_dialog_keeps_the_register(
    qtbot: Any, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path, app_home: Path
) -> None:
    from epay_desktop.services import register_path

    store, secrets = ProfileStore(tmp_path / "profiles.json"), SecretStore(MemoryKeyring())
    dialog = SettingsDialog(store, secrets)
    qtbot.addWidget(dialog)
    fill(dialog, name="Shop test", kind=ProfileKind.TEST, msn="123456", secret="s", key="k")
    first = run(qt_loop, dialog.save())
    dialog.name_edit.setText("Shop renamed")
    renamed = run(qt_loop, dialog.save())
    assert renamed.name == "Shop renamed"
    assert register_path(renamed) == register_path(first)
    assert register_path(dialog.editing) == register_path(store.get("Shop renamed")) == register_path(first)
    assert secrets.get("Shop renamed") == ProfileSecrets("s", "k")


def test_plain_http_to_another_machine_is_saved_only_once_confirmed(
    qtbot: Any, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    store = ProfileStore(tmp_path / "profiles.json")
    dialog = SettingsDialog(store, SecretStore(MemoryKeyring()))
    qtbot.addWidget(dialog)
    fill(dialog, name="Training room", kind=ProfileKind.CUSTOM, msn="223344", secret="s", key="k")
    dialog.base_url_edit.setText("http://10.0.0.5:8080")
    assert dialog.unencrypted_check.isVisibleTo(dialog)
    assert run(qt_loop, dialog.save()) is None
    assert dialog.status.tone is Tone.ERROR
    assert "not encrypted" in dialog.status.text()
    assert [p.name for p in store.list()] == ["Demo"]
    dialog.unencrypted_check.setChecked(True)
    saved = run(qt_loop, dialog.save())
    assert saved.unencrypted_sandbox
    assert store.get("Training room").unencrypted_sandbox


def test_a_profile_with_unfinished_operations_is_not_moved_or_deleted(
    qtbot: Any, qt_loop: asyncio.AbstractEventLoop, app_home: Path
) -> None:
    store = ProfileStore()
    saved = store.save(Profile("Shop test", ProfileKind.TEST, "123456", "client-1"))
    with Store(register_path(saved)) as register:
        register.journal.begin(
            operation=Operation.CANCEL,
            profile=saved.name,
            msn="123456",
            reference="shop-0001",
            amount=None,
            idempotency_key="key-shop-0001",
            os_user="tester",
        )
    dialog = SettingsDialog(store, SecretStore(MemoryKeyring()), current=saved.name)
    qtbot.addWidget(dialog)
    assert dialog.editing == saved
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData(ProfileKind.PRODUCTION))
    assert run(qt_loop, dialog.save()) is None
    assert dialog.status.tone is Tone.ERROR
    assert "without a known outcome" in dialog.status.text()
    assert store.get("Shop test").kind is ProfileKind.TEST
    run(qt_loop, dialog.delete())
    assert dialog.status.tone is Tone.ERROR
    assert "nothing was deleted" in dialog.status.text()
    assert [p.name for p in store.list()] == ["Demo", "Shop test"]
