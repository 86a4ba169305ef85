"""The payment register in PostgreSQL: the same records and rules as the SQLite ``Register``.

Snapshots are ``jsonb`` in the store's own versioned form (``store.codec``), so a damaged text can
never be saved; one written by a newer version that this one cannot read shows as "not fetched", as in
the SQLite register. The queries both back-ends share (a webhook's ``change`` and ``change_marks``
among them) are ``RegisterRecords``'; here is what PostgreSQL does its own way. There is no
``data_version``: PostgreSQL has no commit counter a client can watch, as a SQLite file has.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from epay_desktop.domain import Payment, PaymentEvent, TrackedPayment, newest_event_at
from epay_desktop.store.codec import SnapshotError, event_to_json, load_events, load_payment, payment_to_json
from epay_desktop.store.db import utc_now
from epay_desktop.store.dialect import POSTGRES
from epay_desktop.store.postgres.database import Connection, PgDatabase
from epay_desktop.store.register import NEWEST_FIRST, NewEntry, RegisterRecords, created_time

log = logging.getLogger(__name__)

# Snapshots are read as text and parsed by the codec, as in the SQLite register: several times quicker
# than letting the driver build the objects from jsonb (measured by benchmarks/store_backends.py).
_COLUMNS = "reference, msn, description, created_at, fetched_at, fetch_error, payment::text, events::text"
# The list's columns: everything but the event log, which only the selected payment's details show;
# the newest event's time (the "Updated" column) is kept in its own column when a log is saved.
_LIST_COLUMNS = (
    "reference, msn, description, created_at, fetched_at, fetch_error, payment::text, last_event_at"
)


def _payment_of(reference: object, payment_json: str | None) -> tuple[Payment | None, str]:
    """The saved payment, or None and why it cannot be shown."""
    if payment_json is None:
        return None, ""
    try:
        return load_payment(payment_json, reference if isinstance(reference, str) else None), ""
    except SnapshotError as problem:
        log.warning("unreadable snapshot for %s: %s", reference, problem)
        return None, f"The saved snapshot could not be read ({problem}); refresh it."


def _tracked(row: tuple[Any, ...]) -> TrackedPayment:
    """A payment with its event log decoded (``events`` None when no log was saved yet)."""
    reference, msn, description, created_at, fetched_at, fetch_error, payment_json, events_json = row
    payment, problem = _payment_of(reference, payment_json)
    events: tuple[PaymentEvent, ...] | None = None
    if events_json is not None and not problem:
        try:
            events = load_events(events_json)
        except SnapshotError as unreadable:
            log.warning("unreadable snapshot for %s: %s", reference, unreadable)
            payment, problem = None, f"The saved snapshot could not be read ({unreadable}); refresh it."
    return TrackedPayment(
        reference=str(reference),
        merchant_serial_number=str(msn),
        payment=payment,
        events=events,
        description=str(description or ""),
        created_at=created_at,
        fetched_at=fetched_at,
        fetch_error=problem or str(fetch_error or ""),
    )


def _listed(row: tuple[Any, ...]) -> TrackedPayment:
    """A payment for the list: its event log is not read (``events`` is None: not loaded)."""
    reference, msn, description, created_at, fetched_at, fetch_error, payment_json, last_event_at = row
    payment, problem = _payment_of(reference, payment_json)
    return TrackedPayment(
        reference=str(reference),
        merchant_serial_number=sys.intern(str(msn)),  # a few serial numbers for the whole list
        payment=payment,
        events=None,
        description=str(description or ""),
        created_at=created_at,
        fetched_at=fetched_at,
        fetch_error=problem or str(fetch_error or ""),
        last_event_at=last_event_at,
    )


def _read(conn: Connection, msn: str, reference: str, *, lock: bool = False) -> TrackedPayment | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM payments WHERE msn = %s AND reference = %s{' FOR UPDATE' if lock else ''}",
        (msn, reference),
    ).fetchone()
    return _tracked(row) if row else None


class PgRegister(RegisterRecords):
    """``unreadable_rows`` stays 0 (PostgreSQL has no salvage of a damaged file) and ``skipped_rows``
    empty (typed columns; an unreadable snapshot is shown as "not fetched" instead)."""

    dialect = POSTGRES
    columns = _COLUMNS
    events_column = "events::text"
    payment_column = "payment"
    log_column = "events"
    # jsonb holds only well-formed logs: a log is never unreadable to the database itself.
    events_count = "coalesce(jsonb_array_length(events), 0)"
    db: PgDatabase

    def _tracked(self, row: tuple[Any, ...]) -> TrackedPayment:
        return _tracked(row)

    def _payment_cell(self, payment: Payment) -> object:
        return Jsonb(payment_to_json(payment))

    def _events_cell(self, events: Sequence[PaymentEvent]) -> object:
        return Jsonb([event_to_json(e) for e in events])

    def add(
        self, msn: str, entries: Iterable[NewEntry], *, now: datetime | None = None
    ) -> tuple[list[str], list[str]]:
        """Start tracking ``entries`` (one transaction, one statement). Returns (added, already tracked)."""
        stamp = now or utc_now()
        items = list(entries)
        if not items:
            return [], []

        def work(conn: Connection) -> set[str]:
            rows = conn.execute(
                "INSERT INTO payments "
                "(msn, reference, description, created_at, added_at, source, redirect_url) "
                "SELECT %s, e.reference, e.description, e.created_at, %s, e.source, e.redirect_url "
                "FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::text[], %s::text[]) "
                "  WITH ORDINALITY AS e(reference, description, created_at, source, redirect_url, n) "
                "ORDER BY e.n "
                "ON CONFLICT (msn, reference) DO NOTHING RETURNING reference",
                (
                    msn,
                    stamp,
                    [e.reference for e in items],
                    [e.description for e in items],
                    [e.created_at for e in items],
                    [e.source for e in items],
                    [e.redirect_url for e in items],
                ),
            ).fetchall()
            return {str(r[0]) for r in rows}

        inserted = self.db.write("adding payments", work)
        added: list[str] = []
        existing: list[str] = []
        for entry in items:
            # The first of two equal references in one call is the one added, as in a row-by-row insert.
            if entry.reference in inserted:
                inserted.discard(entry.reference)
                added.append(entry.reference)
            else:
                existing.append(entry.reference)
        return added, existing

    def all(self, msn: str) -> list[TrackedPayment]:
        """Every tracked payment of ``msn``, newest first, without event logs (``events`` is None;
        ``last_event_at`` has the newest event's time; ``events_of`` reads a log)."""

        def work(conn: Connection) -> list[TrackedPayment]:
            # Each row becomes a Python tuple only as it is decoded: the raw rows of a large register
            # never all exist as objects beside the decoded payments.
            cursor = conn.execute(
                f"SELECT {_LIST_COLUMNS} FROM payments WHERE msn = %s {NEWEST_FIRST}", (msn,)
            )
            return [_listed(row) for row in cursor]

        return self.db.read("loading the register", work)

    def save_snapshot(
        self,
        msn: str,
        payment: Payment,
        events: Sequence[PaymentEvent] | None,
        *,
        fetched_at: datetime | None = None,
        fetch_error: str = "",
    ) -> TrackedPayment:
        """Keep the newest snapshot of ``payment`` (tracking it if it was not yet); ``events=None``
        keeps the events saved before; an answer to a read asked before the saved one is not kept."""
        moment = fetched_at or utc_now()
        payment_data = Jsonb(payment_to_json(payment))
        events_data = Jsonb([event_to_json(e) for e in events]) if events is not None else None
        newest = newest_event_at(events) if events is not None else None

        def work(conn: Connection) -> TrackedPayment:
            conn.execute(
                "INSERT INTO payments (msn, reference, added_at, source) VALUES (%s, %s, %s, 'refresh') "
                "ON CONFLICT (msn, reference) DO NOTHING",
                (msn, payment.reference, moment),
            )
            # The row lock makes "is mine newer?" and the update one step for every instance.
            conn.execute(
                "UPDATE payments SET payment = %s, events = coalesce(%s, events), "
                "last_event_at = CASE WHEN %s THEN %s ELSE last_event_at END, fetched_at = %s, "
                "fetch_error = %s, redirect_url = coalesce(redirect_url, %s), "
                "created_at = coalesce(created_at, %s) "
                "WHERE msn = %s AND reference = %s AND (fetched_at IS NULL OR fetched_at <= %s)",
                (
                    payment_data,
                    events_data,
                    events is not None,
                    newest,
                    moment,
                    fetch_error,
                    payment.redirect_url,
                    created_time(events),
                    msn,
                    payment.reference,
                    moment,
                ),
            )
            tracked = self._read(conn, msn, payment.reference)
            assert tracked is not None  # inserted above in this very transaction, or there before
            return tracked

        return self.db.write("saving a snapshot", work)

    def change(
        self,
        msn: str,
        reference: str,
        work: Callable[[TrackedPayment | None], tuple[Payment | None, Sequence[PaymentEvent]] | None],
        *,
        at: datetime,
        source: str,
    ) -> tuple[TrackedPayment | None, bool]:
        """The base class's ``change``, with the row locked (``FOR UPDATE``): two instances receiving
        webhooks for one payment at once cannot lose each other's event (SQLite's one writer needs no
        lock). ``work`` gets the row (``None`` when not tracked) and returns
        the new snapshot (payment, events), or ``None`` to leave it as it is. Returns the row after,
        and whether it was written."""

        def run(conn: Connection) -> tuple[TrackedPayment | None, bool]:
            before = _read(conn, msn, reference, lock=True)
            result = work(before)
            if result is None:
                return before, False
            if before is None:
                conn.execute(
                    "INSERT INTO payments (msn, reference, added_at, source) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (msn, reference) DO NOTHING",
                    (msn, reference, at, source),
                )
                locked = _read(conn, msn, reference, lock=True)
                if locked is not None and (locked.payment is not None or locked.events is not None):
                    # Another writer tracked it between our look and our insert: work on theirs.
                    before, result = locked, work(locked)
                    if result is None:
                        return before, False
            payment, events = result
            if payment is not None:
                conn.execute(
                    "UPDATE payments SET payment = %s, fetched_at = %s, fetch_error = '' "
                    "WHERE msn = %s AND reference = %s",
                    (Jsonb(payment_to_json(payment)), at, msn, reference),
                )
            conn.execute(
                "UPDATE payments SET events = %s, last_event_at = %s WHERE msn = %s AND reference = %s",
                (Jsonb([event_to_json(e) for e in events]), newest_event_at(events), msn, reference),
            )
            after = _read(conn, msn, reference)
            assert after is not None  # inserted or locked above in this very transaction
            return after, True

        return self.db.write("saving a webhook event", run)

    def take_for_refresh(self, msn: str, read_before: datetime, limit: int, *, now: datetime) -> list[str]:
        """Up to ``limit`` payments of ``msn`` that can still change (never read, or not in a closed
        state) and were neither read nor taken up since ``read_before``, longest waiting first; each is
        marked as taken up at ``now`` (so one whose read fails waits its turn again instead of coming
        first every time, and two refreshing instances do not take the same)."""
        rows = self.db.write(
            "choosing payments to refresh",
            lambda c: c.execute(
                "UPDATE payments SET refresh_tried_at = %s WHERE (msn, reference) IN ("
                "  SELECT msn, reference FROM payments WHERE msn = %s "
                "  AND (payment IS NULL OR payment ->> 'state' NOT IN ('ABORTED', 'EXPIRED', 'TERMINATED')) "
                "  AND (fetched_at IS NULL OR fetched_at < %s) "
                "  AND (refresh_tried_at IS NULL OR refresh_tried_at < %s) "
                "  ORDER BY greatest(fetched_at, refresh_tried_at) NULLS FIRST, reference "
                "  LIMIT %s FOR UPDATE SKIP LOCKED) "
                "RETURNING reference",
                (now, msn, read_before, read_before, limit),
            ).fetchall(),
        )
        return sorted(str(r[0]) for r in rows)
