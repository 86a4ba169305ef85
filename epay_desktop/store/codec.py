"""Domain records to JSON and back, for the snapshots the register keeps.

The client hands the services domain records (not raw JSON), so the store writes its own small,
versioned form of them. Reading is strict about shape (a damaged snapshot raises ``SnapshotError``,
which the register turns into "not fetched yet" rather than a crash).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

from epay_desktop.domain import Aggregate, Currency, EventName, Money, Payment, PaymentEvent, State


class SnapshotError(ValueError):
    """A stored snapshot that cannot be read back."""


def money_to_json(money: Money) -> list[Any]:
    return [money.value, money.currency.value]


# Loading 10,000 snapshots builds ~100,000 Money and enum values: plain dict lookups instead of
# Enum.__call__, and shared Money instances (immutable, so sharing is safe), keep start-up quick.
_CURRENCIES = {c.value: c for c in Currency}
_STATES = {s.value: s for s in State}
_EVENT_NAMES = {e.value: e for e in EventName}
_MONEY_CACHE: dict[tuple[int, str], Money] = {}
_MONEY_CACHE_LIMIT = 50_000


def money_from_json(data: Any) -> Money:
    if not (isinstance(data, list) and len(data) == 2):
        raise SnapshotError(f"bad money {data!r}")
    return money_of(*data)


def money_of(value: Any, currency: Any) -> Money:
    """Money from a stored value and currency code (shared instances, as ``money_from_json``)."""
    if type(value) is not int:
        raise SnapshotError(f"bad money value {value!r}")
    key = (value, currency)
    money = _MONEY_CACHE.get(key)
    if money is None:
        found = _CURRENCIES.get(currency) if isinstance(currency, str) else None
        if found is None:
            raise SnapshotError(f"bad currency {currency!r}")
        if len(_MONEY_CACHE) >= _MONEY_CACHE_LIMIT:
            _MONEY_CACHE.clear()
        money = _MONEY_CACHE[key] = Money(value, found)
    return money


def _lookup(table: dict[str, Any], text: Any, what: str) -> Any:
    found = table.get(text) if isinstance(text, str) else None
    if found is None:
        raise SnapshotError(f"bad {what} {text!r}")
    return found


def payment_to_json(payment: Payment) -> dict[str, Any]:
    agg = payment.aggregate
    return {
        "v": 1,
        "reference": payment.reference,
        "amount": money_to_json(payment.amount),
        "state": payment.state.value,
        "rawState": payment.raw_state,
        "aggregate": [money_to_json(m) for m in (agg.authorized, agg.captured, agg.cancelled, agg.refunded)],
        "pspReference": payment.psp_reference,
        "description": payment.description,
        "paymentMethod": payment.payment_method,
        "redirectUrl": payment.redirect_url,
        "metadata": dict(payment.metadata),
        "captureGuaranteedUntil": (
            payment.capture_guaranteed_until.isoformat() if payment.capture_guaranteed_until else None
        ),
    }


def state_of(text: Any) -> State:
    """A stored state word (``SnapshotError`` when it is not one)."""
    return _lookup(_STATES, text, "state")  # type: ignore[no-any-return]


def payment_from_json(data: Any, known_reference: str | None = None) -> Payment:
    """``known_reference``: the register row's reference, shared when it is the same text (a list of
    100,000 payments keeps one copy of each, not two)."""
    try:
        agg = [money_from_json(m) for m in data["aggregate"]]
        if len(agg) != 4:
            raise SnapshotError("bad aggregate")
        metadata = data.get("metadata") or {}
        reference = str(data["reference"])
        return Payment(
            reference=known_reference if reference == known_reference else reference,
            amount=money_from_json(data["amount"]),
            state=_lookup(_STATES, data["state"], "state"),
            aggregate=Aggregate(*agg),
            psp_reference=str(data.get("pspReference", "")),
            description=str(data.get("description", "")),
            # A handful of distinct values over the whole register: one shared copy of each.
            payment_method=sys.intern(str(data.get("paymentMethod", ""))),
            redirect_url=data.get("redirectUrl"),
            raw_state=sys.intern(str(data.get("rawState", ""))),
            metadata={str(k): str(v) for k, v in metadata.items()},
            capture_guaranteed_until=_moment(data.get("captureGuaranteedUntil")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise SnapshotError(f"unreadable payment snapshot: {error}") from error


def _moment(value: Any) -> datetime | None:
    """A stored date-time (absent in snapshots written before it was kept)."""
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def event_to_json(event: PaymentEvent) -> dict[str, Any]:
    return {
        "reference": event.reference,
        "pspReference": event.psp_reference,
        "name": event.name.value,
        "rawName": event.raw_name,
        "amount": money_to_json(event.amount),
        "timestamp": event.timestamp.isoformat() if event.timestamp is not None else None,
        "idempotencyKey": event.idempotency_key,
        "success": event.success,
    }


def event_from_json(data: Any) -> PaymentEvent:
    try:
        stamp = data.get("timestamp")
        return PaymentEvent(
            reference=str(data["reference"]),
            psp_reference=str(data["pspReference"]),
            name=_lookup(_EVENT_NAMES, data["name"], "event name"),
            amount=money_from_json(data["amount"]),
            timestamp=datetime.fromisoformat(stamp) if stamp else None,
            idempotency_key=data.get("idempotencyKey"),
            success=bool(data["success"]),
            raw_name=str(data.get("rawName", "")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise SnapshotError(f"unreadable event snapshot: {error}") from error


def dump_payment(payment: Payment) -> str:
    return json.dumps(payment_to_json(payment), ensure_ascii=False, separators=(",", ":"))


def load_payment(text: str, known_reference: str | None = None) -> Payment:
    try:
        return payment_from_json(json.loads(text), known_reference)
    except json.JSONDecodeError as error:
        raise SnapshotError(f"unreadable payment snapshot: {error}") from error


def dump_events(events: tuple[PaymentEvent, ...] | list[PaymentEvent]) -> str:
    return json.dumps([event_to_json(e) for e in events], ensure_ascii=False, separators=(",", ":"))


def load_events(text: str) -> tuple[PaymentEvent, ...]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SnapshotError(f"unreadable events snapshot: {error}") from error
    if not isinstance(data, list):
        raise SnapshotError("events snapshot is not a list")
    return tuple(event_from_json(item) for item in data)
