"""The create request (``POST /epayment/v1/payments``) read the way the real API reads it: its
required fields, the rules between them (a flow and what it needs, a method and its flows), and the
limits of each optional part (the 1.8.1 spec, the 2026 texts, FACTS.md). The parts every request shares
(references, amounts, JSON) are in ``sandbox.validation``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from epay_desktop.domain import Currency
from epay_desktop.sandbox.clock import parse_iso
from epay_desktop.sandbox.problems import ProblemError
from epay_desktop.sandbox.validation import (
    JsonObject,
    fingerprint,
    parse_amount,
    parse_reference,
    require_object,
    text_or_number,
)

PHONE_RE = re.compile(r"^\d{9,15}$")  # 1.8.1 CustomerPhoneNumber
USER_FLOWS = ("PUSH_MESSAGE", "NATIVE_REDIRECT", "WEB_REDIRECT", "QR")
MIN_CREATE_AMOUNT = {Currency.NOK: 100, Currency.DKK: 1, Currency.EUR: 1}
RETURN_URL_MAX = 2500  # 1.8.1 CreatePaymentRequest.returnUrl
# 1.8.1 ProfileRequest.scope; nin needs a permission no sandbox unit has (5030, errors.md).
PROFILE_SCOPES = ("name", "address", "email", "phoneNumber", "birthDate", "nin")
METADATA_MAX_PAIRS, METADATA_KEY_MAX, METADATA_VALUE_MAX = 5, 100, 500
EXPIRES_MIN, EXPIRES_MAX = timedelta(minutes=10), timedelta(days=60)
QR_FORMATS = ("TEXT/TARGETURL", "IMAGE/SVG+XML", "IMAGE/PNG")
QR_DEFAULT_FORMAT = "IMAGE/SVG+XML"  # the spec's default when userFlow is QR and qrFormat is absent
QR_DEFAULT_SIZE, QR_MIN_SIZE, QR_MAX_SIZE = 1024, 100, 2000


@dataclass(frozen=True)
class CreateRequest:
    reference: str
    currency: Currency
    value: int
    user_flow: str
    payment_method: str
    description: str
    phone_number: str | None
    return_url: str | None
    expires_at: datetime | None
    profile_scope: str | None
    metadata: dict[str, str] | None
    fingerprint: str
    qr_format: str | None = None  # QR flow only: TEXT/TARGETURL, IMAGE/SVG+XML or IMAGE/PNG
    qr_size: int | None = None  # IMAGE/PNG only: width = height in pixels
    blocked_sources: tuple[str, ...] = ()  # WALLET only: COMMERCIAL_CARDS


def _check_url(url: Any, name: str) -> str:
    if not isinstance(url, str) or ":" not in url or url.lower().startswith("http:"):
        raise ProblemError.of("4090", f"{name} must use the https:// scheme or a custom URL scheme.")
    return url


def parse_create(body: Any, now: datetime) -> CreateRequest:
    body = require_object(body)
    for required in ("amount", "paymentMethod", "reference", "userFlow"):
        if body.get(required) is None:
            raise ProblemError.invalid(required, "is required")
    reference = parse_reference(body["reference"])
    currency, value = parse_amount(body["amount"], "amount")
    if value < MIN_CREATE_AMOUNT[currency]:
        raise ProblemError.of(
            "6010", f"The smallest {currency.value} payment is {MIN_CREATE_AMOUNT[currency]}."
        )
    method = _parse_payment_method(body["paymentMethod"])
    flow = body["userFlow"]
    if flow not in USER_FLOWS:
        raise ProblemError.invalid("userFlow", "must be one of " + ", ".join(USER_FLOWS))
    if method == "CARD" and flow != "WEB_REDIRECT":
        raise ProblemError.invalid("paymentMethod.type", "CARD needs userFlow WEB_REDIRECT")
    phone = _parse_customer(body.get("customer"))
    if flow == "PUSH_MESSAGE" and body.get("customer") is None:
        raise ProblemError.of(
            "4140", "userFlow PUSH_MESSAGE needs customer.phoneNumber (or another customer)."
        )
    return_url = None
    if body.get("returnUrl") is not None:
        return_url = _check_url(body["returnUrl"], "returnUrl")
        if len(return_url) > RETURN_URL_MAX:
            raise ProblemError.invalid("returnUrl", f"must be at most {RETURN_URL_MAX} characters")
    elif flow == "WEB_REDIRECT":
        raise ProblemError.of("4090", "userFlow WEB_REDIRECT needs returnUrl.")
    if body.get("receiptUrl") is not None:
        _check_url(body["receiptUrl"], "receiptUrl")
    description = body.get("paymentDescription")
    if description is not None and (not isinstance(description, str) or not 3 <= len(description) <= 100):
        raise ProblemError.invalid(
            "paymentDescription",
            "The field PaymentDescription must be a string with a minimum length of 3 and a maximum "
            "length of 100.",
        )
    _parse_minimum_user_age(body.get("minimumUserAge"))
    expires_at = _parse_expires_at(body.get("expiresAt"), flow, now, body.get("receipt"))
    scope = _parse_scope(body.get("profile"))
    metadata = _parse_metadata(body.get("metadata"))
    qr_format, qr_size = _parse_qr_format(body.get("qrFormat"), flow)
    blocked = _parse_blocked_sources(body["paymentMethod"], method)
    normalized = dict(body, reference=reference)
    if isinstance(body.get("customer"), dict) and phone is not None:
        normalized["customer"] = dict(body["customer"], phoneNumber=phone)
    return CreateRequest(
        reference=reference,
        currency=currency,
        value=value,
        user_flow=flow,
        payment_method=method,
        description=description or "",
        phone_number=phone,
        return_url=return_url,
        expires_at=expires_at,
        profile_scope=scope,
        metadata=metadata,
        fingerprint=fingerprint(normalized),
        qr_format=qr_format,
        qr_size=qr_size,
        blocked_sources=blocked,
    )


def _parse_payment_method(value: Any) -> str:
    """``paymentMethod.type``: WALLET or CARD (1.8.1 PaymentMethodType). CARD_PASSTHROUGH is for
    payment service providers through the PSP API, which the sandbox does not simulate (4160)."""
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "CARD_PASSTHROUGH":
        raise ProblemError.of(
            "4160", "CARD_PASSTHROUGH is only for payment service providers; use WALLET or CARD."
        )
    if kind not in ("WALLET", "CARD"):
        raise ProblemError.invalid("paymentMethod.type", "must be WALLET or CARD")
    return str(kind)


def _parse_blocked_sources(method: dict[str, Any], kind: str) -> tuple[str, ...]:
    """``paymentMethod.blockedSources`` (1.8.1 BlockedPaymentSources: COMMERCIAL_CARDS), "when using
    WALLET"; the engine refuses it for Norwegian sales units (5010, features.md)."""
    value = method.get("blockedSources")
    if value is None:
        return ()
    if not isinstance(value, list) or any(item != "COMMERCIAL_CARDS" for item in value):
        raise ProblemError.invalid("paymentMethod.blockedSources", "must be a list of COMMERCIAL_CARDS")
    return tuple(value) if kind == "WALLET" else ()


def _parse_minimum_user_age(value: Any) -> None:
    """1.8.1 ``minimumUserAge``: an integer 0..100 or null. Sandbox customers are all adults."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ProblemError.invalid("minimumUserAge", "must be an integer from 0 to 100")


def _parse_scope(profile: Any) -> str | None:
    """``profile.scope``: space-separated names (1.8.1 ProfileRequest); an unknown one is 4080, ``nin``
    needs a permission the sandbox units do not have (5030 "Illegal scope", errors.md)."""
    if profile is None:
        return None
    if not isinstance(profile, dict):
        raise ProblemError.invalid("profile", "must be an object {scope}")
    scope = profile.get("scope")
    if scope is None:
        return None
    if not isinstance(scope, str) or not scope.split():
        raise ProblemError.of("4080", "profile.scope must be space-separated names, e.g. 'name email'.")
    names = scope.split()
    unknown = [name for name in names if name not in PROFILE_SCOPES]
    if unknown:
        raise ProblemError.of(
            "4080", f"Unknown profile scope {unknown[0]!r}; use {', '.join(PROFILE_SCOPES)}."
        )
    if "nin" in names:
        raise ProblemError.of("5030", "This sales unit may not ask for the national identity number (nin).")
    return " ".join(names)


def _parse_qr_format(value: Any, flow: str) -> tuple[str | None, int | None]:
    """``qrFormat {format, size}`` (1.8.1 CreatePaymentRequest.qrFormat): "only applicable when userFlow
    is QR", where a missing ``qrFormat`` means IMAGE/SVG+XML; ``size`` (100..2000, default 1024) is
    "only applicable when the format is IMAGE/PNG": checked against its range, ignored elsewhere."""
    if value is None:
        return (QR_DEFAULT_FORMAT, None) if flow == "QR" else (None, None)
    if not isinstance(value, dict):
        raise ProblemError.invalid("qrFormat", "must be an object {format, size}")
    kind = value.get("format")
    if kind not in QR_FORMATS:
        raise ProblemError.invalid("qrFormat.format", "must be one of " + ", ".join(QR_FORMATS))
    size = value.get("size")
    bad_size = isinstance(size, bool) or not isinstance(size, int) or not QR_MIN_SIZE <= size <= QR_MAX_SIZE
    if size is not None and bad_size:
        raise ProblemError.invalid(
            "qrFormat.size", f"must be an integer from {QR_MIN_SIZE} to {QR_MAX_SIZE} (pixels)"
        )
    if flow != "QR":
        return None, None  # "only applicable when userFlow is QR": accepted and ignored
    if kind == "IMAGE/PNG":
        return kind, size if size is not None else QR_DEFAULT_SIZE
    return kind, None


def _parse_customer(customer: Any) -> str | None:
    if customer is None:
        return None
    if not isinstance(customer, dict):
        raise ProblemError.invalid("customer", "must be an object")
    given = [k for k in ("phoneNumber", "personalQr", "customerToken") if customer.get(k) is not None]
    if len(given) != 1:
        raise ProblemError.invalid("customer", "give exactly one of phoneNumber, personalQr, customerToken")
    if given[0] == "personalQr":
        # 1.8.1 PersonalQrCode.personalQr: 5..255 characters; errors.md 4060 "Invalid PersonalQr".
        qr = customer["personalQr"]
        if not isinstance(qr, str) or not 5 <= len(qr) <= 255:
            raise ProblemError.of(
                "4060", "customer.personalQr must be the scanned QR content, 5 to 255 characters."
            )
        return None
    if given[0] == "customerToken":
        # errors.md 4050 "Invalid CustomerToken".
        if not isinstance(customer["customerToken"], str) or not customer["customerToken"]:
            raise ProblemError.of("4050", "customer.customerToken must be the token from the check-in event.")
        return None
    phone = text_or_number(customer["phoneNumber"])
    if phone is None or not PHONE_RE.fullmatch(phone):
        raise ProblemError.of(
            "4070", "customer.phoneNumber must be 9 to 15 digits (MSISDN), e.g. 4791234567."
        )
    return phone


def _parse_expires_at(value: Any, flow: str, now: datetime, receipt: Any) -> datetime | None:
    """A long-living payment's ``expiresAt`` (features.md "Long-living payments", errors.md 6110-6130;
    the flows from docs-2023/features_long-living-payments.md "userFlow - Must be PUSH_MESSAGE or QR")."""
    if value is None:
        return None
    if flow not in ("PUSH_MESSAGE", "QR"):
        raise ProblemError.invalid("expiresAt", "can only be used with userFlow PUSH_MESSAGE or QR")
    try:
        moment = parse_iso(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ProblemError.invalid("expiresAt", "must be an RFC 3339 date-time with a time zone")
    if moment <= now + EXPIRES_MIN:
        raise ProblemError.of("6120", "expiresAt must be more than 10 minutes ahead.")
    if moment >= now + EXPIRES_MAX:
        raise ProblemError.of("6110", "expiresAt must be less than 60 days ahead.")
    if receipt is None:
        raise ProblemError.of("6130", "A payment with expiresAt needs a receipt.")
    return moment


def _parse_metadata(value: Any) -> dict[str, str] | None:
    """1.8.1 Metadata: at most 5 string pairs, keys ≤ 100, values ≤ 500 characters; errors.md 4100
    capacity, 4110 duplicate keys, 4120 key length, 4130 value length."""
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ProblemError.invalid("metadata", "must be an object of string keys and string values")
    if isinstance(value, JsonObject) and value.duplicates:
        raise ProblemError.of("4110", f"metadata key {value.duplicates[0]!r} is given more than once.")
    if len(value) > METADATA_MAX_PAIRS:
        raise ProblemError.of("4100", f"metadata holds at most {METADATA_MAX_PAIRS} pairs, got {len(value)}.")
    for key, text in value.items():
        if len(key) > METADATA_KEY_MAX:
            raise ProblemError.of("4120", f"metadata keys are at most {METADATA_KEY_MAX} characters.")
        if len(text) > METADATA_VALUE_MAX:
            raise ProblemError.of("4130", f"metadata values are at most {METADATA_VALUE_MAX} characters.")
    return dict(value)
