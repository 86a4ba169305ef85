"""The body of an ePayment webhook (the spec's ``WebhookEvent``; the same shape for every event, only
``name`` changes).

``pspReference`` is the event's own (as in the event log), not the payment's. ``idempotencyKey`` is
null where the texts say it is not present: on CANCELLED, and on what the customer or the clock did
(ABORTED, EXPIRED), which no merchant call carried a key for.
"""

from __future__ import annotations

import json
from typing import Any

from epay_desktop.sandbox.clock import iso
from epay_desktop.sandbox.records import EventRecord, PaymentRecord, amount_json

WITHOUT_KEY = frozenset({"CANCELLED", "ABORTED", "EXPIRED"})


def webhook_body(payment: PaymentRecord, event: EventRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "msn": payment.msn,
        "reference": payment.reference,
        "pspReference": event.psp_reference,
        "name": event.name,
        "amount": amount_json(payment.currency, event.amount),
        "timestamp": iso(event.timestamp),
        "idempotencyKey": None if event.name in WITHOUT_KEY else event.idempotency_key,
        "success": event.success,
    }
    if event.name == "AUTHORIZED" and payment.profile_scope:
        # With profile sharing, the user's details ride along on AUTHORIZED (1.8.1 WebhookEvent).
        body["sub"] = f"sandbox-sub-{payment.psp_reference[:8]}"
        body["userDetails"] = payment.user_details_json()
    return body


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode("utf-8")
