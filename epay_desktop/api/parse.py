"""Lenient reading of API bodies into ``domain`` records.

Lenient where the API may grow: unknown states and event names become ``UNKNOWN`` with the raw text
kept, extra fields are ignored, optional fields may be missing. Strict where money is at stake: a
missing or mistyped amount, an unknown currency or a fractional number of minor units raises
:class:`MalformedResponseError` with a message that says which field of which record.

JSON numbers are read exactly: integers stay Python ints (no 2**53 limit), decimals become ``Decimal``
(never float), so ``49900.0`` is accepted as 49900 and ``499.5`` is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from epay_desktop.api.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
)
from epay_desktop.domain import Aggregate, Currency, EventName, Money, Payment, PaymentEvent, State

__all__ = [
    "CreatedPayment",
    "TokenInfo",
    "excerpt",
    "load_json",
    "parse_created",
    "parse_events",
    "parse_money",
    "parse_payment",
    "parse_problem",
    "parse_token",
]

_EXCERPT = 200


@dataclass(frozen=True, slots=True)
class CreatedPayment:
    """The answer to a create: the reference, and where to send the customer (not for PUSH_MESSAGE)."""

    reference: str
    redirect_url: str | None = None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    access_token: str
    expires_in: float | None


def excerpt(body: bytes | str, limit: int = _EXCERPT) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def load_json(body: bytes | str, *, what: str, status: int | None = None) -> Any:
    """Parse a body as JSON, exactly (ints stay ints, decimals become Decimal), or raise Malformed."""
    if not body.strip():
        raise MalformedResponseError(f"{what}: the answer had an empty body", status=status)
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedResponseError(
            f"{what}: the answer is not JSON ({excerpt(body, 80)!r})",
            status=status,
            body_excerpt=excerpt(body),
        ) from exc


def _require_mapping(data: object, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise MalformedResponseError(f"{what}: expected a JSON object, got {_kind(data)}")
    return data


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _raw_text(value: object) -> str:
    """The text of an enum-ish field as sent, for showing an unknown value ("" when absent)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else excerpt(str(value), 40)


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def parse_money(data: object, what: str) -> Money:
    """``{"currency": "NOK", "value": 49900}`` → Money; strict: this is money."""
    obj = _require_mapping(data, what)
    currency_text = obj.get("currency")
    if not isinstance(currency_text, str):
        raise MalformedResponseError(f"{what}: currency is missing or not text ({_kind(currency_text)})")
    try:
        currency = Currency(currency_text.upper())
    except ValueError:
        raise MalformedResponseError(f"{what}: unknown currency {currency_text!r}") from None
    value = obj.get("value")
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise MalformedResponseError(f"{what}: value is missing or not a number ({_kind(value)})")
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise MalformedResponseError(f"{what}: value {value} is not a whole number of minor units")
        value = int(value)
    return Money(value, currency)


def _parse_aggregate(data: object, what: str) -> Aggregate:
    obj = _require_mapping(data, what)
    parts = {
        key: parse_money(obj.get(key), f"{what}.{key}")
        for key in ("authorizedAmount", "capturedAmount", "cancelledAmount", "refundedAmount")
    }
    currencies = {m.currency for m in parts.values()}
    if len(currencies) > 1:
        raise MalformedResponseError(f"{what}: amounts in more than one currency ({sorted(currencies)})")
    return Aggregate(
        authorized=parts["authorizedAmount"],
        captured=parts["capturedAmount"],
        cancelled=parts["cancelledAmount"],
        refunded=parts["refundedAmount"],
    )


def parse_payment(data: object, *, what: str = "payment") -> Payment:
    """A GetPayment / ModificationResponse body (or a sandbox list item) → Payment."""
    obj = _require_mapping(data, what)
    reference = obj.get("reference")
    if not isinstance(reference, str) or not reference:
        raise MalformedResponseError(f"{what}: reference is missing or not text ({_kind(reference)})")
    what = f"{what} {reference}"
    amount = parse_money(obj.get("amount"), f"{what}: amount")
    aggregate = _parse_aggregate(obj.get("aggregate"), f"{what}: aggregate")
    if aggregate.currency is not amount.currency:
        raise MalformedResponseError(
            f"{what}: aggregate in {aggregate.currency} but amount in {amount.currency}"
        )
    raw_state = obj.get("state")
    raw_state_text = _raw_text(raw_state)
    method = obj.get("paymentMethod")
    method_type = _optional_str(method, "type") if isinstance(method, Mapping) else None
    metadata_in = obj.get("metadata")
    metadata: dict[str, str] = {}
    if isinstance(metadata_in, Mapping):
        metadata = {str(k): v for k, v in metadata_in.items() if isinstance(v, str)}
    return Payment(
        reference=reference,
        amount=amount,
        state=State.parse(raw_state),
        aggregate=aggregate,
        psp_reference=_optional_str(obj, "pspReference") or "",
        description=_optional_str(obj, "paymentDescription") or "",
        payment_method=method_type or "",
        redirect_url=_optional_str(obj, "redirectUrl"),
        raw_state=raw_state_text,
        metadata=metadata,
        capture_guaranteed_until=_parse_moment(obj.get("captureGuaranteedUntil")),
    )


def _parse_moment(value: object) -> datetime | None:
    """An RFC 3339 date-time with its offset (a missing offset is read as UTC, as the API writes
    UTC); anything unreadable is None: the field only informs, it never moves money."""
    moment = _parse_timestamp(value)
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _parse_timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _parse_event(data: object, what: str, fallback_reference: str) -> PaymentEvent:
    obj = _require_mapping(data, what)
    raw_name = obj.get("name")
    success = obj.get("success")
    if not isinstance(success, bool):
        # Never guess whether an operation went through.
        raise MalformedResponseError(f"{what}: success is missing or not true/false ({_kind(success)})")
    key = obj.get("idempotencyKey")
    return PaymentEvent(
        reference=_optional_str(obj, "reference") or fallback_reference,
        psp_reference=_optional_str(obj, "pspReference") or "",
        name=EventName.parse(raw_name),
        amount=parse_money(obj.get("amount"), f"{what}: amount"),
        timestamp=_parse_timestamp(obj.get("timestamp")),
        idempotency_key=key if isinstance(key, str) else None,
        success=success,
        raw_name=_raw_text(raw_name),
    )


def parse_event(data: object, *, what: str = "event", reference: str = "") -> PaymentEvent:
    """One event (of the event log, or a webhook's body: the same fields)."""
    return _parse_event(data, what, reference)


def parse_events(data: object, *, reference: str = "") -> list[PaymentEvent]:
    """An event log (a JSON array, oldest first) → events. Order is kept as the API sent it."""
    what = f"event log of {reference}" if reference else "event log"
    if not isinstance(data, list):
        raise MalformedResponseError(f"{what}: expected a JSON array, got {_kind(data)}")
    return [_parse_event(item, f"{what}, event {i + 1}", reference) for i, item in enumerate(data)]


def parse_created(data: object, *, reference: str) -> CreatedPayment:
    obj = _require_mapping(data, "created payment")
    got = obj.get("reference")
    return CreatedPayment(
        reference=got if isinstance(got, str) and got else reference,
        redirect_url=_optional_str(obj, "redirectUrl"),
    )


def parse_token(data: object) -> TokenInfo:
    """The access-token answer; its values are strings (``"expires_in": "3599"``) but numbers are fine."""
    obj = _require_mapping(data, "access token")
    token = obj.get("access_token")
    if not isinstance(token, str) or not token:
        raise MalformedResponseError("access token: access_token is missing or not text")
    expires_in: float | None = None
    raw = obj.get("expires_in")
    try:
        if isinstance(raw, str | int | Decimal) and not isinstance(raw, bool):
            expires_in = float(raw)
    except ValueError:
        expires_in = None
    if expires_in is not None and not (expires_in > 0 and expires_in < 10**9):
        expires_in = None
    return TokenInfo(token, expires_in)


# --- problems -------------------------------------------------------------------------------------

_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_REASONS = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    408: "Request timeout",
    409: "Conflict",
    422: "Unprocessable request",
    423: "Locked",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


def _error_code(extra: object) -> str | None:
    if not isinstance(extra, list):
        return None
    for item in extra:
        if isinstance(item, Mapping) and str(item.get("name", "")).lower() == "errorcode":
            reason = item.get("reason")
            if isinstance(reason, str | int) and not isinstance(reason, bool):
                return str(reason)
    return None


def _validation_detail(extra: object) -> str:
    """Validation errors name the field in extraDetails (no ErrorCode): show them."""
    if not isinstance(extra, list):
        return ""
    parts = [
        f"{item.get('name')}: {item.get('reason')}"
        for item in extra
        if isinstance(item, Mapping) and str(item.get("name", "")).lower() != "errorcode"
    ]
    return "; ".join(parts)


def parse_problem(
    status: int,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    retry_after: float | None = None,
) -> ApiError:
    """Any error answer → the right ApiError subclass. Reads Problem JSON (RFC 7807 with
    ``extraDetails``), Azure API Management bodies (``{"statusCode", "message"}``), Azure AD token errors
    (``{"error", "error_description"}``), HTML pages from proxies, empty bodies and anything else."""
    headers = headers or {}
    reason = _REASONS.get(status, "Error")
    title = reason
    detail = ""
    code: str | None = None
    trace_id: str | None = headers.get("x-trace-id") or headers.get("request-id")
    instance: str | None = None
    data: object = None
    text = body.strip()
    if text:
        try:
            data = json.loads(text, parse_float=Decimal, parse_constant=_no_constants)
        except (ValueError, UnicodeDecodeError, RecursionError):
            data = None
    if isinstance(data, Mapping):
        if isinstance(data.get("title"), str) and data["title"].strip():
            title = data["title"].strip()
        detail = _optional_str(data, "detail") or ""
        code = _error_code(data.get("extraDetails"))
        if not code and not detail:
            detail = _validation_detail(data.get("extraDetails"))
        trace_id = _optional_str(data, "traceId") or _optional_str(data, "trace_id") or trace_id
        instance = _optional_str(data, "instance")
        if "message" in data and "title" not in data:  # Azure API Management
            title = f"{reason} (from the API gateway)"
            detail = str(data.get("message") or "")
        elif "error" in data and "title" not in data:  # Azure AD style token error
            title = str(data.get("error") or reason)
            detail = str(data.get("error_description") or "")
        if not code and isinstance(data.get("errorCode"), str | int):
            code = str(data["errorCode"])
    elif text:
        match = _HTML_TITLE.search(text)
        if match or text[:1] == b"<":
            page = excerpt(match.group(1), 80) if match else ""
            title = f"{reason} (an HTML page, not the API: a proxy or gateway answered)"
            detail = page
        else:
            detail = excerpt(text, 160)
    else:
        title = f"{reason} (empty answer)"
    kwargs: dict[str, Any] = {
        "error_code": code,
        "trace_id": trace_id,
        "instance": instance,
        "body_excerpt": excerpt(body),
    }
    if status in (401, 403):
        return AuthenticationError(status, title, detail, **kwargs)
    if status == 404:
        return NotFoundError(status, title, detail, **kwargs)
    if status == 409:
        return ConflictError(status, title, detail, **kwargs)
    if status == 429:
        return RateLimitedError(status, title, detail, retry_after=retry_after, **kwargs)
    return ApiError(status, title, detail, **kwargs)
