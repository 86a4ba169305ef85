"""``epay webhooks register | list | delete`` against a sandbox over HTTP; the secret printed once and
kept in the keyring when asked."""

from __future__ import annotations

import json
from collections.abc import Iterator

import keyring
import pytest

from epay_desktop.cli import main
from epay_desktop.services.webhook_secrets import WebhookSecrets, secrets_for
from tests.services.keyrings import MemoryKeyring
from tests.support.sandbox_server import running_sandbox

URL = "https://shop.example/hooks/vipps"


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    with running_sandbox() as url:
        yield url


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_register_list_delete_with_the_secret_in_the_keyring(
    sandbox_url: str, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "--base-url",
        sandbox_url,
        "--json",
        "webhooks",
        "register",
        URL,
        "--profile",
        "Shop",
        "--events",
        "epayments.payment.captured.v1",
        "epayments.payment.cancelled.v1",
    )
    assert code == 0
    made = json.loads(out)
    assert made["events"] == ["epayments.payment.captured.v1", "epayments.payment.cancelled.v1"]
    assert secrets_for("Shop", URL, environ={}) == (made["secret"],)

    code, out, _ = run(capsys, "--base-url", sandbox_url, "webhooks", "list")
    assert code == 0
    assert made["id"] in out
    assert made["secret"] not in out

    code, out, _ = run(
        capsys, "--base-url", sandbox_url, "webhooks", "delete", made["id"], "--profile", "Shop"
    )
    assert code == 0
    assert "removed" in out
    assert WebhookSecrets("Shop").for_url(URL) == ()
    code, out, _ = run(capsys, "--base-url", sandbox_url, "webhooks", "list")
    assert "No webhooks" in out


def test_without_a_profile_it_says_where_to_keep_the_secret(
    sandbox_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--base-url", sandbox_url, "webhooks", "register", URL)
    assert code == 0
    assert "Secret (shown once):" in out
    assert "EPAY_WEBHOOK_SECRET" in out


def test_refusals_are_the_apis_words(sandbox_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--base-url", sandbox_url, "webhooks", "register", "http://shop.example/x")
    assert code == 1
    assert "HTTPS" in err
    code, _, err = run(capsys, "--base-url", sandbox_url, "webhooks", "delete", "not-an-id")
    assert code == 1
    assert "UUID" in err


def test_env_secret_wins_over_the_keyring() -> None:
    assert secrets_for("Shop", URL, environ={"EPAY_WEBHOOK_SECRET": "one, two"}) == ("one", "two")
