"""The payment register: which payments this profile tracks, and the last snapshot of each.

The ePayment API cannot list payments, so the app keeps the list. A row enters when a payment is
created in the app, added by reference, imported from CSV, or seeded from the demo sandbox. Each row
keeps what the API does not return (our description, when it was created) and the last snapshot
(payment + events as JSON, when it was fetched, the last fetch error), so the window can show the whole
list at once on start, offline too.
"""

from __future__ import annotations

import abc
import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from epay_desktop.domain import (
    EventName,
    Payment,
    PaymentEvent,
    TrackedPayment,
    newest_event_at,
)
from epay_desktop.domain.listed import ListedPayments
from epay_desktop.store import list_cache
from epay_desktop.store.codec import (
    SnapshotError,
    dump_events,
    dump_payment,
    load_events,
    load_payment,
)
from epay_desktop.store.db import Database, RegisterDamagedError, RegisterError, utc_now
from epay_desktop.store.dialect import SQLITE, Connection, Dialect, SqlDatabase, from_text, to_text
from epay_desktop.store.listing import LIST_SELECT, read_listed

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A payment to start tracking."""

    reference: str
    description: str = ""
    created_at: datetime | None = None
    source: str = "added"
    redirect_url: str | None = None


# Newest first: by when the payment was created (else added), then by reference.
NEWEST_FIRST = "ORDER BY coalesce(created_at, added_at) DESC, reference"

_COLUMNS = "reference, msn, description, created_at, fetched_at, fetch_error, payment_json, events_json"
# The snapshot's payment in plain columns (schema 5), written with each snapshot: the list is read
# from these, without decoding any JSON. ``state`` NULL: no snapshot, or one to read from its JSON.
SUMMARY_COLUMNS = (
    "state",
    "raw_state",
    "amount",
    "currency",
    "authorized",
    "captured",
    "cancelled",
    "refunded",
    "psp_reference",
    "payment_description",
    "payment_method",
    "payment_redirect_url",
    "metadata_json",
    "guaranteed_until",
)
_NO_SUMMARY: tuple[None, ...] = (None,) * len(SUMMARY_COLUMNS)
_SUMMARY_SETS = "".join(f", {column} = ?" for column in SUMMARY_COLUMNS)


def summary_cells(payment: Payment) -> tuple[object, ...]:
    """``payment`` as the cells of ``SUMMARY_COLUMNS``; all None (the list then reads the JSON) when
    its aggregate is in another currency than its amount (the columns keep one currency)."""
    agg = payment.aggregate
    currency = payment.currency
    if any(m.currency is not currency for m in (agg.authorized, agg.captured, agg.cancelled, agg.refunded)):
        return _NO_SUMMARY
    return (
        payment.state.value,
        payment.raw_state,
        payment.amount.value,
        currency.value,
        agg.authorized.value,
        agg.captured.value,
        agg.cancelled.value,
        agg.refunded.value,
        payment.psp_reference,
        payment.description,
        payment.payment_method,
        payment.redirect_url,
        json.dumps(dict(payment.metadata), ensure_ascii=False) if payment.metadata else None,
        to_text(payment.capture_guaranteed_until),
    )


def _payment_of(reference: object, payment_json: object) -> tuple[Payment | None, str]:
    """The saved payment, or None and why it cannot be shown."""
    if not payment_json:
        return None, ""
    try:
        return load_payment(str(payment_json), reference if isinstance(reference, str) else None), ""
    except SnapshotError as problem:
        # A snapshot we cannot read is as good as none: show "not fetched", never crash the list.
        log.warning("unreadable snapshot for %s: %s", reference, problem)
        return None, f"The saved snapshot could not be read ({problem}); refresh it."


def _moment(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _tracked(row: sqlite3.Row | tuple[object, ...]) -> TrackedPayment:
    """A payment with its event log decoded (``events`` None when no log was saved yet)."""
    reference, msn, description, created_at, fetched_at, fetch_error, payment_json, events_json = row
    payment, problem = _payment_of(reference, payment_json)
    events: tuple[PaymentEvent, ...] | None = None
    if events_json and not problem:
        try:
            events = load_events(str(events_json))
        except SnapshotError as unreadable:
            log.warning("unreadable snapshot for %s: %s", reference, unreadable)
            payment, problem = None, f"The saved snapshot could not be read ({unreadable}); refresh it."
    return TrackedPayment(
        reference=str(reference),
        merchant_serial_number=str(msn),
        payment=payment,
        events=events,
        description=str(description or ""),
        created_at=from_text(created_at),  # type: ignore[arg-type]
        fetched_at=from_text(fetched_at),  # type: ignore[arg-type]
        fetch_error=problem or str(fetch_error or ""),
    )


def created_time(events: Sequence[PaymentEvent] | None) -> datetime | None:
    """When the payment was created, from its CREATED event: a payment added by its reference has no
    created time of its own until its log is read."""
    return next(
        (e.timestamp for e in events or () if e.name is EventName.CREATED and e.timestamp is not None),
        None,
    )


def _iso(moment: object) -> str | None:
    """A stored moment as the ISO text a register watch compares (SQLite keeps it as that text)."""
    if isinstance(moment, datetime):
        return moment.isoformat()
    return str(moment) if moment else None


class RegisterRecords(abc.ABC):
    """Which payments are tracked, and the last snapshot of each.

    The queries that read the same on either database (``dialect``) are here; how a row is decoded,
    how payments are added, how the list is loaded and how a snapshot is saved are each back-end's
    own: ``Register`` in a SQLite file, ``postgres.register.PgRegister`` in PostgreSQL."""

    dialect: ClassVar[Dialect]
    # The columns ``_tracked`` decodes; the snapshots are read as text in both back-ends.
    columns: ClassVar[str]
    events_column: ClassVar[str]
    # Where the snapshot is stored, and how many events a row's log has (-1: it cannot be read).
    payment_column: ClassVar[str]
    log_column: ClassVar[str]
    events_count: ClassVar[str]

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        self.unreadable_rows = 0  # rows a salvage of a damaged register could not read
        # Rows of the last ``all`` skipped because a cell in them cannot be read (what and why): one bad
        # cell must not take the whole list with it.
        self.skipped_rows: list[str] = []

    @abc.abstractmethod
    def _tracked(self, row: tuple[Any, ...]) -> TrackedPayment:
        """A row of ``columns`` as a payment with its event log decoded."""

    @abc.abstractmethod
    def add(
        self, msn: str, entries: Iterable[NewEntry], *, now: datetime | None = None
    ) -> tuple[list[str], list[str]]:
        """Start tracking ``entries`` (one transaction). Returns (added, already tracked)."""

    @abc.abstractmethod
    def all(self, msn: str) -> list[TrackedPayment]:
        """Every tracked payment of ``msn``, newest first, without event logs: ``events`` is None (not
        loaded) and ``last_event_at`` is the newest saved event's time; ``events_of`` reads a log."""

    def listed(self, msn: str, *, first: int | None = None) -> ListedPayments:
        """``all`` (or its ``first`` newest rows) column by column (``domain.listed``)."""
        rows = self.all(msn)
        return ListedPayments.of(msn, rows if first is None else rows[:first])

    @abc.abstractmethod
    def save_snapshot(
        self,
        msn: str,
        payment: Payment,
        events: Sequence[PaymentEvent] | None,
        *,
        fetched_at: datetime | None = None,
        fetch_error: str = "",
    ) -> TrackedPayment:
        """Keep the newest snapshot of ``payment`` (tracking it if it was not yet). ``events=None``
        keeps the events saved before (used when only the payment could be read). ``fetched_at`` is
        when the read was asked for: an answer to an older request that arrives after a newer one was
        saved is not kept (the latest refresh wins in the register too)."""

    @abc.abstractmethod
    def _payment_cell(self, payment: Payment) -> object:
        """``payment`` as its back-end stores it in ``payment_column``."""

    @abc.abstractmethod
    def _events_cell(self, events: Sequence[PaymentEvent]) -> object:
        """``events`` as its back-end stores them in ``log_column``."""

    def _payment_extras(self, payment: Payment) -> tuple[str, tuple[object, ...]]:
        """More ``SET`` assignments (text starting with a comma, and their parameters) that save
        ``payment`` where its back-end keeps more of it than ``payment_column``; none by default."""
        return "", ()

    def _events_extras(self, events: Sequence[PaymentEvent]) -> tuple[str, tuple[object, ...]]:
        """The same for a saved event log."""
        return "", ()

    def _read(self, conn: Connection, msn: str, reference: str) -> TrackedPayment | None:
        row = conn.execute(
            self.dialect.sql(f"SELECT {self.columns} FROM payments WHERE msn = ? AND reference = ?"),
            (msn, reference),
        ).fetchone()
        return self._tracked(row) if row else None

    def remove(self, msn: str, reference: str) -> bool:
        sql = self.dialect.sql("DELETE FROM payments WHERE msn = ? AND reference = ?")
        return self.db.write("removing a payment", lambda c: c.execute(sql, (msn, reference)).rowcount == 1)

    def contains(self, msn: str, reference: str) -> bool:
        sql = self.dialect.sql("SELECT 1 FROM payments WHERE msn = ? AND reference = ?")
        return self.db.read(
            "reading the register", lambda c: c.execute(sql, (msn, reference)).fetchone() is not None
        )

    def get(self, msn: str, reference: str) -> TrackedPayment | None:
        return self.db.read("reading a payment", lambda c: self._read(c, msn, reference))

    def redirect_url(self, msn: str, reference: str) -> str | None:
        sql = self.dialect.sql("SELECT redirect_url FROM payments WHERE msn = ? AND reference = ?")
        row = self.db.read("reading a payment", lambda c: c.execute(sql, (msn, reference)).fetchone())
        return str(row[0]) if row and row[0] else None

    def events_of(self, msn: str, reference: str) -> tuple[PaymentEvent, ...] | None:
        """The saved event log of one payment; None when none was saved (not fetched yet, or not
        tracked). Raises ``SnapshotError`` when the saved log cannot be read."""
        sql = self.dialect.sql(f"SELECT {self.events_column} FROM payments WHERE msn = ? AND reference = ?")
        row = self.db.read("reading an event log", lambda c: c.execute(sql, (msn, reference)).fetchone())
        if row is None or not row[0]:
            return None
        return load_events(str(row[0]))

    def references(self, msn: str) -> list[str]:
        sql = self.dialect.sql(f"SELECT reference FROM payments WHERE msn = ? {NEWEST_FIRST}")
        rows = self.db.read("reading the register", lambda c: c.execute(sql, (msn,)).fetchall())
        return [str(r[0]) for r in rows]

    def count(self, msn: str | None = None) -> int:
        def work(conn: Connection) -> int:
            if msn is None:
                row = conn.execute("SELECT count(*) FROM payments").fetchone()
            else:
                row = conn.execute(
                    self.dialect.sql("SELECT count(*) FROM payments WHERE msn = ?"), (msn,)
                ).fetchone()
            return int(row[0]) if row else 0

        return self.db.read("counting", work)

    def save_fetch_error(self, msn: str, reference: str, error: str) -> TrackedPayment | None:
        """Record why the last refresh failed; the previous snapshot is kept (shown as stale)."""
        sql = self.dialect.sql("UPDATE payments SET fetch_error = ? WHERE msn = ? AND reference = ?")

        def work(conn: Connection) -> TrackedPayment | None:
            conn.execute(sql, (error, msn, reference))
            return self._read(conn, msn, reference)

        return self.db.write("saving a fetch error", work)

    def set_redirect_url(self, msn: str, reference: str, url: str) -> None:
        sql = self.dialect.sql("UPDATE payments SET redirect_url = ? WHERE msn = ? AND reference = ?")
        self.db.write("saving a payment link", lambda c: c.execute(sql, (url, msn, reference)))

    def change(
        self,
        msn: str,
        reference: str,
        work: Callable[[TrackedPayment | None], tuple[Payment | None, Sequence[PaymentEvent]] | None],
        *,
        at: datetime,
        source: str,
    ) -> tuple[TrackedPayment | None, bool]:
        """Read one payment's row and write what ``work`` makes of it, in one transaction (so two
        writers cannot lose each other's change). ``work`` gets the row (``None`` when not tracked)
        and returns the new snapshot (payment, events), or ``None`` to leave it as it is. A row that
        was not tracked is added with ``source``; a new payment is saved as read at ``at``.
        Returns the row after, and whether it was written."""
        sql = self.dialect.sql
        stamp = self.dialect.moment_param(at)

        def run(conn: Connection) -> tuple[TrackedPayment | None, bool]:
            before = self._read(conn, msn, reference)
            result = work(before)
            if result is None:
                return before, False
            payment, events = result
            conn.execute(
                sql(
                    "INSERT INTO payments (msn, reference, added_at, source) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (msn, reference) DO NOTHING"
                ),
                (msn, reference, stamp, source),
            )
            if payment is not None:
                extra, values = self._payment_extras(payment)
                conn.execute(
                    sql(
                        f"UPDATE payments SET {self.payment_column} = ?, fetched_at = ?, fetch_error = ''"
                        f"{extra} WHERE msn = ? AND reference = ?"
                    ),
                    (self._payment_cell(payment), stamp, *values, msn, reference),
                )
            extra, values = self._events_extras(events)
            conn.execute(
                sql(
                    f"UPDATE payments SET {self.log_column} = ?, last_event_at = ?{extra} "
                    "WHERE msn = ? AND reference = ?"
                ),
                (
                    self._events_cell(events),
                    self.dialect.moment_param(newest_event_at(events)),
                    *values,
                    msn,
                    reference,
                ),
            )
            after = self._read(conn, msn, reference)
            assert after is not None
            return after, True

        return self.db.write("saving a webhook event", run)

    def change_marks(self, msn: str) -> dict[str, tuple[str | None, int]]:
        """A light mark of every row of ``msn``: when its snapshot was fetched (ISO text) and how many
        events it has (-1 when they cannot be read), without decoding any snapshot."""
        sql = self.dialect.sql(
            f"SELECT reference, fetched_at, {self.events_count} FROM payments WHERE msn = ?"
        )
        rows = self.db.read("watching the register", lambda c: c.execute(sql, (msn,)).fetchall())
        return {str(r[0]): (_iso(r[1]), int(r[2])) for r in rows}


class Register(RegisterRecords):
    """Sync API over one register file (the services call it through ``asyncio.to_thread``)."""

    dialect = SQLITE
    columns = _COLUMNS
    events_column = "events_json"
    payment_column = "payment_json"
    log_column = "events_json"
    # Kept with each saved log (schema 5): watching the register decodes no log.
    events_count = "events_count"
    db: Database

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        # Whether the last ``listed`` read the packed rows (``list_cache``): False, it read ``payments``
        # (the packed rows were stale), and made them again if the register could be written then.
        self.packed_rows_current = True

    def _tracked(self, row: tuple[Any, ...]) -> TrackedPayment:
        return _tracked(row)

    def _payment_cell(self, payment: Payment) -> object:
        return dump_payment(payment)

    def _events_cell(self, events: Sequence[PaymentEvent]) -> object:
        return dump_events(list(events))

    def _payment_extras(self, payment: Payment) -> tuple[str, tuple[object, ...]]:
        return _SUMMARY_SETS, summary_cells(payment)

    def _events_extras(self, events: Sequence[PaymentEvent]) -> tuple[str, tuple[object, ...]]:
        return ", events_count = ?", (len(events),)

    def add(
        self, msn: str, entries: Iterable[NewEntry], *, now: datetime | None = None
    ) -> tuple[list[str], list[str]]:
        """Start tracking ``entries`` (one transaction). Returns (added, already tracked)."""
        stamp = to_text(now or utc_now())
        items = list(entries)

        def work(conn: sqlite3.Connection) -> tuple[list[str], list[str]]:
            added: list[str] = []
            existing: list[str] = []
            for entry in items:
                cursor = conn.execute(
                    "INSERT INTO payments (msn, reference, description, created_at, added_at, source, "
                    "redirect_url) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (msn, reference) DO NOTHING",
                    (
                        msn,
                        entry.reference,
                        entry.description,
                        to_text(entry.created_at),
                        stamp,
                        entry.source,
                        entry.redirect_url,
                    ),
                )
                (added if cursor.rowcount == 1 else existing).append(entry.reference)
            return added, existing

        return self.db.write("adding payments", work)

    def all(self, msn: str) -> list[TrackedPayment]:
        """Every tracked payment of ``msn``, newest first, without event logs (``events`` is None;
        ``last_event_at`` has the newest event's time; ``events_of`` reads a log): ``listed``'s rows as
        records."""
        return list(self.listed(msn))

    def newest(self, msn: str, limit: int) -> list[TrackedPayment]:
        """The ``limit`` newest payments of ``all``."""
        return list(self.listed(msn, first=limit))

    def listed(self, msn: str, *, first: int | None = None) -> ListedPayments:
        """``msn``'s list column by column, newest first, from its packed rows (``store.list_cache``;
        read from ``payments`` by ``store.listing`` while those are stale, and made again once this
        register can be written); only the ``first`` newest (quick whatever the size) when given. A
        damaged register opened read-only gives the rows that can still be read (``unreadable_rows``
        counts the others)."""
        self.skipped_rows = []  # a row with a cell that cannot be read is listed, with the reason
        try:
            listed, current = self.db.read("loading the register", lambda c: self._read_list(c, msn, first))
            self.packed_rows_current = current
            if not current and self.db.checked and not self.db.read_only:
                self._rebuild_list_cache()
            return listed
        except RegisterDamagedError:
            if not self.db.read_only:
                raise
        rows = self._salvage(msn)
        if first is not None:
            rows = rows[:first]
        return self.db.read("salvaging the damaged register", lambda c: read_listed(c, msn, rows=rows))

    @staticmethod
    def _read_list(conn: sqlite3.Connection, msn: str, first: int | None) -> tuple[ListedPayments, bool]:
        """The list from its packed rows (``list_cache``) when they are current, else from ``payments``;
        and whether they were."""
        if list_cache.is_current(conn):
            try:
                return list_cache.read_packed(conn, msn, first=first), True
            except list_cache.PackedRowsError as problem:
                log.warning(
                    "the list's packed rows cannot be read (%s); reading the register itself", problem
                )
        return read_listed(conn, msn, first=first), False

    def _rebuild_list_cache(self) -> None:
        """Make the packed rows again (they were missing, or made by another version); the list read
        already stands if that cannot be done now."""
        try:
            self.db.write("rebuilding the list's rows", list_cache.rebuild)
        except RegisterError as error:
            log.warning("the list's packed rows were not rebuilt: %s", error)

    def _salvage(self, msn: str) -> list[tuple[object, ...]]:
        """Read a damaged table row by row through the table itself (no index: those may be the
        damaged part), skipping the rows on pages that cannot be read."""
        batch = 256

        def work(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
            top = int(conn.execute("SELECT max(rowid) FROM payments NOT INDEXED").fetchone()[0] or 0)
            # With what the list is ordered by (newest first) last: sorted here, then left out.
            select = (
                f"SELECT {LIST_SELECT}, coalesce(created_at, added_at) FROM payments NOT INDEXED "
                "WHERE msn = ? AND rowid "
            )
            found: list[tuple[object, ...]] = []
            lost = 0
            for start in range(1, top + 1, batch):
                end = min(start + batch - 1, top)
                try:
                    found += conn.execute(select + "BETWEEN ? AND ?", (msn, start, end)).fetchall()
                except sqlite3.DatabaseError:
                    for rowid in range(start, end + 1):
                        try:
                            found += conn.execute(select + "= ?", (msn, rowid)).fetchall()
                        except sqlite3.DatabaseError:
                            lost += 1
            self.unreadable_rows = lost
            return found

        found = self.db.read("salvaging the damaged register", work)
        log.warning("damaged register %s: %d row(s) could not be read", self.db.path, self.unreadable_rows)
        found.sort(key=lambda row: str(row[1]))  # as ``NEWEST_FIRST``: by reference, then newest first
        found.sort(key=lambda row: str(row[-1] or ""), reverse=True)
        return [row[:-1] for row in found]

    def save_snapshot(
        self,
        msn: str,
        payment: Payment,
        events: Sequence[PaymentEvent] | None,
        *,
        fetched_at: datetime | None = None,
        fetch_error: str = "",
    ) -> TrackedPayment:
        """(``RegisterRecords.save_snapshot``) Under ``BEGIN IMMEDIATE`` the saved read's time is
        compared first; a payment added by its reference takes its created time from its log."""
        moment = fetched_at or utc_now()
        stamp = to_text(moment)
        payment_json = dump_payment(payment)
        events_json = dump_events(list(events)) if events is not None else None
        newest = newest_event_at(events) if events is not None else None
        created_text = to_text(created_time(events))
        summary = summary_cells(payment)

        def work(conn: sqlite3.Connection) -> TrackedPayment:
            conn.execute(
                "INSERT INTO payments (msn, reference, added_at, source) VALUES (?, ?, ?, 'refresh') "
                "ON CONFLICT (msn, reference) DO NOTHING",
                (msn, payment.reference, stamp),
            )
            stored = conn.execute(
                "SELECT fetched_at FROM payments WHERE msn = ? AND reference = ?", (msn, payment.reference)
            ).fetchone()
            newer = from_text(stored[0]) if stored is not None and stored[0] else None
            if newer is not None and newer > moment:
                kept = self._read(conn, msn, payment.reference)
                assert kept is not None  # inserted above in this very transaction, or there before
                return kept
            conn.execute(
                "UPDATE payments SET payment_json = ?, events_json = coalesce(?, events_json), "
                "last_event_at = CASE WHEN ? IS NULL THEN last_event_at ELSE ? END, "
                "events_count = coalesce(?, events_count), "
                f"fetched_at = ?, fetch_error = ?{_SUMMARY_SETS}, redirect_url = coalesce(redirect_url, ?), "
                "created_at = coalesce(created_at, ?) "
                "WHERE msn = ? AND reference = ?",
                (
                    payment_json,
                    events_json,
                    events_json,
                    to_text(newest),
                    len(events) if events is not None else None,
                    stamp,
                    fetch_error,
                    *summary,
                    payment.redirect_url,
                    created_text,
                    msn,
                    payment.reference,
                ),
            )
            saved = self._read(conn, msn, payment.reference)
            assert saved is not None  # inserted above in this very transaction, or there before
            return saved

        return self.db.write("saving a snapshot", work)

    def write_marks(self) -> tuple[int, int]:
        """What moves when the register is written: ``data_version`` (by another connection) and this
        connection's ``total_changes`` (by this one); equal marks, nothing was written in between."""
        return self.db.read(
            "watching the register",
            lambda c: (int(c.execute("PRAGMA data_version").fetchone()[0]), int(c.total_changes)),
        )

    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version``: it moves when another connection (another program) commits
        to this file, not for this connection's own writes."""
        return int(
            self.db.read("watching the register", lambda c: c.execute("PRAGMA data_version").fetchone()[0])
        )
