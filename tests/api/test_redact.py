"""Secrets never reach logs."""

from __future__ import annotations

import logging

import httpx
import pytest

from epay_desktop.api import Environment, EPaymentClient, SecretRedactingFilter, install_redaction
from epay_desktop.api.redact import REDACTED, redact, register_secret
from tests.api.fakes import CREDENTIALS, REF, FakeServer, payment_body

JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXBhcnQ"


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {JWT}",
        "headers={'client_secret': 'hunter2-very-secret'}",
        '{"client_secret": "hunter2-very-secret"}',
        "Ocp-Apim-Subscription-Key: 0123456789abcdef",
        "GET /x?subscription_key=0123456789abcdef&y=1",
        f"token {JWT} in a sentence",
        "authorization=Bearer abc.def.ghi",
    ],
)
def test_patterns_are_redacted(text: str) -> None:
    out = redact(text)
    for secret in ("hunter2-very-secret", "0123456789abcdef", JWT, "abc.def.ghi"):
        assert secret not in out
    assert REDACTED in out


def test_registered_values_are_redacted_anywhere() -> None:
    register_secret("plain-looking-value-42")
    assert redact("oops plain-looking-value-42 leaked") == f"oops {REDACTED} leaked"
    register_secret("abc")  # too short to redact safely: ignored
    assert redact("abc") == "abc"


def test_filter_rewrites_message_args_and_exception(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.api.redact")
    logger.addFilter(SecretRedactingFilter())
    register_secret("exception-secret-99")
    with caplog.at_level(logging.DEBUG, logger="tests.api.redact"):
        logger.info("sending %s with %s", {"client_secret": "s3cr3t-value"}, f"Bearer {JWT}")
        try:
            raise RuntimeError("failed with exception-secret-99")
        except RuntimeError:
            logger.exception("boom")
    assert "s3cr3t-value" not in caplog.text
    assert JWT not in caplog.text
    assert "exception-secret-99" not in caplog.text
    assert "boom" in caplog.text
    assert len(caplog.records) == 2


async def _use_client_with_debug_logs() -> None:
    server = FakeServer([httpx.Response(200, json=payment_body())])
    async with server.client() as client:
        await client.get_payment(REF)


@pytest.mark.anyio
async def test_client_logs_carry_no_secrets(caplog: pytest.LogCaptureFixture) -> None:
    root_filter = install_redaction()
    try:
        with caplog.at_level(logging.DEBUG):
            await _use_client_with_debug_logs()
            # Even someone logging the credentials' fields or a header dump by mistake.
            logging.getLogger("epay_desktop.api").warning(
                "credentials %r secret=%s", CREDENTIALS, CREDENTIALS.client_secret
            )
        text = caplog.text
        assert caplog.records  # the client and httpx did log
        assert CREDENTIALS.client_secret not in text
        assert CREDENTIALS.subscription_key not in text
        assert "eyJhbGciOi.token1.sig" not in text
    finally:
        logging.getLogger().removeFilter(root_filter)
        for handler in logging.getLogger().handlers:
            handler.removeFilter(root_filter)


def test_credentials_repr_hides_secrets() -> None:
    text = repr(CREDENTIALS) + str(CREDENTIALS)
    assert CREDENTIALS.client_secret not in text
    assert CREDENTIALS.subscription_key not in text
    assert "demo-client" in text
    client = EPaymentClient(Environment.sandbox(), CREDENTIALS)
    shown = repr(client.session.credentials)
    assert "demo-client" in shown
    assert CREDENTIALS.client_secret not in shown
    import asyncio

    asyncio.run(client.aclose())
