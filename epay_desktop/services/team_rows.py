"""What the team server's answers say, as the app's own records: a row of the list (``TrackedPayment``),
who did what last to it (``Activity``), and the earlier operation a repeat refusal names (``Intent``).
Money is ``{"value": minor units, "currency"}``; payments and events keep the ePayment API's field names
(``services/wire.py`` reads them); a field that cannot be read makes the row unreadable, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from epay_desktop.api.errors import MalformedResponseError
from epay_desktop.domain import Currency, Money, TrackedPayment
from epay_desktop.services.wire import event_from_json, payment_from_json
from epay_desktop.store import Intent, IntentStatus, Operation

__all__ = [
    "Activity",
    "activity_of",
    "intent_from_json",
    "moment_of",
    "money_of",
    "payments_of",
    "tracked_from_json",
]


def moment_of(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def money_of(data: Any) -> Money | None:
    if not isinstance(data, dict):
        return None
    try:
        return Money(int(data["value"]), Currency(data["currency"]))
    except (KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class Activity:
    """Who did what to a payment, as the team server tells it: the newest operation (``operation``,
    ``status``, ``by``, ``at``, ``outcome``), and whether one is still without an outcome (``pending``)."""

    operation: str
    status: str
    by: str
    at: datetime | None
    outcome: str = ""
    pending: bool = False


def activity_of(data: dict[str, Any]) -> Activity | None:
    pending = data.get("pending")
    last = pending if isinstance(pending, dict) else data.get("lastAction")
    if not isinstance(last, dict):
        return None
    return Activity(
        operation=str(last.get("operation") or ""),
        status=str(last.get("status") or ""),
        by=str(last.get("by") or ""),
        at=moment_of(last.get("finishedAt") or last.get("at") or last.get("createdAt")),
        outcome=str(last.get("outcome") or ""),
        pending=isinstance(pending, dict),
    )


def tracked_from_json(data: Any, msn: str) -> TrackedPayment:
    """One row of the team server's answer (``MalformedResponseError`` when it cannot be read): the
    register's row with the snapshot the server last read (``payment`` in the API's own field names,
    ``events`` when the answer has them: a list without event logs keeps them unknown)."""
    if not isinstance(data, dict) or not isinstance(data.get("reference"), str):
        raise MalformedResponseError(f"a payment from the team server cannot be read: {data!r:.200}")
    reference = data["reference"]
    raw_payment = data.get("payment")
    raw_events = data.get("events")
    payment = payment_from_json(raw_payment) if isinstance(raw_payment, dict) else None
    events = (
        tuple(event_from_json(e, reference=reference) for e in raw_events)
        if isinstance(raw_events, list)
        else None
    )
    return TrackedPayment(
        reference=reference,
        merchant_serial_number=str(data.get("merchantSerialNumber") or msn),
        payment=payment,
        events=events,
        description=str(data.get("description") or ""),
        created_at=moment_of(data.get("createdAt")),
        fetched_at=moment_of(data.get("fetchedAt")),
        fetch_error=str(data.get("fetchError") or ""),
        last_event_at=moment_of(data.get("lastEventAt")),
    )


def intent_from_json(data: Any, msn: str) -> Intent | None:
    """The previous operation a repeat refusal names (``RepeatNotConfirmedError`` needs it)."""
    if not isinstance(data, dict):
        return None
    try:
        return Intent(
            id=int(data.get("id") or 0),
            operation=Operation(data["operation"]),
            profile="team",
            merchant_serial_number=msn,
            reference=str(data["reference"]),
            amount=money_of(data.get("amount")),
            idempotency_key=str(data.get("idempotencyKey") or ""),
            created_at=moment_of(data.get("createdAt")) or datetime.now(UTC),
            os_user=str(data.get("by") or ""),
            status=IntentStatus(data.get("status") or "succeeded"),
            outcome=str(data.get("outcome") or ""),
            finished_at=moment_of(data.get("finishedAt")),
            attempts=int(data.get("attempts") or 0),
        )
    except (KeyError, TypeError, ValueError):
        return None


def payments_of(answer: Any) -> list[Any]:
    found = answer.get("payments") if isinstance(answer, dict) else None
    return list(found) if isinstance(found, list) else []
