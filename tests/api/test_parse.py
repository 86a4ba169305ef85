"""Lenient parsing of payments, events and problems (examples from FACTS.md, odd bodies, properties)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from epay_desktop.api import (
    ApiError,
    AuthenticationError,
    ConflictError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
)
from epay_desktop.api.parse import (
    load_json,
    parse_created,
    parse_events,
    parse_payment,
    parse_problem,
    parse_token,
)
from epay_desktop.domain import Currency, EventName, Money, State
from tests.api.fakes import payment_body

FACTS_PAYMENT = (
    '{"aggregate":{"authorizedAmount":{"currency":"NOK","value":49900},"cancelledAmount":{"currency":"NOK",'
    '"value":49900},"capturedAmount":{"currency":"NOK","value":0},"refundedAmount":{"currency":"NOK",'
    '"value":0}},"amount":{"currency":"NOK","value":49900},"state":"AUTHORIZED","paymentMethod":{"type":'
    '"WALLET"},"profile":{},"pspReference":"37c34d8c-2649-448e-864b-060d5d93e4c4","reference":'
    '"acme-shop-123-order123abc"}'
)
FACTS_EVENTS = (
    '[{"reference":"acme-shop-123-order123abc","pspReference":"83b3fdb0-9547-4ec5-bdb7-5600ce70e792","name":'
    '"CREATED","amount":{"currency":"NOK","value":49900},"timestamp":"2023-03-27T10:51:44.5333258Z",'
    '"idempotencyKey":"19986263-dedf-4b8e-a424-8d042eee4013","success":true},'
    '{"reference":"acme-shop-123-order123abc","pspReference":"2019200034","name":"CANCELLED","amount":'
    '{"currency":"NOK","value":750},"timestamp":"2023-03-27T10:52:15.616Z","success":true}]'
)


def test_facts_payment_example() -> None:
    payment = parse_payment(load_json(FACTS_PAYMENT, what="t"))
    assert payment.reference == "acme-shop-123-order123abc"
    assert payment.state is State.AUTHORIZED
    assert payment.amount == Money(49900, Currency.NOK)
    assert payment.aggregate.cancelled == Money(49900, Currency.NOK)
    assert payment.payment_method == "WALLET"
    assert payment.psp_reference.startswith("37c34d8c")


def test_facts_event_example() -> None:
    events = parse_events(load_json(FACTS_EVENTS, what="t"), reference="acme-shop-123-order123abc")
    assert [e.name for e in events] == [EventName.CREATED, EventName.CANCELLED]
    assert events[0].timestamp is not None
    assert events[0].timestamp.tzinfo is not None
    assert events[0].idempotency_key == "19986263-dedf-4b8e-a424-8d042eee4013"
    assert events[1].idempotency_key is None
    assert events[1].amount == Money(750, Currency.NOK)


def test_unknown_state_and_event_name_are_kept_as_text() -> None:
    body = payment_body(state="PARTIALLY_FROBNICATED")
    payment = parse_payment(body)
    assert payment.state is State.UNKNOWN
    assert payment.display_state == "PARTIALLY_FROBNICATED"
    (event,) = parse_events(
        [{"name": "TELEPORTED", "amount": {"currency": "DKK", "value": 1}, "success": True}], reference="r"
    )
    assert event.name is EventName.UNKNOWN
    assert event.display_name == "TELEPORTED"
    assert event.reference == "r"
    assert event.timestamp is None


def test_extra_fields_and_missing_optional_fields_are_fine() -> None:
    body = payment_body()
    body["brandNewField"] = {"nested": [1, 2, 3]}
    body["aggregate"]["futureAmount"] = {"currency": "NOK", "value": 1}
    del body["pspReference"], body["paymentMethod"], body["profile"]
    body["metadata"] = {"orderId": "42", "weird": 7}
    payment = parse_payment(body)
    assert payment.psp_reference == ""
    assert payment.metadata == {"orderId": "42"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # agent-toolkit/epayment_references_operations.md "Get payment" example.
        ("2026-09-01T07:53:44.812+00:00", datetime(2026, 9, 1, 7, 53, 44, 812000, tzinfo=UTC)),
        ("2026-09-01T07:53:44Z", datetime(2026, 9, 1, 7, 53, 44, tzinfo=UTC)),
        ("2026-09-01T07:53:44", datetime(2026, 9, 1, 7, 53, 44, tzinfo=UTC)),  # no offset: UTC
        ("next week", None),
        (12345, None),
        (None, None),
    ],
)
def test_capture_guaranteed_until(value: object, expected: datetime | None) -> None:
    body = payment_body()
    if value is not None:
        body["captureGuaranteedUntil"] = value
    assert parse_payment(body).capture_guaranteed_until == expected


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b.pop("amount"), "amount"),
        (lambda b: b["aggregate"].pop("capturedAmount"), "capturedAmount"),
        (lambda b: b.pop("aggregate"), "aggregate"),
        (lambda b: b["amount"].update(value="1000"), "not a number"),
        (lambda b: b["amount"].update(value=True), "not a number"),
        (lambda b: b["amount"].update(value=Decimal("10.5")), "whole number"),
        (lambda b: b["amount"].update(currency="SEK"), "unknown currency"),
        (lambda b: b["aggregate"]["refundedAmount"].update(currency="EUR"), "more than one currency"),
        (lambda b: b.pop("reference"), "reference"),
    ],
)
def test_money_fields_are_strict(mutate: Any, message: str) -> None:
    body = payment_body()
    mutate(body)
    with pytest.raises(MalformedResponseError, match=message):
        parse_payment(body)


def test_numbers_are_exact() -> None:
    big = 2**63 + 1
    text = FACTS_PAYMENT.replace(
        '"amount":{"currency":"NOK","value":49900}', f'"amount":{{"currency":"NOK","value":{big}}}'
    )
    assert parse_payment(load_json(text, what="t")).amount.value == big
    text = FACTS_PAYMENT.replace('"value":49900}', '"value":49900.0}')
    assert parse_payment(load_json(text, what="t")).amount.value == 49900
    with pytest.raises(MalformedResponseError):
        load_json('{"value": NaN}', what="t")


def test_event_without_success_is_not_guessed() -> None:
    with pytest.raises(MalformedResponseError, match="success"):
        parse_events([{"name": "CANCELLED", "amount": {"currency": "NOK", "value": 1}}])
    with pytest.raises(MalformedResponseError, match="array"):
        parse_events({"events": []})


def test_created_and_token() -> None:
    assert parse_created({"reference": "abc-12345"}, reference="abc-12345").redirect_url is None
    assert parse_created({}, reference="abc-12345").reference == "abc-12345"
    info = parse_token({"token_type": "Bearer", "expires_in": "86398", "access_token": "eyJx"})
    assert (info.access_token, info.expires_in) == ("eyJx", 86398.0)
    assert parse_token({"access_token": "t", "expires_in": "soon"}).expires_in is None
    with pytest.raises(MalformedResponseError):
        parse_token({"token_type": "Bearer"})


def _problem(body: object, status: int = 400) -> ApiError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_problem(status, raw, {})


def test_problem_json_with_error_code() -> None:
    error = _problem(
        {
            "type": "https://httpstatuses.io/400",
            "title": "Cannot capture before reservation",
            "detail": "The amount you tried to capture is not reserved.",
            "instance": "/v1/payments/577531734343670112/capture",
            "status": 400,
            "extraDetails": [{"name": "ErrorCode", "reason": "6080"}],
            "traceId": "00-813b-01",
        }
    )
    assert (error.status, error.error_code, error.trace_id) == (400, "6080", "00-813b-01")
    assert error.instance == "/v1/payments/577531734343670112/capture"
    assert "authorized" in error.advice


def test_problem_validation_error_names_the_field() -> None:
    error = _problem(
        {"title": "Bad Request", "status": 400, "extraDetails": [{"name": "Amount", "reason": "x"}]}
    )
    assert error.error_code is None
    assert "Amount: x" in error.detail


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, RateLimitedError),
        (500, ApiError),
        (423, ApiError),
    ],
)
def test_problem_classes(status: int, cls: type[ApiError]) -> None:
    assert type(parse_problem(status, b"", {})) is cls


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<!DOCTYPE html><html><title>Proxy error</title></html>",
        b"plain text error",
        b'{"statusCode": 401, "message": "Access denied"}',
        b'{"error": "invalid_client", "error_description": "AADSTS7000215"}',
        b"[]",
        b"\xff\xfe\x00garbage",
        b'{"title": 42, "extraDetails": "nope"}',
    ],
)
def test_odd_error_bodies_still_make_a_readable_error(body: bytes) -> None:
    error = parse_problem(502, body, {})
    assert error.status == 502
    assert error.title
    assert "\n" not in str(error)


# --- properties -------------------------------------------------------------------------------------

currencies = st.sampled_from(["NOK", "DKK", "EUR"])
values = st.integers(min_value=0, max_value=2**70)
json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=10)
extras = st.dictionaries(
    st.text(min_size=1, max_size=8).filter(
        lambda k: (
            k
            not in {
                "reference",
                "amount",
                "aggregate",
                "state",
                "pspReference",
                "paymentMethod",
                "metadata",
                "redirectUrl",
                "paymentDescription",
                "name",
                "success",
                "timestamp",
                "idempotencyKey",
            }
        )
    ),
    json_scalars,
    max_size=4,
)


@st.composite
def payments(draw: st.DrawFn) -> dict[str, Any]:
    currency = draw(currencies)
    body: dict[str, Any] = {
        "reference": draw(st.from_regex(r"[a-zA-Z0-9-]{8,64}", fullmatch=True)),
        "amount": {"currency": currency, "value": draw(values)},
        "state": draw(
            st.sampled_from(["CREATED", "AUTHORIZED", "ABORTED", "EXPIRED", "TERMINATED"]) | st.text()
        ),
        "aggregate": {
            key: {"currency": currency, "value": draw(values)}
            for key in ("authorizedAmount", "capturedAmount", "cancelledAmount", "refundedAmount")
        },
    }
    if draw(st.booleans()):
        body["pspReference"] = draw(st.text(max_size=40))
    body.update(draw(extras))
    return body


@given(payments())
def test_any_well_formed_payment_parses_and_round_trips_through_json(body: dict[str, Any]) -> None:
    payment = parse_payment(load_json(json.dumps(body), what="t"))
    assert payment.amount.value == body["amount"]["value"]
    assert payment.aggregate.captured.value == body["aggregate"]["capturedAmount"]["value"]
    assert payment.reference == body["reference"]
    if payment.state is State.UNKNOWN:
        assert payment.display_state == (body["state"] or "UNKNOWN")
    else:
        assert payment.state.value == body["state"]


@given(payments(), st.sampled_from(["amount", "aggregate"]), json_scalars | st.lists(json_scalars))
def test_a_broken_money_field_is_malformed_never_another_crash(
    body: dict[str, Any], key: str, junk: object
) -> None:
    body[key] = junk
    with pytest.raises(MalformedResponseError):
        parse_payment(load_json(json.dumps(body), what="t"))


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = {
        "name": draw(
            st.sampled_from(["CREATED", "AUTHORIZED", "CANCELLED", "CAPTURED", "REFUNDED"]) | st.text()
        ),
        "amount": {"currency": draw(currencies), "value": draw(values)},
        "success": draw(st.booleans()),
    }
    if draw(st.booleans()):
        event["timestamp"] = draw(st.datetimes().map(lambda d: d.isoformat() + "Z") | st.text(max_size=20))
    if draw(st.booleans()):
        event["idempotencyKey"] = draw(st.none() | st.text(max_size=50))
    event.update(draw(extras))
    return event


@given(st.lists(events(), max_size=8))
def test_any_event_log_parses_in_order(log: list[dict[str, Any]]) -> None:
    parsed = parse_events(load_json(json.dumps(log), what="t") if log else [], reference="ref-12345678")
    assert [e.amount.value for e in parsed] == [e["amount"]["value"] for e in log]
    assert [e.success for e in parsed] == [e["success"] for e in log]
    for event, raw in zip(parsed, log, strict=True):
        assert event.display_name == (
            raw["name"] if event.name is not EventName.UNKNOWN else (raw["name"] or "UNKNOWN")
        )


@given(st.binary(max_size=200), st.integers(min_value=400, max_value=599))
def test_any_error_body_becomes_an_api_error(body: bytes, status: int) -> None:
    error = parse_problem(status, body, {})
    assert isinstance(error, ApiError)
    assert error.status == status
    assert str(error)
