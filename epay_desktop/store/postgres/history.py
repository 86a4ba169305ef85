"""The team's journal as the desktops read it: a merchant's intents (those without an outcome, or all)
with who asked for each and who recorded its outcome. Read only: intents are written by the journal
(``postgres.journal``) and their audit lines by the database's trigger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from epay_desktop.store.db import money_from_columns
from epay_desktop.store.journal import Intent, IntentStatus, Operation
from epay_desktop.store.postgres.database import Connection, PgDatabase

__all__ = ["JournalLine", "PgHistory"]

_COLUMNS = (
    "id, operation, profile, msn, reference, amount, currency, idempotency_key, created_at, os_user, "
    "status, outcome, finished_at, attempts, coalesce(requested_by, os_user), "
    "coalesce(requested_at, created_at), finished_by, request_detail"
)


@dataclass(frozen=True, slots=True)
class JournalLine:
    """One intent with who last asked for it (the first request, or the one that reopened it), when,
    why (the reason given), and who recorded its outcome (None while it has none)."""

    intent: Intent
    asked_by: str
    asked_at: datetime
    finished_by: str | None
    reason: str


def _line(row: tuple[Any, ...]) -> JournalLine:
    (id_, operation, profile, msn, reference, amount, currency, key, created, user, status, outcome,
     finished, attempts, asked_by, asked_at, finished_by, detail) = row  # fmt: skip
    intent = Intent(
        id=int(id_),
        operation=Operation(str(operation)),
        profile=str(profile),
        merchant_serial_number=str(msn),
        reference=str(reference),
        amount=money_from_columns(amount, currency),
        idempotency_key=str(key),
        created_at=created,
        os_user=str(user),
        status=IntentStatus(str(status)),
        outcome=str(outcome or ""),
        finished_at=finished,
        attempts=int(attempts),
    )
    return JournalLine(
        intent=intent,
        asked_by=str(asked_by),
        asked_at=asked_at,
        finished_by=str(finished_by) if finished_by is not None else None,
        reason=str(detail or ""),
    )


class PgHistory:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    def intents(
        self,
        msn: str,
        *,
        pending_only: bool = False,
        reference: str | None = None,
        limit: int = 1000,
        before: int | None = None,
    ) -> tuple[list[JournalLine], list[str]]:
        """``msn``'s intents newest first (only those without an outcome, only of one payment, only
        older than intent ``before``), and a sentence for each row this version cannot read (a currency
        it does not know): said, never dropped in silence."""

        def work(conn: Connection) -> tuple[list[JournalLine], list[str]]:
            clauses: list[str] = ["msn = %s"]
            params: list[Any] = [msn]
            if pending_only:
                clauses.append("status = 'pending'")
            if reference is not None:
                clauses.append("reference = %s")
                params.append(reference)
            if before is not None:
                clauses.append("id < %s")
                params.append(before)
            cursor = conn.execute(
                f"SELECT {_COLUMNS} FROM intents WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT %s",
                [*params, limit],
            )
            lines: list[JournalLine] = []
            skipped: list[str] = []
            for row in cursor:
                try:
                    lines.append(_line(row))
                except (ValueError, TypeError) as problem:
                    skipped.append(
                        f"journal entry {row[0]} of {row[4]!s:.64} cannot be read: {problem!s:.160}"
                    )
            return lines, skipped

        return self.db.read("reading the journal", work)
