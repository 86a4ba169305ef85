"""The journal of money-moving intents in PostgreSQL: the records, rules and queries of the SQLite
``Journal`` (``store.journal.JournalRecords``), kept by the database itself where it can (see
``migrations``).

"One pending intent per payment" is the unique partial index ``intents_one_pending``: ``begin`` inserts
with ``ON CONFLICT DO NOTHING``, which waits for a competing insert on another connection to commit
or roll back, so of two instances beginning at the same moment exactly one gets the intent and the
other an ``IntentPendingError`` naming it. The audit lines of every intent are written by the trigger
``intents_audit`` in the same transaction; this module never writes them.
"""

from __future__ import annotations

from epay_desktop.store.db import RegisterDamagedError, RegisterError, RegisterLockedError, money_columns
from epay_desktop.store.dialect import POSTGRES, Connection
from epay_desktop.store.journal import (
    AGAIN_WITH_THE_SAME_KEY,
    IdempotencyKeyUsedError,
    Intent,
    IntentOutcome,
    IntentRequest,
    JournalRecords,
    Operation,
    UnreadableIntentError,
    cancel_releases,
)
from epay_desktop.store.postgres.database import PgDatabase

# A competing intent can be finished between our refused insert and our look at it; then try again.
_BEGIN_TRIES = 5


def _releases(conn: Connection, msn: str, reference: str) -> str:
    """What a cancel of the payment releases by the register's last snapshot ("10000 NOK"), for the
    audit; "" when nothing or not known (``journal.cancel_releases``)."""
    row = conn.execute(
        "SELECT payment::text FROM payments WHERE msn = %s AND reference = %s", (msn, reference)
    ).fetchone()
    left = cancel_releases(None if row is None or row[0] is None else str(row[0]), reference)
    return f"{left.value} {left.currency.value}" if left is not None else ""


class PgJournal(JournalRecords):
    dialect = POSTGRES
    # Every outcome waits for the disk here (``confirmed_outcome_durable`` stays True): other instances
    # see it the moment it commits (live updates, the pending list), and an outcome they saw must not
    # turn back into "pending" after the server restarts; and the wait is the server's, not this desk's.

    def __init__(self, db: PgDatabase) -> None:
        super().__init__(db)
        self._location = db.location

    def _begin(self, conn: Connection, request: IntentRequest) -> Intent:
        if request.operation is Operation.CANCEL and request.amount is None:
            # For its audit lines (migration 10): a cancel asks for no amount; it releases what is left.
            conn.execute(
                "SELECT set_config('epay.cancel_releases', %s, true)",
                (_releases(conn, request.msn, request.reference),),
            )
        for _ in range(_BEGIN_TRIES):
            self._refuse_if_busy(conn, request)
            earlier = self._with_key(conn, request.idempotency_key)
            if earlier is not None:
                reopened = self._reopen(conn, earlier, request)
                if reopened is not None:
                    return reopened
                continue
            # Without a conflict target: a pending intent on the payment or the same key, committed
            # or being committed by another connection, both end here with no row; look again.
            row = conn.execute(
                "INSERT INTO intents (operation, profile, msn, reference, amount, currency, "
                "idempotency_key, created_at, os_user, requested_at, requested_by, request_detail) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING RETURNING id",
                (
                    request.operation.value,
                    request.profile,
                    request.msn,
                    request.reference,
                    *money_columns(request.amount),
                    request.idempotency_key,
                    request.at,
                    request.os_user,
                    request.at,
                    request.os_user,
                    request.audit_detail,
                ),
            ).fetchone()
            if row is not None:
                return self._written(conn, int(row[0]))
        raise RegisterLockedError(
            f"The payment {request.reference} kept being changed by other agents while writing the journal. "
            "Nothing was written; try again in a moment.",
            self._location,
        )

    def _reopen(self, conn: Connection, earlier: Intent, request: IntentRequest) -> Intent | None:
        if not request.reopens(earlier):
            raise IdempotencyKeyUsedError(earlier)
        # Only while it is still failed: another instance may reopen or settle it first.
        row = conn.execute(
            "UPDATE intents SET status = 'pending', outcome = '', finished_at = NULL, "
            "finished_by = NULL, requested_at = %s, requested_by = %s, request_detail = %s "
            "WHERE id = %s AND status = 'failed' RETURNING id",
            (
                request.at,
                request.os_user,
                request.audit_detail or AGAIN_WITH_THE_SAME_KEY,
                earlier.id,
            ),
        ).fetchone()
        return self._written(conn, earlier.id) if row else None

    def _unreadable_pending(self, problem: UnreadableIntentError) -> RegisterError:
        return RegisterDamagedError(
            f"{problem} It is still pending on this payment, so nothing was sent. Repair or remove that "
            "entry first.",
            self._location,
        )

    def _set_outcome(self, conn: Connection, intent_id: int, outcome: IntentOutcome) -> bool:
        cursor = conn.execute(
            "UPDATE intents SET status = %s, outcome = %s, finished_at = %s, finished_by = %s "
            "WHERE id = %s AND (status = 'pending' OR (status = 'failed' AND %s))",
            (
                outcome.status.value,
                outcome.text,
                outcome.at,
                outcome.os_user,
                intent_id,
                outcome.over_failed,
            ),
        )
        return cursor.rowcount == 1

    def _audit_outcome(self, conn: Connection, intent: Intent, outcome: IntentOutcome) -> None:
        """Nothing to write: the trigger ``intents_audit`` wrote the line with the outcome."""
