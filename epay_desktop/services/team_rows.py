"""What the team server's answers say, as the app's own records: a row of the list (``TrackedPayment``),
who did what last to it (``Activity``), and the earlier operation a repeat refusal names (``Intent``).
Money is ``{"value": minor units, "currency"}``; payments and events keep the ePayment API's field names
(``services/wire.py`` reads them, the row itself with ``wire.tracked_from_json``, the one decoder of a
row the server and the desktop share); a field that cannot be read makes the row unreadable, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from epay_desktop.domain import Currency, Money
from epay_desktop.services.wire import moment_from_json as moment_of
from epay_desktop.services.wire import tracked_from_json
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
