"""The journal of money-moving intents (cancel, capture, refund).

An intent is committed durably (``synchronous = FULL``) BEFORE its request is sent, with the
Idempotency-Key the request will carry: by ``begin`` (on a worker thread), or by ``begin_at_once`` on the
caller's own thread while the register's disk has proven fast (``commit_pace.py``), which is the same
commit without the thread hop, or by ``begin_soon``, which joins the register's next group commit and
hands back a future done once the intent is on disk. Its outcome is recorded when known. An intent still
``pending`` at the next start was interrupted (crash, kill, lost answer): the services finish it by
sending it again with the SAME key (safe, by idempotency) or by settling it from the event log.

An outcome the API confirmed (succeeded, reconciled) closing a pending intent is committed in SQLite
without waiting for the disk (``JournalRecords.confirmed_outcome_durable``): in WAL mode such a commit
survives a crash or kill of the process; only a power loss (or an OS crash) before the next sync of the
WAL can undo it, and then the journal is as it was a moment before (the WAL keeps commits in order: a
lost outcome takes every later commit with it, and any later durable commit, such as the next intent,
syncs it). What that leaves is an intent pending whose effect the API confirmed: the next start settles
it from the event log (nothing sent), or sends it again with its key, which the API answers with the
same outcome. Meanwhile "pending" is the cautious reading everywhere: nothing else may begin on that
payment (here or, through ``services/elsewhere.py``, in another journal), and the repeat check is not
needed while it does. Failed outcomes stay durable: a refusal the person was told of must not come back
as pending and be sent again, perhaps into a payment that would now take it. A confirmed outcome that
replaces a failed one (the intent was abandoned while its request was on the wire) stays durable too:
losing it would leave "failed, nothing moved" over money that moved.
"""

from __future__ import annotations

import abc
import enum
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar, cast

from epay_desktop.domain import Money
from epay_desktop.domain.rules import releasable
from epay_desktop.store.codec import SnapshotError, load_payment
from epay_desktop.store.db import (
    Database,
    RegisterDamagedError,
    RegisterError,
    WriteNotNowError,
    money_columns,
    money_from_columns,
    utc_now,
)
from epay_desktop.store.dialect import SQLITE, Connection, Dialect, SqlDatabase, from_text, to_text

log = logging.getLogger(__name__)


def cancel_releases(snapshot: str | None, reference: str) -> Money | None:
    """What a cancel of the payment releases by the register's last snapshot (its payment as JSON), for a
    cancel's audit lines: a cancel asks for no amount, it releases whatever is left. None when nothing is
    left or it is not known (a payment never read, a snapshot that cannot be read: said in the log)."""
    if snapshot is None:
        return None
    try:
        left = releasable(load_payment(snapshot, reference))
    except (SnapshotError, ValueError, KeyError, TypeError) as error:
        log.info("the audit of a cancel of %s goes without its amount: %s", reference, error)
        return None
    return left if left.value > 0 else None


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


def _attempt_note(at: datetime) -> str:
    return f"{ATTEMPT_NOTE}{to_text(at)}"


_COLUMNS = (
    "id, operation, profile, msn, reference, amount, currency, idempotency_key, created_at, os_user, "
    "status, outcome, finished_at, attempts"
)


def _intent(row: tuple[Any, ...], dialect: Dialect) -> Intent:
    try:
        return _intent_of(row, dialect)
    except (ValueError, TypeError, OverflowError) as problem:
        raise UnreadableIntentError(
            f"Journal entry {row[0]!s:.20} ({row[1]!s:.20} of {row[4]!s:.64}) cannot be read: "
            f"{problem!s:.160}"
        ) from problem


def _intent_of(row: tuple[Any, ...], dialect: Dialect) -> Intent:
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
        created_at=dialect.moment_cell(created) or utc_now(),
        os_user=str(user),
        status=IntentStatus(str(status)),
        outcome=str(outcome or ""),
        finished_at=dialect.moment_cell(finished),
        attempts=int(attempts),
    )


def confirmed_in(
    conn: Connection,
    dialect: Dialect,
    msn: str,
    reference: str,
    operation: Operation,
    since: datetime,
    *,
    profile: str | None = None,
) -> list[Intent]:
    """The intents of ``operation`` on the payment whose success the API confirmed (succeeded or
    reconciled) at or after ``since``, newest first; only ``profile``'s when given. A row that cannot be
    read is left out (this answers "was it done already?", and an unreadable row cannot say)."""
    clauses = "status IN ('succeeded', 'reconciled') AND msn = ? AND reference = ? AND operation = ?"
    params: tuple[Any, ...] = (msn, reference, operation.value)
    if profile is not None:
        clauses += " AND profile = ?"
        params += (profile,)
    rows = conn.execute(
        dialect.sql(
            f"SELECT {_COLUMNS} FROM intents WHERE {clauses} AND finished_at >= ? ORDER BY finished_at DESC"
        ),
        (*params, dialect.moment_param(since)),
    ).fetchall()
    found = []
    for row in rows:
        try:
            found.append(_intent(row, dialect))
        except UnreadableIntentError:
            continue
    return found


class IntentPendingError(Exception):
    """``begin`` found an intent on the same payment still without an outcome (``intent``): a second
    money-moving call on that payment must wait for it. Checked in the same write transaction as the
    insert, and enforced by a unique index, so two desks or processes cannot both begin."""

    def __init__(self, intent: Intent) -> None:
        super().__init__(
            f"A {intent.operation.value} of {intent.reference} (intent {intent.id}) has no known outcome yet."
        )
        self.intent = intent


# Outcomes the API confirmed: they replace a "failed" recorded meanwhile (see ``JournalRecords.finish``).
CONFIRMED = frozenset({IntentStatus.SUCCEEDED, IntentStatus.RECONCILED})


class UnreadableIntentError(Exception):
    """A journal row has a cell that cannot be read (edited by hand, written by another program)."""


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


@dataclass(frozen=True, slots=True)
class IntentRequest:
    """What ``begin`` was asked to write."""

    operation: Operation
    profile: str
    msn: str
    reference: str
    amount: Money | None
    idempotency_key: str
    os_user: str
    at: datetime
    audit_detail: str
    repeat_since: datetime | None

    def reopens(self, earlier: Intent) -> bool:
        """Whether the intent that holds this request's key may be begun again with it: it was refused
        (failed) and is the same operation (profile, payment, amount)."""
        return (
            earlier.status is IntentStatus.FAILED
            and (earlier.operation, earlier.profile, earlier.merchant_serial_number, earlier.reference)
            == (self.operation, self.profile, self.msn, self.reference)
            and earlier.amount == self.amount
        )


@dataclass(frozen=True, slots=True)
class IntentOutcome:
    """What ``finish`` was told: the outcome, when, and by whom. ``over_failed``: it may replace a
    ``failed`` outcome (it is one the API confirmed, and this write is durable)."""

    status: IntentStatus
    text: str
    at: datetime
    os_user: str
    over_failed: bool = False


# The audit line of an intent begun again with its key, when the caller gave no detail.
AGAIN_WITH_THE_SAME_KEY = "again, with the same idempotency key"


class JournalRecords(abc.ABC):
    """Money-moving intents, each committed before its request is sent; at most one pending per payment.

    The rules and queries over either database (``dialect``); a subclass writes a new intent the way
    its database keeps concurrent writers apart (``_begin``) and says who writes the audit lines
    (``_audit_outcome``): ``Journal`` in a SQLite file, ``postgres.journal.PgJournal`` in PostgreSQL."""

    dialect: ClassVar[Dialect]
    # Whether a confirmed outcome that closes a pending intent waits for the disk (see the module).
    confirmed_outcome_durable: ClassVar[bool] = True

    def __init__(self, db: SqlDatabase) -> None:
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
        attempting: bool = False,
    ) -> Intent:
        """Commit the intent (and its audit line) durably; only then may the request be sent.
        ``attempting``: its first attempt is counted in the same transaction (as ``note_attempt`` would
        in one of its own), for a caller that sends it right after; one durable commit instead of two.

        Raises ``IntentPendingError`` (nothing written) when the payment already has a pending intent,
        also one another desk or instance is committing at this very moment. A key the journal already
        holds reopens its intent when that intent was refused (failed) and is the same operation
        (profile, payment, amount): the API asks for some refusals to be sent again later with the same
        key (6280 "Capture failed, please try again later", 6260, 6250, 423). Any other reuse of a key
        raises ``IdempotencyKeyUsedError`` (nothing written). With ``repeat_since``, a capture or refund
        of the same amount on the payment confirmed since then raises ``RecentlyConfirmedError``
        (nothing written), checked in the same transaction as the write, so a success another desk
        records meanwhile is seen."""
        request = IntentRequest(
            operation=operation,
            profile=profile,
            msn=msn,
            reference=reference,
            amount=amount,
            idempotency_key=idempotency_key,
            os_user=os_user,
            at=now or utc_now(),
            audit_detail=audit_detail,
            repeat_since=repeat_since,
        )
        return self.begin_request(request, attempting=attempting)

    def begin_request(self, request: IntentRequest, *, attempting: bool = False) -> Intent:
        """``begin`` of a request already put together (the desk's engine builds one, to try
        ``begin_at_once`` with it first)."""
        return self.db.write("writing the journal", self._begin_work(request, attempting), durable=True)

    def begin_at_once(self, request: IntentRequest, *, attempting: bool = False) -> Intent | None:
        """``begin_request`` on the caller's own thread, without a thread hop, when the register can
        commit it durably there at once (a SQLite register whose disk has proven fast, nothing to wait
        for: see ``Database.write_durably_now``). The intent is on disk when this returns, exactly as
        after ``begin``, and every refusal of ``begin`` is raised the same way. None when it cannot be
        done so (nothing written): the caller then calls ``begin_request`` on a worker thread."""
        return self._durably_at_once(self._begin_work(request, attempting))

    def _durably_at_once(self, work: Callable[[Connection], Intent]) -> Intent | None:
        """Run ``work`` in a durable commit on this thread at once, or None (nothing written) when that
        cannot be done: never here (the back-end keeps its durable writes on a worker thread)."""
        return None

    def begin_soon(self, request: IntentRequest, *, attempting: bool = False) -> Future[Intent] | None:
        """``begin_request`` without waiting on the caller's thread and without a thread of its own: the
        intent joins the register's next group commit (``Database.write_durably_soon``) and the future
        is done once it is on disk (the intent), or refused with nothing written (``begin``'s errors).
        None when the back-end cannot (nothing written): the caller calls ``begin_request`` on a worker
        thread."""
        return None

    def finish_soon(
        self,
        intent_id: int,
        status: IntentStatus,
        outcome: str,
        *,
        os_user: str,
        now: datetime | None = None,
    ) -> Future[Intent] | None:
        """``finish``, as ``begin_soon`` begins: the outcome joins the register's next group commit, so
        it is durable, whatever it is, and decided by the rules of ``finish``'s durable write (a
        confirmed outcome also replaces a failed one). None when the back-end cannot (nothing
        written): the caller calls ``finish`` on a worker thread."""
        return None

    def _begin_work(self, request: IntentRequest, attempting: bool) -> Callable[[Connection], Intent]:
        """``begin``'s work in its write transaction."""

        def work(conn: Connection) -> Intent:
            intent = self._begin(conn, request)
            if not attempting:
                return intent
            attempts = self._count_attempt(conn, intent.id, request.at)
            return replace(intent, attempts=attempts, outcome=_attempt_note(request.at))

        return work

    @abc.abstractmethod
    def _begin(self, conn: Connection, request: IntentRequest) -> Intent:
        """Write ``request`` as a new intent, or reopen the refused one that holds its key, inside the
        write transaction; ``_refuse_if_busy`` first."""

    def _refuse_if_busy(self, conn: Connection, request: IntentRequest) -> None:
        """Refuse a request on a payment with a pending intent, and a capture or refund that repeats one
        confirmed since ``repeat_since``. Run inside the write transaction, before anything is written."""
        try:
            found = self._pending_one(conn, request.msn, request.reference)
        except UnreadableIntentError as problem:
            raise self._unreadable_pending(problem) from problem
        if found is not None:
            raise IntentPendingError(found)
        repeated = self._repeated(conn, request)
        if repeated is not None:
            raise RecentlyConfirmedError(repeated)

    def _repeated(self, conn: Connection, request: IntentRequest) -> Intent | None:
        """With ``repeat_since``: the newest capture or refund of the same amount on the payment (and
        profile) confirmed since then, which the request would repeat; else None."""
        if request.repeat_since is None or request.operation is Operation.CANCEL or request.amount is None:
            return None
        for earlier in self._confirmed_since(
            conn, request.profile, request.msn, request.reference, request.operation, request.repeat_since
        ):
            if earlier.amount == request.amount:
                return earlier
        return None

    @abc.abstractmethod
    def _unreadable_pending(self, problem: UnreadableIntentError) -> RegisterError:
        """The error for a payment whose pending intent cannot be read (so nothing may be begun on it)."""

    def _pending_one(self, conn: Connection, msn: str, reference: str) -> Intent | None:
        row = conn.execute(
            self.dialect.sql(
                f"SELECT {_COLUMNS} FROM intents WHERE status = 'pending' AND msn = ? AND reference = ? "
                "ORDER BY id LIMIT 1"
            ),
            (msn, reference),
        ).fetchone()
        return _intent(row, self.dialect) if row else None

    def _with_key(self, conn: Connection, idempotency_key: str) -> Intent | None:
        row = conn.execute(
            self.dialect.sql(f"SELECT {_COLUMNS} FROM intents WHERE idempotency_key = ?"), (idempotency_key,)
        ).fetchone()
        return _intent(row, self.dialect) if row else None

    def _read_intent(self, conn: Connection, intent_id: int) -> Intent | None:
        row = conn.execute(
            self.dialect.sql(f"SELECT {_COLUMNS} FROM intents WHERE id = ?"), (intent_id,)
        ).fetchone()
        return _intent(row, self.dialect) if row else None

    def _written(self, conn: Connection, intent_id: int) -> Intent:
        intent = self._read_intent(conn, intent_id)
        assert intent is not None  # written in this very transaction
        return intent

    def _confirmed_since(
        self, conn: Connection, profile: str, msn: str, reference: str, operation: Operation, since: datetime
    ) -> list[Intent]:
        return confirmed_in(conn, self.dialect, msn, reference, operation, since, profile=profile)

    def _readable(self, rows: list[tuple[Any, ...]], skipped: list[str]) -> list[Intent]:
        """The intents of ``rows``; a row that cannot be read (a cell edited by hand, or a currency
        written by a newer version) is left out and described in ``skipped``."""
        intents = []
        for row in rows:
            try:
                intents.append(_intent(row, self.dialect))
            except UnreadableIntentError as problem:
                skipped.append(str(problem))
        return intents

    def note_attempt(self, intent_id: int, *, now: datetime | None = None) -> int:
        """Count one more attempt (durably, before it is sent) and when it was sent (``last_attempt_at``);
        returns how many there have been.

        Only a pending intent may be sent: one finished since it was read (abandoned in another window,
        settled by another copy of the app) raises ``IntentFinishedError`` and nothing is written, so a
        stale copy of an intent can never be sent after the person gave it up."""

        at = now or utc_now()
        return self.db.write(
            "writing the journal", lambda conn: self._count_attempt(conn, intent_id, at), durable=True
        )

    def _count_attempt(self, conn: Connection, intent_id: int, at: datetime) -> int:
        cursor = conn.execute(
            self.dialect.sql(
                "UPDATE intents SET attempts = attempts + 1, outcome = ? WHERE id = ? AND status = 'pending'"
            ),
            (_attempt_note(at), intent_id),
        )
        if cursor.rowcount != 1:
            intent = self._read_intent(conn, intent_id)
            if intent is None:
                raise ValueError(f"there is no intent {intent_id} in the journal")
            raise IntentFinishedError(intent)
        row = conn.execute(
            self.dialect.sql("SELECT attempts FROM intents WHERE id = ?"), (intent_id,)
        ).fetchone()
        return int(row[0])

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
        money moved, so the journal must say so (the audit keeps both lines). In SQLite a confirmed
        outcome that closes a pending intent does not wait for the disk (see the module)."""
        if status is IntentStatus.PENDING:
            raise ValueError("an outcome cannot be 'pending'")
        told = IntentOutcome(status=status, text=outcome, at=now or utc_now(), os_user=os_user)
        if status in CONFIRMED and not self.confirmed_outcome_durable:
            # Closing a pending intent: a power loss may undo this commit, leaving it pending, which the
            # next start settles (see the module). Anything else (it was failed meanwhile, or finished
            # elsewhere) goes on to the durable write below, which decides by the same rule as always.
            quick = self.db.write(
                "writing the journal", lambda conn: self._record(conn, intent_id, told), durable=False
            )
            if quick is not None:
                return quick
        confirmed = status in CONFIRMED
        written = self.db.write(
            "writing the journal",
            lambda conn: self._record(conn, intent_id, replace(told, over_failed=confirmed)),
            durable=True,
        )
        assert written is not None  # returned whenever the outcome may replace a failed one, or is one
        return written

    def finish_at_once(
        self,
        intent_id: int,
        status: IntentStatus,
        outcome: str,
        *,
        os_user: str,
        now: datetime | None = None,
    ) -> bool:
        """``finish`` for the common case, on the caller's own thread without ever waiting: a confirmed
        outcome closing a pending intent, where that commit need not wait for the disk (see the
        module). Whether it was written; False when it cannot be done so (nothing written): another
        status, a back-end that keeps it durable, the intent no longer pending, or the register busy;
        the caller then calls ``finish`` (on a worker thread), which decides every case by the usual
        rules. It says only whether: nothing is read back (``get`` reads the intent as written)."""
        return False

    def _record(self, conn: Connection, intent_id: int, outcome: IntentOutcome) -> Intent | None:
        """``finish``'s work in its transaction: the outcome and its audit line, if the intent may still
        take it. The intent as it is then; None when a confirmed outcome was not written (nothing
        pending to close) and may still replace a failed one in a durable write."""
        written = self._write_outcome(conn, intent_id, outcome)
        if written is not None:
            self._audit_outcome(conn, written, outcome)
            return written
        intent = self._read_intent(conn, intent_id)
        if intent is None:
            raise ValueError(f"there is no intent {intent_id} in the journal")
        return None if outcome.status in CONFIRMED and not outcome.over_failed else intent

    def _write_outcome(self, conn: Connection, intent_id: int, outcome: IntentOutcome) -> Intent | None:
        """``_set_outcome``, and the intent as it is then; None when it was not written."""
        return self._written(conn, intent_id) if self._set_outcome(conn, intent_id, outcome) else None

    @abc.abstractmethod
    def _set_outcome(self, conn: Connection, intent_id: int, outcome: IntentOutcome) -> bool:
        """Write the outcome if the intent may still take it (pending, or failed and now confirmed);
        whether it did."""

    @abc.abstractmethod
    def _audit_outcome(self, conn: Connection, intent: Intent, outcome: IntentOutcome) -> None:
        """The audit line of the outcome ``_set_outcome`` just wrote (``intent`` as it is now)."""

    def get(self, intent_id: int) -> Intent | None:
        return self.db.read("reading the journal", lambda c: self._read_intent(c, intent_id))

    def pending(
        self, *, profile: str | None = None, msn: str | None = None, reference: str | None = None
    ) -> list[Intent]:
        clauses = ["status = 'pending'"]
        params: list[str] = []
        for column, value in (("profile", profile), ("msn", msn), ("reference", reference)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        sql = self.dialect.sql(f"SELECT {_COLUMNS} FROM intents WHERE {' AND '.join(clauses)} ORDER BY id")
        rows = self.db.read("reading the journal", lambda c: c.execute(sql, params).fetchall())
        skipped: list[str] = []
        intents = self._readable(rows, skipped)
        self.skipped = skipped
        return intents

    def confirmed_since(
        self, *, profile: str, msn: str, reference: str, operation: Operation, since: datetime
    ) -> list[Intent]:
        """Intents of ``operation`` on the payment whose success the API confirmed (succeeded or
        reconciled) at or after ``since``, newest first (the rule ``begin``'s ``repeat_since`` applies)."""
        return self.db.read(
            "reading the journal",
            lambda c: self._confirmed_since(c, profile, msn, reference, operation, since),
        )

    def all(self, limit: int = 1000) -> list[Intent]:
        sql = self.dialect.sql(f"SELECT {_COLUMNS} FROM intents ORDER BY id DESC LIMIT ?")
        rows = self.db.read("reading the journal", lambda c: c.execute(sql, (limit,)).fetchall())
        skipped: list[str] = []
        intents = self._readable(rows, skipped)
        self.skipped = skipped
        return intents


# SQLite answers an UPDATE with the row it wrote (``RETURNING``) from 3.35 on; with an older one the
# journal reads the row back.
UPDATE_RETURNS = sqlite3.sqlite_version_info >= (3, 35)

# Its audit line is written by the trigger ``intents_audit_outcome`` (schema 8), from these columns.
_SET_OUTCOME = (
    "UPDATE intents SET status = ?, outcome = ?, finished_at = ?, finished_by = ? "
    "WHERE id = ? AND (status = 'pending' OR (status = 'failed' AND ?))"
)


def _outcome_params(intent_id: int, outcome: IntentOutcome) -> tuple[object, ...]:
    return (
        outcome.status.value,
        outcome.text,
        to_text(outcome.at),
        outcome.os_user,
        intent_id,
        outcome.over_failed,
    )


_INSERT_COLUMNS = (
    "operation, profile, msn, reference, amount, currency, idempotency_key, created_at, os_user, outcome, "
    "attempts, request_detail, released_amount, released_currency"
)
_INSERT = f"INSERT INTO intents ({_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


class Journal(JournalRecords):
    """The journal in a SQLite register: ``begin`` runs under ``BEGIN IMMEDIATE``, so nobody can begin
    between its checks and its insert. SQLite itself keeps a rule and the audit (schema 8): the unique
    index ``intents_one_pending`` (and, beside a pending row schema 3 left out of it, the trigger
    ``intents_one_pending_before_v3``) refuses an INSERT on a payment with a pending intent, and
    triggers write each audit line in the statement that writes the intent or its outcome. Python
    reads only when the INSERT was refused (to raise the same errors, by the same rules, as
    ``_refuse_if_busy``), and looks for a repeat before a capture or refund asked to check for one."""

    dialect = SQLITE
    confirmed_outcome_durable = False

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._sqlite = db
        self._file = db.path

    def _begin(self, conn: Connection, request: IntentRequest) -> Intent:
        return self._insert(conn, request, attempting=False)

    def _begin_work(self, request: IntentRequest, attempting: bool) -> Callable[[Connection], Intent]:
        # The first attempt is written with the intent, in its one INSERT.
        return lambda conn: self._insert(conn, request, attempting=attempting)

    def _insert(self, conn: Connection, request: IntentRequest, *, attempting: bool) -> Intent:
        """The new intent, written in one INSERT and built from what was written (not read back). A
        pending intent on the payment, or the key held already, makes SQLite refuse the INSERT (then
        ``_begin_again`` decides): no look-up for either in the usual case. Only a capture or refund
        asked to check for repeats looks first for a same one confirmed in the window (with the
        INSERT's own condition instead, ``INSERT … SELECT … WHERE NOT EXISTS`` on the same table, SQLite
        builds a temporary table for each: dearer than the look-up)."""
        attempts, note = (1, _attempt_note(request.at)) if attempting else (0, "")
        params = (
            request.operation.value,
            request.profile,
            request.msn,
            request.reference,
            *money_columns(request.amount),
            request.idempotency_key,
            to_text(request.at),
            request.os_user,
            note,
            attempts,
            request.audit_detail,
            *money_columns(self._releases(conn, request)),
        )
        try:
            if self._repeated(conn, request) is not None:
                self._refuse_if_busy(conn, request)  # a pending intent first, as always
            cursor = conn.execute(_INSERT, params)
        except sqlite3.IntegrityError as error:
            return self._begin_again(conn, request, error, attempts=attempts, note=note)
        return Intent(
            id=int(cast(Any, cursor).lastrowid),
            operation=request.operation,
            profile=request.profile,
            merchant_serial_number=request.msn,
            reference=request.reference,
            amount=request.amount,
            idempotency_key=request.idempotency_key,
            created_at=request.at,
            os_user=request.os_user,
            status=IntentStatus.PENDING,
            outcome=note,
            attempts=attempts,
        )

    def _releases(self, conn: Connection, request: IntentRequest) -> Money | None:
        """For the audit lines of a cancel, which asks for no amount: what it releases by the register's
        snapshot of the payment (``cancel_releases``). None for any other request."""
        if request.amount is not None or request.operation is not Operation.CANCEL:
            return None
        row = conn.execute(
            "SELECT payment_json FROM payments WHERE msn = ? AND reference = ?",
            (request.msn, request.reference),
        ).fetchone()
        return cancel_releases(row[0] if row else None, request.reference)

    def _begin_again(
        self,
        conn: Connection,
        request: IntentRequest,
        error: sqlite3.IntegrityError,
        *,
        attempts: int,
        note: str,
    ) -> Intent:
        """The INSERT of ``request`` was refused by a unique index: a pending intent on the payment, or
        its key already held. The intent that holds the key is reopened when it was refused (failed) and
        is the same operation; any other reuse of the key raises ``IdempotencyKeyUsedError``."""
        try:
            found = self._pending_one(conn, request.msn, request.reference)
        except UnreadableIntentError as problem:
            raise self._unreadable_pending(problem) from problem
        if found is not None:
            raise IntentPendingError(found) from error
        earlier = self._with_key(conn, request.idempotency_key)
        if earlier is None:
            raise error
        if not request.reopens(earlier):
            raise IdempotencyKeyUsedError(earlier) from error
        # Its "requested" line is written by the trigger ``intents_audit_reopened``, from these columns.
        conn.execute(
            "UPDATE intents SET status = 'pending', outcome = ?, finished_at = NULL, finished_by = NULL, "
            "attempts = attempts + ?, requested_at = ?, requested_by = ?, request_detail = ?, "
            "released_amount = ?, released_currency = ? WHERE id = ?",
            (
                note,
                attempts,
                to_text(request.at),
                request.os_user,
                request.audit_detail or AGAIN_WITH_THE_SAME_KEY,
                *money_columns(self._releases(conn, request)),
                earlier.id,
            ),
        )
        return self._written(conn, earlier.id)

    def _durably_at_once(self, work: Callable[[Connection], Intent]) -> Intent | None:
        try:
            return self._sqlite.write_durably_now("writing the journal", work)
        except WriteNotNowError:
            return None

    def begin_soon(self, request: IntentRequest, *, attempting: bool = False) -> Future[Intent] | None:
        return self._sqlite.write_durably_soon("writing the journal", self._begin_work(request, attempting))

    def finish_soon(
        self,
        intent_id: int,
        status: IntentStatus,
        outcome: str,
        *,
        os_user: str,
        now: datetime | None = None,
    ) -> Future[Intent] | None:
        if status is IntentStatus.PENDING:
            raise ValueError("an outcome cannot be 'pending'")
        told = IntentOutcome(
            status=status, text=outcome, at=now or utc_now(), os_user=os_user, over_failed=status in CONFIRMED
        )
        return self._sqlite.write_durably_soon(
            "writing the journal", lambda conn: self._finished(conn, intent_id, told)
        )

    def _finished(self, conn: Connection, intent_id: int, told: IntentOutcome) -> Intent:
        written = self._record(conn, intent_id, told)
        assert written is not None  # returned whenever the outcome may replace a failed one, or is one
        return written

    def finish_at_once(
        self,
        intent_id: int,
        status: IntentStatus,
        outcome: str,
        *,
        os_user: str,
        now: datetime | None = None,
    ) -> bool:
        if status not in CONFIRMED:
            return False
        # The UPDATE alone: its audit line comes from the trigger, and nothing is read back (no
        # ``RETURNING``, no ``Intent`` built: the engine only needs to know it was written). An intent
        # no longer pending is left to ``finish``, which decides (and says when there is none).
        params = (status.value, outcome, to_text(now or utc_now()), os_user, intent_id, False)
        try:
            return self._sqlite.write_now(
                "writing the journal", lambda conn: conn.execute(_SET_OUTCOME, params).rowcount == 1
            )
        except WriteNotNowError:
            return False

    def _unreadable_pending(self, problem: UnreadableIntentError) -> RegisterError:
        return RegisterDamagedError(
            f"{problem} It is still pending on this payment, so nothing was sent. Repair or remove "
            f"that entry in {self._file.name}, or move the register aside.",
            self._file,
        )

    def _set_outcome(self, conn: Connection, intent_id: int, outcome: IntentOutcome) -> bool:
        cursor = conn.execute(_SET_OUTCOME, _outcome_params(intent_id, outcome))
        return cursor.rowcount == 1

    def _write_outcome(self, conn: Connection, intent_id: int, outcome: IntentOutcome) -> Intent | None:
        if not UPDATE_RETURNS:
            return super()._write_outcome(conn, intent_id, outcome)
        # The intent as written, in the same statement (no read back).
        row = conn.execute(
            f"{_SET_OUTCOME} RETURNING {_COLUMNS}", _outcome_params(intent_id, outcome)
        ).fetchone()
        return _intent(row, SQLITE) if row else None

    def _audit_outcome(self, conn: Connection, intent: Intent, outcome: IntentOutcome) -> None:
        """Nothing to write: the trigger ``intents_audit_outcome`` wrote the line with the outcome."""
