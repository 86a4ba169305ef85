"""Verifying webhooks (api/webhooks.py): the documented worked example byte for byte, and every
tampering refused; lenient reading of the payload; duplicates recognised."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from epay_desktop.api.webhooks import (
    PayloadError,
    SignatureError,
    WebhookEndpoint,
    content_hash,
    expected_authorization,
    is_duplicate,
    parse_notification,
)
from epay_desktop.domain import Currency, EventName, Money

# The worked example of the Webhooks API's "Request authentication" page (tests/reference/webhooks).
SECRET = "A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A=="
URL = "https://webhook.site/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63"
BODY = b'{"some-unique-content":"ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world"}'
DATE = "Thu, 30 Mar 2023 08:38:32 GMT"
HASH = "lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4="
AUTHORIZATION = (
    "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256"
    "&Signature=agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U="
)
THEN = datetime(2023, 3, 30, 8, 38, 40, tzinfo=UTC)
PATH = "/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63"


def headers(**changes: str) -> dict[str, str]:
    base = {
        "x-ms-date": DATE,
        "x-ms-content-sha256": HASH,
        "authorization": AUTHORIZATION,
        "host": "webhook.site",
    }
    return {k: v for k, v in (base | changes).items() if v}


def verify(endpoint: WebhookEndpoint | None = None, **kwargs: object) -> None:
    args: dict[str, object] = {
        "method": "POST",
        "path_and_query": PATH,
        "headers": headers(),
        "body": BODY,
        "now": THEN,
    } | kwargs
    (endpoint or WebhookEndpoint(URL, (SECRET,))).verify(**args)  # type: ignore[arg-type]


def test_the_worked_example_byte_for_byte() -> None:
    assert content_hash(BODY) == HASH
    assert expected_authorization(SECRET, URL, DATE, HASH) == AUTHORIZATION
    verify()


def test_one_of_several_secrets_is_enough_while_replacing_a_registration() -> None:
    verify(WebhookEndpoint(URL, ("another-secret", SECRET)))


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"body": BODY.replace(b"hello", b"HELLO")}, "x-ms-content-sha256"),
        ({"headers": headers(**{"x-ms-content-sha256": content_hash(b"{}")})}, "x-ms-content-sha256"),
        ({"headers": headers(authorization=AUTHORIZATION.replace("agAi", "agAj"))}, "signature"),
        ({"headers": headers(authorization="")}, "missing"),
        ({"headers": headers(**{"x-ms-date": "Thu, 30 Mar 2023 08:38:33 GMT"})}, "signature"),
        ({"headers": headers(**{"x-ms-date": ""})}, "missing"),
        ({"headers": headers(host="evil.example")}, "host"),
        ({"path_and_query": PATH + "?x=1"}, "path"),
        ({"method": "PUT"}, "POST"),
        ({"now": THEN + timedelta(minutes=6)}, "away from now"),
        ({"now": THEN - timedelta(minutes=6)}, "away from now"),
    ],
)
def test_tampering_is_refused(change: dict[str, object], why: str) -> None:
    with pytest.raises(SignatureError, match=why):
        verify(**change)


def test_a_wrong_secret_is_refused() -> None:
    with pytest.raises(SignatureError, match="signature"):
        verify(WebhookEndpoint(URL, ("090a478d-37ff-4e77-970e-d457aeb26a3a",)))


def test_the_secret_never_shows_in_repr() -> None:
    assert SECRET not in repr(WebhookEndpoint(URL, (SECRET,)))


PAYLOAD = {
    "msn": "123456",
    "reference": "acme-shop-123-order123abc",
    "pspReference": "dd8e0a8e-2b26-40ed-98f1-1d5832fc129f",
    "name": "AUTHORIZED",
    "amount": {"currency": "NOK", "value": 49900},
    "timestamp": "2026-01-19T16:26:32.099Z",
    "idempotencyKey": "7c8b81e7-b08b-46e4-9729-191cb801c132",
    "success": True,
}


def test_the_documented_payload_reads_into_a_domain_event() -> None:
    notification = parse_notification(json.dumps(PAYLOAD).encode())
    assert notification.msn == "123456"
    assert notification.event_type == "epayments.payment.authorized.v1"
    event = notification.event
    assert event.name is EventName.AUTHORIZED
    assert event.amount == Money(49900, Currency.NOK)
    assert event.reference == "acme-shop-123-order123abc"
    assert event.timestamp == datetime(2026, 1, 19, 16, 26, 32, 99000, tzinfo=UTC)


def test_lenient_reading() -> None:
    loose = PAYLOAD | {"name": "PARTIALLY_SHIPPED", "timestamp": "yesterday", "msn": 123456, "extra": [1]}
    loose.pop("idempotencyKey")
    notification = parse_notification(json.dumps(loose).encode())
    assert notification.event.name is EventName.UNKNOWN
    assert notification.event.display_name == "PARTIALLY_SHIPPED"
    assert notification.event.timestamp is None
    assert notification.event.idempotency_key is None
    assert notification.msn == "123456"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        json.dumps(PAYLOAD | {"success": None}).encode(),
        json.dumps(PAYLOAD | {"amount": {"currency": "NOK", "value": 1.5}}).encode(),
        json.dumps({k: v for k, v in PAYLOAD.items() if k != "reference"}).encode(),
        json.dumps({k: v for k, v in PAYLOAD.items() if k != "msn"}).encode(),
        b"{" * 100_000,
    ],
)
def test_malformed_bodies_are_payload_errors(body: bytes) -> None:
    with pytest.raises(PayloadError):
        parse_notification(body)


def test_duplicates_are_the_same_payment_name_and_event_psp_reference() -> None:
    first = parse_notification(json.dumps(PAYLOAD).encode()).event
    again = parse_notification(json.dumps(PAYLOAD).encode()).event
    other_capture = parse_notification(
        json.dumps(PAYLOAD | {"name": "CAPTURED", "pspReference": "2"}).encode()
    ).event
    second_capture = parse_notification(
        json.dumps(PAYLOAD | {"name": "CAPTURED", "pspReference": "3"}).encode()
    ).event
    assert is_duplicate(again, [first])
    assert not is_duplicate(other_capture, [first])
    assert not is_duplicate(second_capture, [first, other_capture])
    assert is_duplicate(second_capture, [first, other_capture, second_capture])
