"""Settings: a Team profile (server URL, agent name; no secrets), its URL rule said in a sentence, and
the login dialog's own behaviour (a password is needed; a refusal keeps it open for another try)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from epay_desktop.services import Profile, ProfileKind, ProfileStore, SecretStore
from epay_desktop.ui.dialogs.feedback import Tone
from epay_desktop.ui.dialogs.settings import SettingsDialog
from epay_desktop.ui.dialogs.team_login import LoginDialog
from tests.ui.dialogs.helpers import MemoryKeyring, save_screenshot, unnamed_controls


def fill_team(dialog: SettingsDialog, url: str, agent: str = "kari") -> None:
    dialog.new_profile()
    dialog.name_edit.setText("Support desk")
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData(ProfileKind.TEAM))
    dialog.msn_edit.setText("123456")
    dialog.form_box.base_url_edit.setText(url)
    dialog.form_box.agent_edit.setText(agent)


def test_a_team_profile_has_a_server_and_an_agent_and_no_secrets(
    qtbot: Any, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    backend = MemoryKeyring()
    store = ProfileStore(tmp_path / "profiles.json")
    dialog = SettingsDialog(store, SecretStore(backend))
    qtbot.addWidget(dialog)
    dialog.show()
    fill_team(dialog, "https://team.example.no")
    form = dialog.form_box
    assert form.agent_edit.isVisible()
    assert not form.client_secret_edit.isVisible()
    assert not form.subscription_key_edit.isVisible()
    assert not form.client_id_edit.isVisible()
    assert form.base_url_edit.isEnabled()
    assert "team server holds the merchant's secrets" in form.secrets_state.text()
    assert unnamed_controls(dialog) == []
    save_screenshot(dialog, "settings-team.png", tmp_path)

    saved = qt_loop.run_until_complete(dialog.save())

    assert saved == Profile(
        "Support desk", ProfileKind.TEAM, "123456", base_url="https://team.example.no", agent="kari"
    )
    assert store.get("Support desk").agent == "kari"
    assert backend.passwords == {}  # nothing secret about a Team profile on this computer
    assert dialog.status.tone is Tone.OK


def test_plain_http_to_another_machine_is_refused_in_a_sentence(
    qtbot: Any, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    store = ProfileStore(tmp_path / "profiles.json")
    dialog = SettingsDialog(store, SecretStore(MemoryKeyring()))
    qtbot.addWidget(dialog)
    fill_team(dialog, "http://team.example.no")

    assert qt_loop.run_until_complete(dialog.save()) is None

    assert dialog.status.tone is Tone.ERROR
    assert "plain http:// to another machine" in dialog.status.text()
    assert "Use https://" in dialog.status.text()
    assert [p.name for p in store.list()] == ["Demo"]
    fill_team(dialog, "http://127.0.0.1:8470")  # this computer: allowed
    assert qt_loop.run_until_complete(dialog.save()) is not None


def test_the_login_dialog_needs_a_password_and_stays_open_after_a_refusal(qtbot: Any) -> None:
    dialog = LoginDialog("https://team.example.no", "kari", "The session has ended.")
    qtbot.addWidget(dialog)
    asked: list[str] = []
    dialog.login_requested.connect(asked.append)
    dialog.open()
    dialog.login_button.click()
    assert asked == []
    assert dialog.problem.text() == "Type your password."
    dialog.password.setText("secret words")
    dialog.login_button.click()
    assert asked == ["secret words"]
    assert dialog.password.text() == ""  # never kept
    assert not dialog.login_button.isEnabled()
    dialog.show_problem("Wrong name or password.")
    assert dialog.isVisible()
    assert dialog.login_button.isEnabled()
    assert dialog.problem.text() == "Wrong name or password."
    assert dialog.reason.text() == "The session has ended."
