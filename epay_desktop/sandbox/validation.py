"""Reading request bodies the way the real API accepts them (the 1.8.1 spec, the 2026 texts in
``tests/reference/vipps-epayment/agent-toolkit``, FACTS.md §3, §6, §10; README "API audit").

Lenient where real clients differ (references and phone numbers as JSON numbers, a cancel with no
body), strict where the API is (integer minor units, 8..64 character references). A field the spec
calls "only applicable" to some case is accepted and ignored elsewhere, never refused.

The parts every request shares are here; the create request's own rules are in ``create_request``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from epay_desktop.domain import Currency
from epay_desktop.sandbox.problems import ProblemError

REFERENCE_RE = re.compile(r"^[a-zA-Z0-9-]{8,64}$")
MSN_RE = re.compile(r"^[0-9]{4,10}$")  # 1.8.1 MSN schema
MAX_AMOUNT = 65_000_000
# 1.8.1 Currency: SEK, USD and GBP exist "only for CARD_PASSTHROUGH payments" (PSPs, not simulated).
PASSTHROUGH_CURRENCIES = ("SEK", "USD", "GBP")
IDEMPOTENCY_KEY_MAX = 50


class JsonObject(dict[str, Any]):
    """A decoded JSON object that remembers the keys it was given more than once (the last one wins,
    as in most JSON readers); metadata refuses them (4110)."""

    duplicates: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> JsonObject:
    obj = JsonObject(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        repeated: list[str] = []
        for key, _ in pairs:
            if key in seen:
                repeated.append(key)
            seen.add(key)
        obj.duplicates = tuple(repeated)
    return obj


def parse_json(raw: bytes, *, optional: bool = False) -> Any:
    """Decode a body; big integers keep every digit (Python ints are exact)."""
    if not raw.strip():
        if optional:
            return None
        raise ProblemError(400, "Bad Request", "The request body is empty; a JSON object is required.")
    try:
        return json.loads(raw, object_pairs_hook=_object)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProblemError(400, "Bad Request", f"The request body is not valid JSON: {exc}") from None


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ProblemError(400, "Bad Request", "The request body must be a JSON object.")
    return body


def text_or_number(value: Any) -> str | None:
    """A string, or an integer sent as a JSON number (as some clients send references and phones)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def parse_reference(value: Any, name: str = "reference") -> str:
    text = text_or_number(value)
    if text is None or not REFERENCE_RE.fullmatch(text):
        raise ProblemError.invalid(name, "must be 8 to 64 characters of a-z, A-Z, 0-9 and '-'")
    return text


def parse_msn(value: str | None) -> str:
    if not value:
        raise ProblemError.invalid("Merchant-Serial-Number", "the header is required")
    if not MSN_RE.fullmatch(value):
        raise ProblemError.invalid("Merchant-Serial-Number", "must be 4 to 10 digits")
    return value


def parse_idempotency_key(value: str | None) -> str:
    key = parse_optional_idempotency_key(value)
    if key is None:
        raise ProblemError.invalid("Idempotency-Key", "the header is required")
    return key


def parse_optional_idempotency_key(value: str | None) -> str | None:
    """The header where it is recommended, not required: cancel (operations.md: "Recommended"; the
    1.8.1 spec lists no Idempotency-Key on cancel)."""
    if not value:
        return None
    if len(value) > IDEMPOTENCY_KEY_MAX:
        raise ProblemError.invalid("Idempotency-Key", f"must be at most {IDEMPOTENCY_KEY_MAX} characters")
    return value


def parse_amount(value: Any, name: str) -> tuple[Currency, int]:
    if not isinstance(value, dict):
        raise ProblemError.invalid(name, "an object {currency, value} is required")
    currency = value.get("currency")
    if currency in PASSTHROUGH_CURRENCIES:
        raise ProblemError.of(
            "5040", f"{currency} is only for CARD_PASSTHROUGH payments; sales units take NOK, DKK or EUR."
        )
    if not isinstance(currency, str) or currency not in Currency.__members__:
        raise ProblemError.invalid(f"{name}.currency", "must be one of NOK, DKK, EUR")
    raw = value.get("value")
    if raw is None:
        raise ProblemError.invalid(f"{name}.value", "is required")
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ProblemError.of("4040", f"{name}.value must be an integer number of minor units, got {raw!r}.")
    if raw < 0 or raw > MAX_AMOUNT:
        raise ProblemError.of("4040", f"{name}.value must be between 0 and {MAX_AMOUNT}, got {raw}.")
    return Currency(currency), raw


def parse_cancel(body: Any) -> bool:
    """``cancelTransactionOnly``; no body, ``{}`` and ``{"cancelTransactionOnly": false}`` are the same."""
    if body is None:
        return False
    body = require_object(body)
    flag = body.get("cancelTransactionOnly", False)
    if flag is None:
        return False
    if not isinstance(flag, bool):
        raise ProblemError.invalid("cancelTransactionOnly", "must be true or false")
    return flag


def parse_modification(body: Any) -> tuple[Currency, int]:
    body = require_object(body)
    if body.get("modificationAmount") is None:
        raise ProblemError.invalid("modificationAmount", "is required")
    currency, value = parse_amount(body["modificationAmount"], "modificationAmount")
    if value <= 0:
        raise ProblemError.of("4040", "modificationAmount.value must be more than 0.")
    return currency, value


def fingerprint(body: Any) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
