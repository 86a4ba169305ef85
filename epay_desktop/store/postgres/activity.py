"""Who last did what to each payment, read from the journal of intents (team mode's list shows it
beside every payment): the newest intent per payment, with who asked and who recorded its outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from epay_desktop.domain import Money
from epay_desktop.store.db import money_from_columns
from epay_desktop.store.postgres.database import Connection, PgDatabase

__all__ = ["LastAction", "PgActivity"]

_COLUMNS = (
    "reference, operation, status, amount, currency, coalesce(requested_by, os_user), "
    "coalesce(requested_at, created_at), finished_by, finished_at, outcome"
)


@dataclass(frozen=True, slots=True)
class LastAction:
    """The newest money-moving operation on a payment: what, how it stands, who asked and when, who
    recorded its outcome and when (None while it has none)."""

    reference: str
    operation: str
    status: str
    amount: Money | None
    asked_by: str
    asked_at: datetime
    finished_by: str | None
    finished_at: datetime | None
    outcome: str


def _action(row: tuple[Any, ...]) -> LastAction:
    reference, operation, status, amount, currency, asked_by, asked_at, finished_by, finished, outcome = row
    return LastAction(
        reference=str(reference),
        operation=str(operation),
        status=str(status),
        amount=money_from_columns(amount, currency),
        asked_by=str(asked_by),
        asked_at=asked_at,
        finished_by=str(finished_by) if finished_by is not None else None,
        finished_at=finished,
        outcome=str(outcome or ""),
    )


class PgActivity:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    def last_actions(self, msn: str, reference: str | None = None) -> dict[str, LastAction]:
        """The newest intent of each payment of ``msn`` (or of one payment), by reference. A row with a
        cell this version cannot read (a currency it does not know) is left out."""

        def work(conn: Connection) -> dict[str, LastAction]:
            where, params = "msn = %s", [msn]
            if reference is not None:
                where, params = "msn = %s AND reference = %s", [msn, reference]
            cursor = conn.execute(
                f"SELECT DISTINCT ON (reference) {_COLUMNS} FROM intents WHERE {where} "
                "ORDER BY reference, id DESC",
                params,
            )
            found: dict[str, LastAction] = {}
            for row in cursor:
                try:
                    action = _action(row)
                except (ValueError, TypeError):
                    continue
                found[action.reference] = action
            return found

        return self.db.read("reading the journal", work)
