"""``epay webhooks register | list | delete`` against a sandbox over HTTP; the secret printed once and
kept in the keyring when asked."""

from __future__ import annotations

import json
from collections.abc import Iterator

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


def test_the_client_speaks_the_real_webhooks_api(capsys: pytest.CaptureFixture[str]) -> None:
    """Against Test (its servers cannot be reached here: a recording transport answers as the spec says)."""
    import asyncio

    import httpx

    from epay_desktop.api import Credentials, Environment
    from epay_desktop.api.webhooks_client import EPAYMENT_EVENTS, WebhooksClient

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/accesstoken/get":
            return httpx.Response(
                200, json={"access_token": "t0k3n-for-the-test", "expires_in": "3600", "token_type": "Bearer"}
            )
        if request.method == "POST":
            return httpx.Response(
                201,
                json={
                    "id": "497f6eca-6276-4993-bfeb-53cbbbba6f08",
                    "secret": "090a478d-37ff-4e77-970e-d457aeb26a3a",
                },
            )
        if request.method == "GET":
            return httpx.Response(
                200,
                json={
                    "webhooks": [
                        {
                            "id": "497f6eca-6276-4993-bfeb-53cbbbba6f08",
                            "url": URL,
                            "events": list(EPAYMENT_EVENTS),
                        }
                    ]
                },
            )
        return httpx.Response(204)

    async def scenario() -> None:
        credentials = Credentials("client", "client-secret-value", "subscription-key-value", "123456")
        async with WebhooksClient(
            Environment.TEST, credentials, transport=httpx.MockTransport(answer)
        ) as client:
            made = await client.register(URL)
            listed = await client.registrations()
            await client.delete(made.id)
        assert made.secret == "090a478d-37ff-4e77-970e-d457aeb26a3a"
        assert "090a478d" not in repr(made)
        assert listed[0].url == URL

    asyncio.run(scenario())
    calls = [(r.method, str(r.url)) for r in seen if r.url.path != "/accesstoken/get"]
    assert calls == [
        ("POST", "https://apitest.vipps.no/webhooks/v1/webhooks"),
        ("GET", "https://apitest.vipps.no/webhooks/v1/webhooks"),
        ("DELETE", "https://apitest.vipps.no/webhooks/v1/webhooks/497f6eca-6276-4993-bfeb-53cbbbba6f08"),
    ]
    post = next(r for r in seen if r.method == "POST" and r.url.path.startswith("/webhooks"))
    assert post.headers["Authorization"] == "Bearer t0k3n-for-the-test"
    assert post.headers["Merchant-Serial-Number"] == "123456"
    assert json.loads(post.content) == {"url": URL, "events": list(EPAYMENT_EVENTS)}
