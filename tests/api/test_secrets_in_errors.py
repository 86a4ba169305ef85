"""Review finding 3: a secret never appears in an error text (on screen) or a log line, also when it
holds a character a header cannot carry."""

from __future__ import annotations

import logging

import httpx
import pytest

from epay_desktop.api import Credentials, Environment, EPaymentClient, NetworkError, RetryPolicy, redact
from epay_desktop.api.redact import REDACTED, register_secret
from epay_desktop.sandbox import SandboxConfig
from tests.support.sandbox_server import running_sandbox

pytestmark = pytest.mark.anyio

SECRET = "Sup3rS3cretValue"


def test_whitespace_around_secrets_is_stripped() -> None:
    credentials = Credentials(" demo-client ", f"{SECRET}\n", "\tsub-key-1234 \r\n", "123456")
    assert credentials.client_id == "demo-client"
    assert credentials.client_secret == SECRET
    assert credentials.subscription_key == "sub-key-1234"


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("client_secret", "Sup3r\nS3cretValue"),
        ("client_secret", "Sup3r\x00S3cretValue"),
        ("client_secret", "Sup3rS3crétValue"),
        ("subscription_key", "Sup3r\rS3cretValue"),
        ("client_id", "Sup3r\x7fS3cretValue"),
    ],
)
def test_control_or_non_ascii_characters_are_refused_without_echoing_the_value(field: str, bad: str) -> None:
    values = {"client_id": "demo-client", "client_secret": "s3cret-ok", "subscription_key": "key-ok-1"}
    values[field] = bad
    with pytest.raises(ValueError, match=field.replace("_", " ")) as caught:
        Credentials(values["client_id"], values["client_secret"], values["subscription_key"], "123456")
    text = str(caught.value) + repr(caught.value)
    assert "Sup3r" not in text
    assert "S3cret" not in text


@pytest.mark.parametrize(
    "shown",
    [
        f"(Illegal header value b'{SECRET}\\n')",  # bytes repr, as httpx/h11 write it
        f"value '{SECRET}\\r\\n' refused",  # str repr
        f'{{"client_secret": "{SECRET}\\n"}}',  # JSON escape
        f"stripped {SECRET} only",
    ],
)
def test_redact_catches_escaped_forms_of_a_registered_secret(shown: str) -> None:
    register_secret(f"{SECRET}\n")
    register_secret(f"{SECRET}\r\n")
    out = redact(shown)
    assert SECRET not in out
    assert REDACTED in out


async def test_an_illegal_header_value_never_reaches_the_error_text_or_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A value that got past the checks (set behind the dataclass's back): the client's error must
    # still not carry it, whatever the transport says about it.
    credentials = Credentials("demo-client", SECRET, "demo-subscription-key", "123456")
    object.__setattr__(credentials, "client_secret", f"{SECRET}\n")
    caplog.set_level(logging.DEBUG)
    with running_sandbox(SandboxConfig(data="empty")) as base_url:
        async with EPaymentClient(
            Environment.sandbox(base_url), credentials, retry=RetryPolicy.none()
        ) as client:
            with pytest.raises(NetworkError) as caught:
                await client.fetch_token()
    assert SECRET not in str(caught.value)
    assert "credentials" in str(caught.value)
    assert SECRET not in caplog.text
    for record in caplog.records:
        assert SECRET not in record.getMessage()


async def test_the_ui_can_pass_any_error_text_through_redact() -> None:
    register_secret("another-secret-value-77")
    error = httpx.LocalProtocolError("Illegal header value b'another-secret-value-77\\n'")
    assert "another-secret-value-77" not in redact(str(error))
