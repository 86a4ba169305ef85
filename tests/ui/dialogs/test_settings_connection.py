"""Settings → Test connection through the services' ``test_connection``: in-process, over real HTTP
(uvicorn on 127.0.0.1), and against a port where nothing listens."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx

from epay_desktop.services import (
    Profile,
    ProfileKind,
    ProfileSecrets,
    ProfileStore,
    SecretStore,
    test_connection,
)
from epay_desktop.ui.dialogs.feedback import Tone
from epay_desktop.ui.dialogs.settings import SettingsDialog
from tests.support.sandbox_server import running_sandbox
from tests.ui.dialogs.conftest import run
from tests.ui.dialogs.helpers import MemoryKeyring, save_screenshot


def make_dialog(
    qtbot: Any, tmp_path: Path, transport: httpx.AsyncBaseTransport | None = None
) -> SettingsDialog:
    async def tester(profile: Profile, secrets: ProfileSecrets | None) -> tuple[bool, str]:
        # As the main window wires it: the Demo profile reaches the in-process sandbox.
        return await test_connection(profile, secrets, transport=transport if profile.is_demo else None)

    dialog = SettingsDialog(
        ProfileStore(tmp_path / "profiles.json"), SecretStore(MemoryKeyring()), test_connection=tester
    )
    qtbot.addWidget(dialog)
    return dialog


def custom_profile(dialog: SettingsDialog, base_url: str, *, secret: str = "demo-secret") -> None:
    dialog.new_profile()
    dialog.name_edit.setText("Local sandbox")
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData(ProfileKind.CUSTOM))
    dialog.base_url_edit.setText(base_url)
    dialog.msn_edit.setText("123456")
    dialog.client_id_edit.setText("demo-client")
    dialog.client_secret_edit.setText(secret)
    dialog.subscription_key_edit.setText("demo-subscription-key")


def test_demo_profile_connects_in_process(
    qtbot: Any, dialog_loop: asyncio.AbstractEventLoop, sandbox_transport: httpx.ASGITransport, tmp_path: Path
) -> None:
    dialog = make_dialog(qtbot, tmp_path, sandbox_transport)
    assert dialog.editing is not None
    assert dialog.editing.is_demo
    assert run(dialog_loop, dialog.test()) is True
    assert dialog.status.tone is Tone.OK
    assert dialog.status.text().startswith("Connected")


def test_custom_profile_connects_over_real_http_with_unsaved_typed_secrets(
    qtbot: Any, dialog_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    dialog = make_dialog(qtbot, tmp_path)
    with running_sandbox() as base_url:
        custom_profile(dialog, base_url)
        assert run(dialog_loop, dialog.test()) is True
    assert dialog.status.tone is Tone.OK
    assert base_url in dialog.status.text()
    # Testing saves nothing.
    assert [p.name for p in dialog.store.list()] == ["Demo"]


def test_missing_secrets_are_asked_for_before_connecting(
    qtbot: Any, dialog_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    dialog = make_dialog(qtbot, tmp_path)
    custom_profile(dialog, "http://127.0.0.1:9", secret="")
    assert run(dialog_loop, dialog.test()) is False
    assert dialog.status.tone is Tone.ERROR
    assert "client secret" in dialog.status.text()


def test_nothing_listening_says_what_went_wrong(
    qtbot: Any, dialog_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dialog = make_dialog(qtbot, tmp_path)
    custom_profile(dialog, f"http://127.0.0.1:{port}")
    assert run(dialog_loop, dialog.test(), timeout=30) is False
    assert dialog.status.tone is Tone.ERROR
    assert f"127.0.0.1:{port}" in dialog.status.text()
    assert "failed" in dialog.status.text()
    dialog.show()
    qtbot.waitExposed(dialog)
    save_screenshot(dialog, "settings-connection-failed.png", tmp_path)
