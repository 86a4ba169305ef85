"""Four-eyes approval requests in PostgreSQL (schema 5): money moves held until a second person
decides. The rules (who may decide, what is held) are the services' (``services/team_approvals.py``);
what must hold whichever instance writes is kept here, each change in one transaction with its audit
line:

- a decision is one conditional UPDATE (``status = 'pending'`` and not expired by the database's
  clock): of two supervisors deciding at once, or a decision racing an expiry, exactly one wins and
  the other is told what happened instead;
- the items' Idempotency-Keys are written with the request and never change, so sending an approved
  request again (another instance finishing it) reuses them;
- the request's own guard (``approval_guard``) refuses any other change of status and any change of
  what was asked; ``approval_requests_four_eyes`` refuses an approval by whoever asked;
- every request ends once: an approved one as ``sent``, ``failed`` (with why) or ``expired`` (its time
  ran out before any of it was started); the database begins no payment of a request that is not
  approved at that moment (``approval_items_only_when_approved``), so an expiry and a send cannot cross.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from epay_desktop.domain import Money
from epay_desktop.store.db import money_columns, money_from_columns
from epay_desktop.store.journal import IntentStatus
from epay_desktop.store.postgres.database import Connection, PgDatabase

__all__ = ["ApprovalItem", "ApprovalRequest", "PgApprovals"]

# Who the audit names for what the service does by itself (an expiry).
SERVICE_NAME = "epay-team"
TEAM_PROFILE = "team"

_REQUEST_COLUMNS = (
    "id, msn, operation, total, currency, reason, again, requested_by, requested_at, expires_at, status, "
    "decided_by, decided_at, note, sent_at, failure, finished_at"
)
_ITEM_COLUMNS = (
    "i.request_id, i.position, i.reference, i.amount, i.currency, i.idempotency_key, "
    "j.id, j.status, j.outcome"
)


@dataclass(frozen=True, slots=True)
class ApprovalItem:
    """One payment of a request, with the key it is sent with and, once it was begun, its intent in
    the journal (``intent_id``, ``intent_status``, ``outcome``; None before)."""

    position: int
    reference: str
    amount: Money | None
    idempotency_key: str
    intent_id: int | None = None
    intent_status: IntentStatus | None = None
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    id: int
    msn: str
    operation: str
    total: Money | None
    reason: str
    again: bool
    requested_by: str
    requested_at: datetime
    expires_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    note: str
    sent_at: datetime | None
    items: tuple[ApprovalItem, ...]
    failure: str = ""  # a failed request: which payments did not move, and why
    finished_at: datetime | None = None  # when an approved request ended (sent, failed or expired)

    def describe(self) -> str:
        """What was asked, for the audit and for people: "refund of 2 payments, 1500.00 NOK in all"."""
        count = len(self.items)
        what = self.items[0].reference if count == 1 else f"{count} payments"
        total = f", {self.total.plain()}" + (" in all" if count > 1 else "") if self.total else ""
        return f"{self.operation} of {what}{total}"


def _item(row: tuple[Any, ...]) -> ApprovalItem:
    _request, position, reference, amount, currency, key, intent_id, status, outcome = row
    return ApprovalItem(
        position=int(position),
        reference=str(reference),
        amount=money_from_columns(amount, currency),
        idempotency_key=str(key),
        intent_id=int(intent_id) if intent_id is not None else None,
        intent_status=IntentStatus(str(status)) if status is not None else None,
        outcome=str(outcome or ""),
    )


def _requests(conn: Connection, where: str, params: Sequence[object]) -> list[ApprovalRequest]:
    rows = conn.execute(f"SELECT {_REQUEST_COLUMNS} FROM approval_requests WHERE {where}", params).fetchall()
    if not rows:
        return []
    ids = [int(r[0]) for r in rows]
    items: dict[int, list[ApprovalItem]] = {i: [] for i in ids}
    for row in conn.execute(
        f"SELECT {_ITEM_COLUMNS} FROM approval_items i "
        "LEFT JOIN intents j ON j.idempotency_key = i.idempotency_key "
        "WHERE i.request_id = ANY(%s) ORDER BY i.request_id, i.position",
        (ids,),
    ):
        items[int(row[0])].append(_item(row))
    found = []
    for row in rows:
        (
            id_,
            msn,
            operation,
            total,
            currency,
            reason,
            again,
            by,
            at,
            expires,
            status,
            decider,
            decided,
            note,
            sent,
            failure,
            finished,
        ) = row
        found.append(
            ApprovalRequest(
                id=int(id_),
                msn=str(msn),
                operation=str(operation),
                total=money_from_columns(total, currency),
                reason=str(reason),
                again=bool(again),
                requested_by=str(by),
                requested_at=at,
                expires_at=expires,
                status=str(status),
                decided_by=str(decider) if decider is not None else None,
                decided_at=decided,
                note=str(note or ""),
                sent_at=sent,
                items=tuple(items[int(id_)]),
                failure=str(failure or ""),
                finished_at=finished,
            )
        )
    return found


def _one(conn: Connection, request_id: int) -> ApprovalRequest | None:
    found = _requests(conn, "id = %s", (request_id,))
    return found[0] if found else None


def _audit(conn: Connection, request: ApprovalRequest, who: str, result: str, detail: str) -> None:
    reference = request.items[0].reference if len(request.items) == 1 else ""
    conn.execute(
        "INSERT INTO audit (at, os_user, profile, msn, action, reference, amount, currency, result, detail) "
        "VALUES (clock_timestamp(), %s, %s, %s, 'approval', %s, %s, %s, %s, %s)",
        (who, TEAM_PROFILE, request.msn, reference, *money_columns(request.total), result, detail[:500]),
    )


def _expire(conn: Connection, where: str, params: Sequence[object]) -> list[ApprovalRequest]:
    """Expire the pending requests of ``where`` whose time is up (by the database's clock), each with
    its audit line; the ones expired now."""
    rows = conn.execute(
        "UPDATE approval_requests SET status = 'expired', decided_at = clock_timestamp() "
        f"WHERE status = 'pending' AND expires_at <= clock_timestamp() AND {where} RETURNING id",
        params,
    ).fetchall()
    expired = []
    for (request_id,) in rows:
        request = _one(conn, int(request_id))
        assert request is not None  # updated in this very transaction
        _audit(
            conn,
            request,
            SERVICE_NAME,
            "expired",
            f"request #{request.id} ({request.describe()}) asked by {request.requested_by} expired "
            "undecided; nothing was sent",
        )
        expired.append(request)
    return expired


def _close_approved_due(conn: Connection) -> list[ApprovalRequest]:
    """Approved requests whose time is up with payments never started: ``expired`` when none was
    started (nothing was sent), ``failed`` when some were and all of those have an outcome. One whose
    payment is still without an outcome is left for its send to settle. A request being started right
    now (its row share-locked by the start) is skipped: the next round looks again."""
    rows = conn.execute(
        "SELECT id FROM approval_requests WHERE status = 'approved' AND expires_at <= clock_timestamp() "
        "ORDER BY id FOR UPDATE SKIP LOCKED"
    ).fetchall()
    closed = []
    for (request_id,) in rows:
        request = _one(conn, int(request_id))
        assert request is not None  # locked in this very transaction
        never_started = [i.reference for i in request.items if i.intent_id is None]
        if not never_started or any(i.intent_status is IntentStatus.PENDING for i in request.items):
            continue
        if len(never_started) == len(request.items):
            _finish(
                conn,
                request,
                "expired",
                "",
                SERVICE_NAME,
                f"approved by {request.decided_by} but not started before it expired; nothing was sent",
            )
        else:
            why = f"not started before the request expired: {', '.join(never_started)}"
            _finish(conn, request, "failed", why, SERVICE_NAME, why)
        found = _one(conn, request.id)
        assert found is not None
        closed.append(found)
    return closed


def _finish(
    conn: Connection, request: ApprovalRequest, status: str, failure: str, by: str, summary: str
) -> bool:
    """End an approved request as ``status`` (sent, failed, expired), once, with its audit line."""
    row = conn.execute(
        "UPDATE approval_requests SET status = %s, failure = %s, finished_at = clock_timestamp(), "
        "sent_at = CASE WHEN %s = 'sent' THEN clock_timestamp() END "
        "WHERE id = %s AND status = 'approved' RETURNING id",
        (status, failure[:2000], status, request.id),
    ).fetchone()
    if row is None:
        return False
    _audit(conn, request, by, status, f"request #{request.id} ({request.describe()}): {summary}")
    return True


class PgApprovals:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    def ask(
        self,
        *,
        msn: str,
        operation: str,
        items: Sequence[tuple[str, Money | None, str]],
        total: Money | None,
        reason: str,
        again: bool,
        requested_by: str,
        lifetime: timedelta,
    ) -> ApprovalRequest:
        """Hold ``items`` (reference, amount, Idempotency-Key) for approval; the request and its audit
        line are committed together."""

        def work(conn: Connection) -> ApprovalRequest:
            row = conn.execute(
                "INSERT INTO approval_requests (msn, operation, total, currency, reason, again, "
                "requested_by, expires_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, clock_timestamp() + %s) RETURNING id",
                (msn, operation, *money_columns(total), reason, again, requested_by, lifetime),
            ).fetchone()
            assert row is not None  # INSERT ... RETURNING gives the row it inserted
            request_id = int(row[0])
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO approval_items (request_id, position, reference, amount, currency, "
                    "idempotency_key) VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        (request_id, position, reference, *money_columns(amount), key)
                        for position, (reference, amount, key) in enumerate(items, start=1)
                    ],
                )
            request = _one(conn, request_id)
            assert request is not None
            _audit(
                conn,
                request,
                requested_by,
                "asked",
                f"request #{request_id} ({request.describe()}): {reason}",
            )
            return request

        return self.db.write("holding a request for approval", work, durable=True)

    def get(self, request_id: int) -> ApprovalRequest | None:
        return self.db.read("reading an approval request", lambda c: _one(c, request_id))

    def all(
        self, *, status: str | None = None, msn: str | None = None, limit: int = 500
    ) -> list[ApprovalRequest]:
        """Requests, newest first (of one status, of one merchant)."""
        clauses, params = ["true"], []
        for column, value in (("status", status), ("msn", msn)):
            if value is not None:
                clauses.append(f"{column} = %s")
                params.append(value)
        where = f"{' AND '.join(clauses)} ORDER BY id DESC LIMIT %s"
        return self.db.read("reading approval requests", lambda c: _requests(c, where, [*params, limit]))

    def expire_due(self) -> list[ApprovalRequest]:
        """Expire every pending request whose time is up, and end the approved ones whose time is up
        with payments never started (``_close_approved_due``); the ones ended now (each audited)."""

        def work(conn: Connection) -> list[ApprovalRequest]:
            return _expire(conn, "true", ()) + _close_approved_due(conn)

        return self.db.write("expiring approval requests", work, durable=True)

    def decide(
        self, request_id: int, decision: str, *, by: str, note: str = ""
    ) -> tuple[bool, ApprovalRequest | None]:
        """Approve or reject (``decision``) a pending request that has not expired; (True, it) when this
        call decided it, else (False, it as it is now: decided by someone else, expired — expired now
        if its time was up — or asked by ``by`` when approving), or (False, None) when there is none."""
        if decision not in ("approved", "rejected"):
            raise ValueError(f"a decision is 'approved' or 'rejected', not {decision!r}")

        def work(conn: Connection) -> tuple[bool, ApprovalRequest | None]:
            row = conn.execute(
                "UPDATE approval_requests SET status = %s, decided_by = %s, decided_at = clock_timestamp(), "
                "note = %s WHERE id = %s AND status = 'pending' AND expires_at > clock_timestamp() "
                "AND (%s = 'rejected' OR requested_by <> %s) RETURNING id",
                (decision, by, note, request_id, decision, by),
            ).fetchone()
            if row is None:
                _expire(conn, "id = %s", (request_id,))
                return False, _one(conn, request_id)
            request = _one(conn, request_id)
            assert request is not None
            detail = f"request #{request_id} ({request.describe()}) asked by {request.requested_by}"
            _audit(conn, request, by, decision, f"{detail}: {note}" if note else detail)
            return True, request

        return self.db.write("deciding an approval request", work, durable=True)

    def finish(self, request_id: int, status: str, *, failure: str = "", by: str, summary: str) -> bool:
        """End an approved request: ``sent`` (every payment moved) or ``failed`` (``failure`` says
        which did not, and why), with its audit line. False when it had ended already (another
        instance, or its expiry)."""
        if status not in ("sent", "failed"):
            raise ValueError(f"an approved request ends as 'sent' or 'failed', not {status!r}")

        def work(conn: Connection) -> bool:
            request = _one(conn, request_id)
            return request is not None and _finish(conn, request, status, failure, by, summary)

        return self.db.write("recording how an approval request ended", work, durable=True)
