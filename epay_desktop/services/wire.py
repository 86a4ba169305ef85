"""The JSON form of payments, events and intents that leaves the app: ``epay --json`` prints it and the
team service answers with it (the desktop's team client reads it back with the ``*_from_json``
functions). A payment and an event keep the ePayment API's own field names, so ``api.parse`` reads them
back; what the app derives (which actions are possible, the business state) is added beside them.
Money is always ``{"value": minor units, "currency": "NOK"}``, never a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from epay_desktop.api.parse import parse_event, parse_payment
from epay_desktop.domain import Action, Money, Payment, PaymentEvent, business_state, check_action
from epay_desktop.store import Intent

__all__ = [
    "event_from_json",
    "event_json",
    "intent_json",
    "moment",
    "money_json",
    "payment_from_json",
    "payment_json",
]


def money_json(money: Money | None) -> dict[str, Any] | None:
    return money.to_json() if money is not None else None


def moment(value: datetime | None) -> str | None:
    """An ISO 8601 time with its offset, or None."""
    return value.isoformat() if value is not None else None


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
