"""The journal of money-moving intents (cancel, capture, refund).

An intent is committed durably (``synchronous = FULL``) BEFORE its request is sent, with the
Idempotency-Key the request will carry. Its outcome is recorded when known. An intent still
``pending`` at the next start was interrupted (crash, kill, lost answer): the services finish it by
sending it again with the SAME key (safe, by idempotency) or by settling it from the event log.
"""

from __future__ import annotations

import enum
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from epay_desktop.domain import Money
from epay_desktop.store.audit import insert_line
from epay_desktop.store.db import (
    Database,
    RegisterDamagedError,
    from_text,
    money_columns,
    money_from_columns,
    to_text,
    utc_now,
)


class IntentStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RECONCILED = "reconciled"


class Operation(enum.StrEnum):
    CANCEL = "cancel"
    CAPTURE = "capture"
    REFUND = "refund"


@dataclass(frozen=True, slots=True)
class Intent:
    id: int
    operation: Operation
    profile: str
    merchant_serial_number: str
    reference: str
    amount: Money | None
    idempotency_key: str
    created_at: datetime
    os_user: str
    status: IntentStatus
    outcome: str = ""
    finished_at: datetime | None = None
    attempts: int = 0

    @property
    def last_attempt_at(self) -> datetime | None:
        """When the last attempt of a pending intent was sent (None: never sent, or not recorded)."""
        if self.status is not IntentStatus.PENDING or not self.outcome.startswith(ATTEMPT_NOTE):
            return None
        try:
            return from_text(self.outcome.removeprefix(ATTEMPT_NOTE))
        except ValueError:
            return None


# While an intent is pending its ``outcome`` holds when its last attempt was sent (``finish`` replaces
# it with the outcome): another window or copy of the app can tell an attempt that may still be on the
# wire from one that has surely ended.
ATTEMPT_NOTE = "last attempt sent at "


_COLUMNS = (
    "id, operation, profile, msn, reference, amount, currency, idempotency_key, created_at, os_user, "
    "status, outcome, finished_at, attempts"
)


def _intent(row: tuple[object, ...]) -> Intent:
    try:
        return _intent_of(row)
    except (ValueError, TypeError, OverflowError) as problem:
        raise UnreadableIntentError(
            f"Journal entry {row[0]!s:.20} ({row[1]!s:.20} of {row[4]!s:.64}) cannot be read: "
            f"{problem!s:.160}"
        ) from problem


def _intent_of(row: tuple[object, ...]) -> Intent:
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
        id=int(id_),  # type: ignore[call-overload]
        operation=Operation(str(operation)),
        profile=str(profile),
        merchant_serial_number=str(msn),
        reference=str(reference),
        amount=money_from_columns(amount, currency),
        idempotency_key=str(key),
        created_at=from_text(str(created)) or utc_now(),
        os_user=str(user),
        status=IntentStatus(str(status)),
        outcome=str(outcome or ""),
        finished_at=from_text(str(finished) if finished else None),
        attempts=int(attempts),  # type: ignore[call-overload]
    )


def _confirmed_since(
    conn: sqlite3.Connection, profile: str, msn: str, reference: str, operation: Operation, since: datetime
) -> list[Intent]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM intents WHERE status IN ('succeeded', 'reconciled') "
        "AND profile = ? AND msn = ? AND reference = ? AND operation = ? AND finished_at >= ? "
        "ORDER BY finished_at DESC",
        (profile, msn, reference, operation.value, to_text(since)),
    ).fetchall()
    return _readable(rows, [])


def _read_intent(conn: sqlite3.Connection, intent_id: int) -> Intent | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM intents WHERE id = ?", (intent_id,)).fetchone()
    return _intent(row) if row else None


class IntentPendingError(Exception):
    """``begin`` found an intent on the same payment still without an outcome (``intent``): a second
    money-moving call on that payment must wait for it. Checked in the same write transaction as the
    insert, and enforced by a unique index, so two desks or processes cannot both begin."""

    def __init__(self, intent: Intent) -> None:
        super().__init__(
            f"A {intent.operation.value} of {intent.reference} (intent {intent.id}) has no known outcome yet."
        )
        self.intent = intent


# Outcomes the API confirmed: they replace a "failed" recorded meanwhile (see ``Journal.finish``).
_CONFIRMED = frozenset({IntentStatus.SUCCEEDED, IntentStatus.RECONCILED})


class UnreadableIntentError(Exception):
    """A journal row has a cell that cannot be read (edited by hand, written by another program)."""


def _readable(rows: list[tuple[object, ...]], skipped: list[str]) -> list[Intent]:
    """The intents of ``rows``; a row that cannot be read is left out and described in ``skipped``."""
    intents = []
    for row in rows:
        try:
            intents.append(_intent(row))
        except UnreadableIntentError as problem:
            skipped.append(str(problem))
    return intents


class IntentFinishedError(Exception):
    """``note_attempt`` found the intent already finished (``intent``: abandoned, settled or sent by
    another desk or process since it was read): it must not be sent. Nothing was written."""

    def __init__(self, intent: Intent) -> None:
        super().__init__(
            f"The {intent.operation.value} of {intent.reference} (intent {intent.id}) is already finished "
            f"({intent.status.value})."
        )
        self.intent = intent


class IdempotencyKeyUsedError(ValueError):
    """``begin`` was given an Idempotency-Key the journal already holds for another operation (or for
    one that did not fail): a key names one operation, so nothing was written."""

    def __init__(self, intent: Intent) -> None:
        super().__init__(
            f"Idempotency key {intent.idempotency_key} already belongs to the {intent.operation.value} of "
            f"{intent.reference} started {intent.created_at:%Y-%m-%d %H:%M} UTC ({intent.status.value}); "
            "use it only to repeat that same operation, or leave the key out."
        )
        self.intent = intent


class RecentlyConfirmedError(Exception):
    """``begin`` (asked to check for repeats) found the same capture or refund (same payment, profile
    and amount) confirmed since the given moment (``intent``, the newest): nothing was written."""

    def __init__(self, intent: Intent) -> None:
        super().__init__(
            f"The same {intent.operation.value} of {intent.reference} was confirmed at {intent.finished_at}."
        )
        self.intent = intent


class Journal:
    def __init__(self, db: Database) -> None:
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
        """Commit the intent (and its audit line) durably; only then may the request be sent.

        Raises ``IntentPendingError`` (nothing written) when the payment already has a pending intent.
        A key the journal already holds reopens its intent when that intent was refused (failed) and is
        the same operation (profile, payment, amount): the API asks for some refusals to be sent again
        later with the same key (6280 "Capture failed, please try again later", 6260, 6250, 423). Any
        other reuse of a key raises ``IdempotencyKeyUsedError`` (nothing written). With ``repeat_since``,
        a capture or refund of the same amount on the payment confirmed since then raises
        ``RecentlyConfirmedError`` (nothing written), checked in the same transaction as the write, so a
        success another desk records meanwhile is seen."""
        created = now or utc_now()

        def pending_one(conn: sqlite3.Connection) -> Intent | None:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM intents WHERE status = 'pending' AND msn = ? AND reference = ? "
                "ORDER BY id LIMIT 1",
                (msn, reference),
            ).fetchone()
            return _intent(row) if row else None

        def reopen(conn: sqlite3.Connection, earlier: Intent) -> Intent:
            same = (
                earlier.status is IntentStatus.FAILED
                and (earlier.operation, earlier.profile, earlier.merchant_serial_number, earlier.reference)
                == (operation, profile, msn, reference)
                and earlier.amount == amount
            )
            if not same:
                raise IdempotencyKeyUsedError(earlier)
            conn.execute(
                "UPDATE intents SET status = 'pending', outcome = '', finished_at = NULL WHERE id = ?",
                (earlier.id,),
            )
            insert_line(
                conn,
                at=created,
                os_user=os_user,
                profile=profile,
                msn=msn,
                action=operation.value,
                result="requested",
                reference=reference,
                amount=amount,
                detail=audit_detail or "again, with the same idempotency key",
                idempotency_key=idempotency_key,
                intent_id=earlier.id,
            )
            reopened = _read_intent(conn, earlier.id)
            assert reopened is not None  # read in this very transaction
            return reopened

        def work(conn: sqlite3.Connection) -> Intent:
            # Inside the write transaction (BEGIN IMMEDIATE): nobody can begin between this check and
            # the insert. The unique index is the second line of defence.
            try:
                found = pending_one(conn)
            except UnreadableIntentError as problem:
                raise RegisterDamagedError(
                    f"{problem} It is still pending on this payment, so nothing was sent. Repair or remove "
                    f"that entry in {self.db.path.name}, or move the register aside.",
                    self.db.path,
                ) from problem
            if found is not None:
                raise IntentPendingError(found)
            if repeat_since is not None and operation is not Operation.CANCEL and amount is not None:
                same = [
                    earlier
                    for earlier in _confirmed_since(conn, profile, msn, reference, operation, repeat_since)
                    if earlier.amount == amount
                ]
                if same:
                    raise RecentlyConfirmedError(same[0])
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM intents WHERE idempotency_key = ?", (idempotency_key,)
            ).fetchone()
            if row is not None:
                return reopen(conn, _intent(row))
            try:
                cursor = conn.execute(
                    "INSERT INTO intents (operation, profile, msn, reference, amount, currency, "
                    "idempotency_key, created_at, os_user) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        operation.value,
                        profile,
                        msn,
                        reference,
                        *money_columns(amount),
                        idempotency_key,
                        to_text(created),
                        os_user,
                    ),
                )
            except sqlite3.IntegrityError as error:
                found = pending_one(conn)
                if found is not None:
                    raise IntentPendingError(found) from error
                row = conn.execute(
                    f"SELECT {_COLUMNS} FROM intents WHERE idempotency_key = ?", (idempotency_key,)
                ).fetchone()
                if row is None:
                    raise
                raise IdempotencyKeyUsedError(_intent(row)) from error
            intent_id = int(cursor.lastrowid or 0)
            insert_line(
                conn,
                at=created,
                os_user=os_user,
                profile=profile,
                msn=msn,
                action=operation.value,
                result="requested",
                reference=reference,
                amount=amount,
                detail=audit_detail,
                idempotency_key=idempotency_key,
                intent_id=intent_id,
            )
            written = _read_intent(conn, intent_id)
            assert written is not None  # inserted in this very transaction
            return written

        return self.db.write("writing the journal", work, durable=True)

    def note_attempt(self, intent_id: int, *, now: datetime | None = None) -> int:
        """Count one more attempt (durably, before it is sent) and when it was sent (``last_attempt_at``);
        returns how many there have been.

        Only a pending intent may be sent: one finished since it was read (abandoned in another window,
        settled by another copy of the app) raises ``IntentFinishedError`` and nothing is written, so a
        stale copy of an intent can never be sent after the person gave it up."""

        def work(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "UPDATE intents SET attempts = attempts + 1, outcome = ? WHERE id = ? AND status = 'pending'",
                (f"{ATTEMPT_NOTE}{to_text(now or utc_now())}", intent_id),
            )
            if cursor.rowcount != 1:
                intent = _read_intent(conn, intent_id)
                if intent is None:
                    raise ValueError(f"there is no intent {intent_id} in the journal")
                raise IntentFinishedError(intent)
            row = conn.execute("SELECT attempts FROM intents WHERE id = ?", (intent_id,)).fetchone()
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
        """Record the outcome of an intent (and its audit line) in one durable transaction.
        Finishing an intent that is already finished changes nothing (two desks may race to it), with
        one exception: an outcome the API confirmed (succeeded, reconciled) replaces a ``failed`` one,
        because a person may abandon an intent in another window while its request is on the wire; the
        money moved, so the journal must say so (the audit keeps both lines)."""
        if status is IntentStatus.PENDING:
            raise ValueError("an outcome cannot be 'pending'")
        finished = now or utc_now()

        def work(conn: sqlite3.Connection) -> Intent:
            cursor = conn.execute(
                "UPDATE intents SET status = ?, outcome = ?, finished_at = ? "
                "WHERE id = ? AND (status = 'pending' OR (status = 'failed' AND ?))",
                (status.value, outcome, to_text(finished), intent_id, status in _CONFIRMED),
            )
            intent = _read_intent(conn, intent_id)
            if intent is None:
                raise ValueError(f"there is no intent {intent_id} in the journal")
            if cursor.rowcount == 1:
                insert_line(
                    conn,
                    at=finished,
                    os_user=os_user,
                    profile=intent.profile,
                    msn=intent.merchant_serial_number,
                    action=intent.operation.value,
                    result=status.value,
                    reference=intent.reference,
                    amount=intent.amount,
                    detail=outcome,
                    idempotency_key=intent.idempotency_key,
                    intent_id=intent_id,
                )
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
                clauses.append(f"{column} = ?")
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
        return self.db.read(
            "reading the journal",
            lambda c: _confirmed_since(c, profile, msn, reference, operation, since),
        )

    def all(self, limit: int = 1000) -> list[Intent]:
        rows = self.db.read(
            "reading the journal",
            lambda c: c.execute(
                f"SELECT {_COLUMNS} FROM intents ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall(),
        )
        skipped: list[str] = []
        intents = _readable(rows, skipped)
        self.skipped = skipped
        return intents
