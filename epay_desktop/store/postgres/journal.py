"""The journal of money-moving intents in PostgreSQL: the same records and rules as the SQLite
``Journal``, kept by the database itself where it can (see ``migrations``).

"One pending intent per payment" is the unique partial index ``intents_one_pending``: ``begin`` inserts
with ``ON CONFLICT DO NOTHING``, which waits for a competing insert on another connection to commit
or roll back, so of two instances beginning at the same moment exactly one gets the intent and the
other an ``IntentPendingError`` naming it. The audit lines of every intent are written by the trigger
``intents_audit`` in the same transaction; this module never writes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from epay_desktop.domain import Money
from epay_desktop.store.db import (
    RegisterDamagedError,
    RegisterLockedError,
    money_columns,
    money_from_columns,
    utc_now,
)
from epay_desktop.store.journal import (
    IdempotencyKeyUsedError,
    Intent,
    IntentFinishedError,
    IntentPendingError,
    IntentStatus,
    Operation,
    RecentlyConfirmedError,
)
from epay_desktop.store.postgres.database import Connection, PgDatabase

_COLUMNS = (
    "id, operation, profile, msn, reference, amount, currency, idempotency_key, created_at, os_user, "
    "status, outcome, finished_at, attempts"
)

# Outcomes the API confirmed replace a "failed" recorded meanwhile (the SQLite journal's rule too).
_CONFIRMED = frozenset({IntentStatus.SUCCEEDED, IntentStatus.RECONCILED})

# A competing intent can be finished between our refused insert and our look at it; then try again.
_BEGIN_TRIES = 5


def _intent(row: tuple[Any, ...]) -> Intent:
    (
        id_,
        operation,
        profile,
        msn,
        reference,
        amount,
        currency,
        key,
        created,
        user,
        status,
        outcome,
        finished,
        attempts,
    ) = row
    return Intent(
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


def _read_intent(conn: Connection, intent_id: int) -> Intent | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM intents WHERE id = %s", (intent_id,)).fetchone()
    return _intent(row) if row else None


def _with_key(conn: Connection, idempotency_key: str) -> Intent | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM intents WHERE idempotency_key = %s", (idempotency_key,)
    ).fetchone()
    return _intent(row) if row else None


def _pending_one(conn: Connection, msn: str, reference: str) -> Intent | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM intents WHERE status = 'pending' AND msn = %s AND reference = %s "
        "ORDER BY id LIMIT 1",
        (msn, reference),
    ).fetchone()
    return _intent(row) if row else None


def _readable(rows: list[tuple[Any, ...]], skipped: list[str]) -> list[Intent]:
    """The intents of ``rows``; one with a cell this version cannot read (a currency it does not know,
    written by hand or by a newer version) is left out and described in ``skipped``, as in SQLite."""
    intents = []
    for row in rows:
        try:
            intents.append(_intent(row))
        except (ValueError, TypeError) as problem:
            skipped.append(
                f"Journal entry {row[0]!s:.20} ({row[1]!s:.20} of {row[4]!s:.64}) cannot be read: "
                f"{problem!s:.160}"
            )
    return intents


class PgJournal:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db
        # Entries the last ``pending`` or ``all`` left out because a cell in them cannot be read.
        self.skipped: list[str] = []

    def begin(
        self,
        *,
        operation: Operation,
        profile: str,
        msn: str,
        reference: str,
        amount: Money | None,
        idempotency_key: str,
        os_user: str,
        now: datetime | None = None,
        audit_detail: str = "",
        repeat_since: datetime | None = None,
    ) -> Intent:
        """Commit the intent (its audit line comes with it); only then may the request be sent.

        Raises ``IntentPendingError`` (nothing written) when the payment already has a pending intent,
        also one another instance is committing at this very moment. A key the journal already holds
        reopens its intent when that intent was refused (failed) and is the same operation (profile,
        payment, amount); any other reuse of a key raises ``IdempotencyKeyUsedError`` (nothing written).
        ``repeat_since``: as in SQLite, the same capture or refund confirmed since then raises
        ``RecentlyConfirmedError`` (nothing written)."""
        created = now or utc_now()
        values = (
            operation.value,
            profile,
            msn,
            reference,
            *money_columns(amount),
            idempotency_key,
            created,
            os_user,
            created,
            os_user,
            audit_detail,
        )

        def reopen(conn: Connection, earlier: Intent) -> Intent | None:
            same = (
                earlier.status is IntentStatus.FAILED
                and (earlier.operation, earlier.profile, earlier.merchant_serial_number, earlier.reference)
                == (operation, profile, msn, reference)
                and earlier.amount == amount
            )
            if not same:
                raise IdempotencyKeyUsedError(earlier)
            # Only while it is still failed: another instance may reopen or settle it first.
            row = conn.execute(
                "UPDATE intents SET status = 'pending', outcome = '', finished_at = NULL, "
                "finished_by = NULL, requested_at = %s, requested_by = %s, request_detail = %s "
                f"WHERE id = %s AND status = 'failed' RETURNING {_COLUMNS}",
                (created, os_user, audit_detail or "again, with the same idempotency key", earlier.id),
            ).fetchone()
            return _intent(row) if row else None

        def work(conn: Connection) -> Intent:
            for _ in range(_BEGIN_TRIES):
                try:
                    found = _pending_one(conn, msn, reference)
                except (ValueError, TypeError) as problem:
                    raise RegisterDamagedError(
                        f"A journal entry on {reference} cannot be read ({problem!s:.160}). It is still "
                        "pending on this payment, so nothing was sent. Repair or remove that entry first.",
                        self.db.location,
                    ) from problem
                if found is not None:
                    raise IntentPendingError(found)
                if repeat_since is not None and operation is not Operation.CANCEL and amount is not None:
                    rows = conn.execute(
                        f"SELECT {_COLUMNS} FROM intents WHERE status IN ('succeeded', 'reconciled') "
                        "AND profile = %s AND msn = %s AND reference = %s AND operation = %s "
                        "AND finished_at >= %s ORDER BY finished_at DESC",
                        (profile, msn, reference, operation.value, repeat_since),
                    ).fetchall()
                    same = [i for i in _readable(rows, []) if i.amount == amount]
                    if same:
                        raise RecentlyConfirmedError(same[0])
                earlier = _with_key(conn, idempotency_key)
                if earlier is not None:
                    reopened = reopen(conn, earlier)
                    if reopened is not None:
                        return reopened
                    continue
                # Without a conflict target: a pending intent on the payment or the same key, committed
                # or being committed by another connection, both end here with no row; look again.
                row = conn.execute(
                    "INSERT INTO intents (operation, profile, msn, reference, amount, currency, "
                    "idempotency_key, created_at, os_user, requested_at, requested_by, request_detail) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                    f"ON CONFLICT DO NOTHING RETURNING {_COLUMNS}",
                    values,
                ).fetchone()
                if row is not None:
                    return _intent(row)
            raise RegisterLockedError(
                f"The payment {reference} kept being changed by other agents while writing the journal. "
                "Nothing was written; try again in a moment.",
                self.db.location,
            )

        return self.db.write("writing the journal", work, durable=True)

    def note_attempt(self, intent_id: int) -> int:
        """Count one more attempt (committed before it is sent); returns how many there have been.
        An intent finished since it was read raises ``IntentFinishedError`` and nothing is written."""

        def work(conn: Connection) -> int:
            row = conn.execute(
                "UPDATE intents SET attempts = attempts + 1 WHERE id = %s AND status = 'pending' "
                "RETURNING attempts",
                (intent_id,),
            ).fetchone()
            if row is None:
                intent = _read_intent(conn, intent_id)
                if intent is None:
                    raise ValueError(f"there is no intent {intent_id} in the journal")
                raise IntentFinishedError(intent)
            return int(row[0])

        return self.db.write("writing the journal", work, durable=True)

    def finish(
        self,
        intent_id: int,
        status: IntentStatus,
        outcome: str,
        *,
        os_user: str,
        now: datetime | None = None,
    ) -> Intent:
        """Record the outcome (its audit line comes with it). Finishing a finished intent changes
        nothing, except that an outcome the API confirmed replaces a ``failed`` one."""
        if status is IntentStatus.PENDING:
            raise ValueError("an outcome cannot be 'pending'")
        finished = now or utc_now()

        def work(conn: Connection) -> Intent:
            conn.execute(
                "UPDATE intents SET status = %s, outcome = %s, finished_at = %s, finished_by = %s "
                "WHERE id = %s AND (status = 'pending' OR (status = 'failed' AND %s))",
                (status.value, outcome, finished, os_user, intent_id, status in _CONFIRMED),
            )
            intent = _read_intent(conn, intent_id)
            if intent is None:
                raise ValueError(f"there is no intent {intent_id} in the journal")
            return intent

        return self.db.write("writing the journal", work, durable=True)

    def get(self, intent_id: int) -> Intent | None:
        return self.db.read("reading the journal", lambda c: _read_intent(c, intent_id))

    def pending(
        self, *, profile: str | None = None, msn: str | None = None, reference: str | None = None
    ) -> list[Intent]:
        clauses = ["status = 'pending'"]
        params: list[str] = []
        for column, value in (("profile", profile), ("msn", msn), ("reference", reference)):
            if value is not None:
                clauses.append(f"{column} = %s")
                params.append(value)
        sql = f"SELECT {_COLUMNS} FROM intents WHERE {' AND '.join(clauses)} ORDER BY id"
        rows = self.db.read("reading the journal", lambda c: c.execute(sql, params).fetchall())
        skipped: list[str] = []
        intents = _readable(rows, skipped)
        self.skipped = skipped
        return intents

    def confirmed_since(
        self, *, profile: str, msn: str, reference: str, operation: Operation, since: datetime
    ) -> list[Intent]:
        """Intents of ``operation`` on the payment whose success the API confirmed (succeeded or
        reconciled) at or after ``since``, newest first."""
        rows = self.db.read(
            "reading the journal",
            lambda c: c.execute(
                f"SELECT {_COLUMNS} FROM intents WHERE status IN ('succeeded', 'reconciled') "
                "AND profile = %s AND msn = %s AND reference = %s AND operation = %s AND finished_at >= %s "
                "ORDER BY finished_at DESC",
                (profile, msn, reference, operation.value, since),
            ).fetchall(),
        )
        return _readable(rows, [])

    def all(self, limit: int = 1000) -> list[Intent]:
        rows = self.db.read(
            "reading the journal",
            lambda c: c.execute(
                f"SELECT {_COLUMNS} FROM intents ORDER BY id DESC LIMIT %s", (limit,)
            ).fetchall(),
        )
        skipped: list[str] = []
        intents = _readable(rows, skipped)
        self.skipped = skipped
        return intents
