"""The JSON form of payments, events and intents that leaves the app: ``epay --json`` prints it and the
team service answers with it (the desktop's team client reads it back with the ``*_from_json``
functions). A payment and an event keep the ePayment API's own field names, so ``api.parse`` reads them
back; what the app derives (which actions are possible, the business state) is added beside them.
Money is always ``{"value": minor units, "currency": "NOK"}``, never a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from epay_desktop.api.errors import MalformedResponseError
from epay_desktop.api.parse import parse_event, parse_payment
from epay_desktop.domain import (
    Action,
    Money,
    Payment,
    PaymentEvent,
    TrackedPayment,
    business_state,
    check_action,
)
from epay_desktop.store import Intent

__all__ = [
    "event_from_json",
    "event_json",
    "intent_json",
    "moment",
    "moment_from_json",
    "money_json",
    "payment_from_json",
    "payment_json",
    "tracked_from_json",
    "tracked_json",
]


def money_json(money: Money | None) -> dict[str, Any] | None:
    return money.to_json() if money is not None else None


def moment(value: datetime | None) -> str | None:
    """An ISO 8601 time with its offset, or None."""
    return value.isoformat() if value is not None else None


def moment_from_json(value: object) -> datetime | None:
    """A time of :func:`moment`; None when there is none or it cannot be read (unknown, never
    guessed). A time without an offset is taken as UTC (what the app writes always has one)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def payment_json(payment: Payment, *, actions: bool = True) -> dict[str, Any]:
    """The payment; ``actions``: with what each action could do now (``check_action``)."""
    agg = payment.aggregate
    data: dict[str, Any] = {
        "reference": payment.reference,
        "state": payment.display_state,
        "businessState": business_state(payment).value,
        "amount": payment.amount.to_json(),
        "aggregate": {
            "authorizedAmount": agg.authorized.to_json(),
            "capturedAmount": agg.captured.to_json(),
            "cancelledAmount": agg.cancelled.to_json(),
            "refundedAmount": agg.refunded.to_json(),
        },
        "pspReference": payment.psp_reference,
        "paymentDescription": payment.description,
        "paymentMethod": payment.payment_method,
        "redirectUrl": payment.redirect_url,
        "metadata": dict(payment.metadata),
        "captureGuaranteedUntil": moment(payment.capture_guaranteed_until),
    }
    if actions:
        data["actions"] = {
            action.value: {
                "allowed": (check := check_action(payment, action)).allowed,
                "amount": check.amount.to_json(),
                "reason": check.reason,
            }
            for action in Action
        }
    return data


def payment_from_json(data: object) -> Payment:
    """The payment of :func:`payment_json` (``MalformedResponseError`` when it is not one)."""
    if isinstance(data, Mapping) and isinstance(data.get("paymentMethod"), str):
        # The API nests the method ({"type": "WALLET"}); this form keeps only its type.
        method = data["paymentMethod"]
        data = {**data, "paymentMethod": {"type": method} if method else None}
    return parse_payment(data)


def event_json(event: PaymentEvent) -> dict[str, Any]:
    return {
        "reference": event.reference,
        "pspReference": event.psp_reference,
        "name": event.display_name,
        "amount": event.amount.to_json(),
        "timestamp": moment(event.timestamp),
        "idempotencyKey": event.idempotency_key,
        "success": event.success,
    }


def event_from_json(data: object, *, reference: str = "") -> PaymentEvent:
    return parse_event(data, reference=reference)


def intent_json(intent: Intent) -> dict[str, Any]:
    """A money-moving operation as the journal keeps it: who asked, what, and how it ended so far."""
    return {
        "id": intent.id,
        "operation": intent.operation.value,
        "reference": intent.reference,
        "amount": money_json(intent.amount),
        "by": intent.os_user,
        "createdAt": moment(intent.created_at),
        "status": intent.status.value,
        "outcome": intent.outcome,
        "finishedAt": moment(intent.finished_at),
        "attempts": intent.attempts,
        "idempotencyKey": intent.idempotency_key,
    }


def tracked_json(tracked: TrackedPayment, *, actions: bool = False, events: bool = False) -> dict[str, Any]:
    """A row of a register (the payment last read, when, why the last read failed); ``events``: with
    its saved event log (None when none was saved); ``actions``: the payment with what each action
    could do now. Read back by :func:`tracked_from_json`."""
    payment = tracked.payment
    data: dict[str, Any] = {
        "reference": tracked.reference,
        "merchantSerialNumber": tracked.merchant_serial_number,
        "description": tracked.description,
        "createdAt": moment(tracked.created_at),
        "fetchedAt": moment(tracked.fetched_at),
        "fetchError": tracked.fetch_error,
        "lastEventAt": moment(tracked.last_event_at),
        "state": payment.display_state if payment else None,
        "businessState": business_state(payment).value if payment else None,
        "payment": payment_json(payment, actions=actions) if payment else None,
    }
    if events:
        data["events"] = [event_json(e) for e in tracked.events] if tracked.events is not None else None
    return data


def tracked_from_json(data: object, msn: str = "") -> TrackedPayment:
    """The row of a :func:`tracked_json` answer (``msn`` when it names no merchant). ``events`` is None
    when the answer has none (a list, or a log never saved). ``MalformedResponseError`` for an answer
    that is not one: a field that cannot be read makes the row unreadable, never guessed."""
    if not isinstance(data, Mapping) or not isinstance(data.get("reference"), str) or not data["reference"]:
        raise MalformedResponseError(f"a payment row cannot be read: {data!r:.200}")
    reference = data["reference"]
    raw_payment, raw_events = data.get("payment"), data.get("events")
    if raw_events is not None and not isinstance(raw_events, list):
        raise MalformedResponseError(f"the events of {reference} are not a list: {raw_events!r:.80}")
    return TrackedPayment(
        reference=reference,
        merchant_serial_number=str(data.get("merchantSerialNumber") or msn),
        payment=payment_from_json(raw_payment) if raw_payment is not None else None,
        events=(
            tuple(event_from_json(e, reference=reference) for e in raw_events)
            if raw_events is not None
            else None
        ),
        description=str(data.get("description") or ""),
        created_at=moment_from_json(data.get("createdAt")),
        fetched_at=moment_from_json(data.get("fetchedAt")),
        fetch_error=str(data.get("fetchError") or ""),
        last_event_at=moment_from_json(data.get("lastEventAt")),
    )
