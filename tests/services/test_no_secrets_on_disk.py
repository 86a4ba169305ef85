"""No secret appears in any file under the app's directories or in its logs (issue 6, item 5)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from epay_desktop import paths
from epay_desktop.api import install_redaction
from epay_desktop.sandbox import SandboxConfig, create_app
from epay_desktop.services import (
    PaymentDesk,
    Profile,
    ProfileKind,
    ProfileSecrets,
    ProfileStore,
    SecretStore,
    client_for,
    register_path,
    test_connection,
)
from tests.services.conftest import nok
from tests.services.keyrings import MemoryKeyring

pytestmark = pytest.mark.anyio

SECRETS = ProfileSecrets("client-secret-Zq8vLw2NfT", "subscription-key-Hk4pRx7YcM")


@pytest.fixture
def debug_log_file() -> Iterator[Path]:
    """Everything at DEBUG into a file under the app's log dir, through the client's redaction."""
    path = paths.log_dir() / "epay-desktop.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    install_redaction(root)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()


async def test_a_whole_session_leaves_no_secret_in_any_file(
    app_home: Path, debug_log_file: Path, memory_keyring: MemoryKeyring
) -> None:
    profile = Profile(
        "Training room",
        ProfileKind.CUSTOM,
        "123456",
        "demo-client",
        "http://sandbox.epay.local",
        unencrypted_sandbox=True,
    )
    ProfileStore().save(profile)
    SecretStore().set(profile, SECRETS)
    secrets = SecretStore().get(profile)
    assert secrets == SECRETS

    transport = httpx.ASGITransport(app=create_app(SandboxConfig(data="empty", rate_limits=False)))
    ok, _message = await test_connection(profile, secrets, transport=transport)
    assert ok
    async with client_for(profile, secrets, transport=transport) as client:
        desk = await PaymentDesk.open(profile, client, register_path(profile))
        try:
            tracked = await desk.create_payment(nok(5000), "Kaffe", "4791234567")
            await desk.cancel(tracked.reference)
            await desk.add_references("missing-ref-01")
            with pytest.raises(Exception, match=r"(?i)not found"):
                await desk.refresh("missing-ref-01")
            await desk.export_audit_csv(app_home / "audit.csv")
        finally:
            await desk.aclose()
    logging.getLogger("epay_desktop.test").debug("headers %s", {"client_secret": SECRETS.client_secret})

    _scan_for_secrets(app_home, debug_log_file)


def _scan_for_secrets(app_home: Path, debug_log_file: Path) -> None:
    files = [p for p in app_home.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert "epay-desktop.log" in names
    assert "profiles.json" in names
    assert "Training_room-" in " ".join(names)  # the register (and its WAL) was scanned too
    log_text = debug_log_file.read_text(encoding="utf-8")
    assert "/epayment/v1/payments" in log_text  # the HTTP traffic was logged
    assert "[REDACTED]" in log_text
    for path in files:
        data = path.read_bytes()
        for secret in (SECRETS.client_secret, SECRETS.subscription_key):
            for encoded in (secret.encode("utf-8"), secret.encode("utf-16-le")):
                assert encoded not in data, f"a secret was written to {path}"
