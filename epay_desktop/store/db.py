"""One SQLite file per profile: connection, pragmas, schema versions, and typed errors.

- WAL, so a reader (the window loading the list) never waits for a writer (a refresh saving snapshots);
  ``busy_timeout`` so two app instances on one register wait for each other briefly instead of failing.
- ``PRAGMA user_version`` is the schema version; ``MIGRATIONS`` are applied in order, each in one
  transaction, so a crash mid-migration leaves the previous version intact.
- sqlite3 errors never reach the person as tracebacks: a busy file raises ``RegisterLockedError``, a
  damaged one ``RegisterDamagedError`` (found by ``PRAGMA quick_check`` on open, or by
  :meth:`Database.check_integrity` when opened with ``check_later``: then nothing can be written until
  that check passed, so a damaged register is never written to). The user's file is
  never deleted; ``move_aside`` renames it with a timestamp only when the person asks, and
  ``read_only=True`` opens it without writing, and also when it is damaged (``damage`` says what
  ``quick_check`` found; ``Register.all`` then salvages the rows that can still be read).

The API is synchronous and thread-safe (one connection guarded by a lock): the services call it through
``asyncio.to_thread`` so the GUI thread never blocks on the disk. The exceptions, for the caller's own
thread, write only when they need not wait for anything (else they write nothing and say so):
``write_now``, a small write that does not wait for the disk; and ``write_durably_now``, a durable one,
only while the disk has proven fast (``commit_pace.py``). And ``write_durably_soon`` does not wait at all:
a durable write joins the next group commit, and a future says when it is on disk (the loop's way when the
two above refuse: no thread hop per write, one thread commits for all that are queued). The two writes at
once never run a WAL checkpoint; after ``QUICK_WRITES_BEFORE_CHECKPOINT`` of them in a row they refuse
until a write on a worker thread has given SQLite the chance to checkpoint. They run on a second
connection of their own, set once never to wait for a lock nor to checkpoint (under the same lock as the
first: one write at a time), so they touch none of the main connection's settings. A group commit on a
worker thread runs there too when it can without waiting (no other program's lock, no checkpoint due),
else on the main connection: SQLite drops a connection's cache each time the other one has written, and
reading it back made the journal's work per flow 12–37 % dearer (measured on ext4) when intents were begun
on one connection and finished on the other.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from epay_desktop.domain import Currency, Money
from epay_desktop.store import list_cache
from epay_desktop.store.commit_pace import CommitPace
from epay_desktop.store.dialect import SQLITE, get_meta, set_meta

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000
# Writes made on the caller's thread never checkpoint the WAL (that waits for the disk); after this many
# in a row they refuse, so the next write goes to a worker thread, where SQLite checkpoints as usual.
# The WAL then holds at most its usual 1,000 pages plus some 64 small commits' pages.
QUICK_WRITES_BEFORE_CHECKPOINT = 64


class RegisterError(Exception):
    """Something about the register stops the app from using it; the message says what to do. ``path``
    is the register file, or the database's address (without password) for the PostgreSQL store."""

    def __init__(self, message: str, path: Path | str) -> None:
        super().__init__(message)
        self.path = path


class RegisterLockedError(RegisterError):
    """Another program (or another copy of this app) holds the register busy for too long."""


class RegisterDamagedError(RegisterError):
    """The file is not a readable SQLite database, or ``PRAGMA quick_check`` found damage."""


class NotARegisterError(RegisterError):
    """The file is a SQLite database of another program; it is left unchanged."""


class RegisterTooNewError(RegisterError):
    """The file was written by a newer version of the app (its schema version is unknown here)."""


class WriteNotNowError(Exception):
    """``Database.write_now`` or ``write_durably_now`` could not write without waiting (another thread is
    using the connection, another program holds the file's write lock, a checkpoint is due, or, for a
    durable write, the disk has not proven fast); nothing was written.
    Not a failure: the caller writes the usual way, on a worker thread."""


# The "requested" audit line of an intent, written by a trigger when it is inserted and when it is
# reopened with its key (migration 8).
_REQUESTED_LINE = """\
        INSERT INTO audit (at, os_user, profile, msn, action, reference, amount, currency, result,
                           detail, idempotency_key, intent_id)
        VALUES (coalesce(NEW.requested_at, NEW.created_at), coalesce(NEW.requested_by, NEW.os_user),
                NEW.profile, NEW.msn, NEW.operation, NEW.reference,
                CASE WHEN NEW.amount IS NULL AND NEW.operation = 'cancel'
                     THEN NEW.released_amount ELSE NEW.amount END,
                CASE WHEN NEW.amount IS NULL AND NEW.operation = 'cancel'
                     THEN NEW.released_currency ELSE NEW.currency END,
                'requested', coalesce(NEW.request_detail, ''), NEW.idempotency_key, NEW.id);
"""

# Ordered: MIGRATIONS[i] takes the schema from version i to version i + 1. Never edit a released entry;
# append a new one.
MIGRATIONS: tuple[str, ...] = (
    # 1: the register, the journal of money-moving intents, the audit log, and small settings.
    """
    CREATE TABLE payments (
        msn           TEXT NOT NULL,
        reference     TEXT NOT NULL,
        description   TEXT NOT NULL DEFAULT '',
        created_at    TEXT,
        added_at      TEXT NOT NULL,
        source        TEXT NOT NULL DEFAULT '',
        redirect_url  TEXT,
        payment_json  TEXT,
        events_json   TEXT,
        fetched_at    TEXT,
        fetch_error   TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (msn, reference)
    );
    CREATE TABLE intents (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        operation        TEXT NOT NULL CHECK (operation IN ('cancel', 'capture', 'refund')),
        profile          TEXT NOT NULL,
        msn              TEXT NOT NULL,
        reference        TEXT NOT NULL,
        amount           INTEGER,
        currency         TEXT,
        idempotency_key  TEXT NOT NULL UNIQUE,
        created_at       TEXT NOT NULL,
        os_user          TEXT NOT NULL,
        status           TEXT NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'succeeded', 'failed', 'reconciled')),
        outcome          TEXT NOT NULL DEFAULT '',
        finished_at      TEXT,
        attempts         INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX intents_open ON intents (msn, reference) WHERE status = 'pending';
    CREATE TABLE audit (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        at               TEXT NOT NULL,
        os_user          TEXT NOT NULL,
        profile          TEXT NOT NULL,
        msn              TEXT NOT NULL,
        action           TEXT NOT NULL,
        reference        TEXT NOT NULL DEFAULT '',
        amount           INTEGER,
        currency         TEXT,
        result           TEXT NOT NULL,
        detail           TEXT NOT NULL DEFAULT '',
        idempotency_key  TEXT NOT NULL DEFAULT '',
        intent_id        INTEGER REFERENCES intents (id)
    );
    CREATE TABLE meta (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    );
    """,
    # 2: the window sorts newest first; keep that order cheap with 10,000+ payments.
    """
    CREATE INDEX payments_newest ON payments (coalesce(created_at, added_at) DESC);
    """,
    # 3: at most one pending intent per payment (msn, reference), whatever the profile: two money-moving
    # calls on one payment without a known outcome is how money moves twice. Pending duplicates an
    # older version may have left keep their status (their outcome is unknown) and are only marked so
    # the index can be built; ``Journal.begin`` refuses to add to them all the same.
    """
    ALTER TABLE intents ADD COLUMN pending_before_v3 INTEGER NOT NULL DEFAULT 0;
    UPDATE intents SET pending_before_v3 = 1
        WHERE status = 'pending' AND EXISTS (
            SELECT 1 FROM intents AS earlier
            WHERE earlier.status = 'pending' AND earlier.msn = intents.msn
              AND earlier.reference = intents.reference AND earlier.id < intents.id);
    DROP INDEX intents_open;
    CREATE UNIQUE INDEX intents_one_pending ON intents (msn, reference)
        WHERE status = 'pending' AND pending_before_v3 = 0;
    """,
    # 4: the newest event's time beside the saved event log, so the list (its "Updated" column) is
    # loaded without reading any log; filled from the logs saved before (a damaged one leaves it NULL).
    """
    ALTER TABLE payments ADD COLUMN last_event_at TEXT;
    UPDATE payments SET last_event_at = (
        SELECT json_extract(value, '$.timestamp') FROM json_each(events_json)
        WHERE type = 'object' AND json_type(value, '$.timestamp') = 'text'
        ORDER BY julianday(json_extract(value, '$.timestamp')) DESC LIMIT 1)
    WHERE json_valid(events_json);
    """,
    # 5: the snapshot's payment in plain columns beside its JSON, and the length of the saved log, so
    # the list is loaded (and the register watched) without decoding any JSON. The register's own code
    # writes them in the statement that saves the snapshot. ``state`` NULL means "read the JSON": no
    # snapshot, or one these columns cannot hold (unreadable, or an aggregate in another currency).
    """
    ALTER TABLE payments ADD COLUMN state TEXT;
    ALTER TABLE payments ADD COLUMN raw_state TEXT;
    ALTER TABLE payments ADD COLUMN amount INTEGER;
    ALTER TABLE payments ADD COLUMN currency TEXT;
    ALTER TABLE payments ADD COLUMN authorized INTEGER;
    ALTER TABLE payments ADD COLUMN captured INTEGER;
    ALTER TABLE payments ADD COLUMN cancelled INTEGER;
    ALTER TABLE payments ADD COLUMN refunded INTEGER;
    ALTER TABLE payments ADD COLUMN psp_reference TEXT;
    ALTER TABLE payments ADD COLUMN payment_description TEXT;
    ALTER TABLE payments ADD COLUMN payment_method TEXT;
    ALTER TABLE payments ADD COLUMN payment_redirect_url TEXT;
    ALTER TABLE payments ADD COLUMN metadata_json TEXT;
    ALTER TABLE payments ADD COLUMN guaranteed_until TEXT;
    ALTER TABLE payments ADD COLUMN events_count INTEGER NOT NULL DEFAULT 0;
    UPDATE payments SET
        state = json_extract(payment_json, '$.state'),
        raw_state = coalesce(json_extract(payment_json, '$.rawState'), ''),
        amount = json_extract(payment_json, '$.amount[0]'),
        currency = json_extract(payment_json, '$.amount[1]'),
        authorized = json_extract(payment_json, '$.aggregate[0][0]'),
        captured = json_extract(payment_json, '$.aggregate[1][0]'),
        cancelled = json_extract(payment_json, '$.aggregate[2][0]'),
        refunded = json_extract(payment_json, '$.aggregate[3][0]'),
        psp_reference = coalesce(json_extract(payment_json, '$.pspReference'), ''),
        payment_description = coalesce(json_extract(payment_json, '$.description'), ''),
        payment_method = coalesce(json_extract(payment_json, '$.paymentMethod'), ''),
        payment_redirect_url = json_extract(payment_json, '$.redirectUrl'),
        metadata_json = CASE WHEN json_extract(payment_json, '$.metadata') = '{}' THEN NULL
                        ELSE json_extract(payment_json, '$.metadata') END,
        guaranteed_until = json_extract(payment_json, '$.captureGuaranteedUntil')
    WHERE json_valid(payment_json);
    UPDATE payments SET state = NULL
    WHERE state IS NOT NULL AND NOT (
        json_type(payment_json, '$.state') = 'text'
        AND json_type(payment_json, '$.amount[0]') = 'integer'
        AND json_type(payment_json, '$.amount[1]') = 'text'
        AND json_array_length(payment_json, '$.aggregate') = 4
        AND json_type(payment_json, '$.aggregate[0][0]') = 'integer'
        AND json_type(payment_json, '$.aggregate[1][0]') = 'integer'
        AND json_type(payment_json, '$.aggregate[2][0]') = 'integer'
        AND json_type(payment_json, '$.aggregate[3][0]') = 'integer'
        AND json_extract(payment_json, '$.aggregate[0][1]') IS currency
        AND json_extract(payment_json, '$.aggregate[1][1]') IS currency
        AND json_extract(payment_json, '$.aggregate[2][1]') IS currency
        AND json_extract(payment_json, '$.aggregate[3][1]') IS currency
        AND coalesce(json_type(payment_json, '$.metadata'), 'object') = 'object'
        AND coalesce(json_type(payment_json, '$.captureGuaranteedUntil'), 'null') IN ('null', 'text')
        AND coalesce(json_type(payment_json, '$.redirectUrl'), 'null') IN ('null', 'text'));
    UPDATE payments SET events_count = CASE WHEN json_valid(events_json)
        THEN json_array_length(events_json) ELSE -1 END
    WHERE events_json IS NOT NULL;
    """,
    # 6: a payment's intents found without reading the whole journal. Before a money call the journal
    # looks for one pending on the payment and for the same one confirmed minutes ago; no index served
    # either (``intents_one_pending`` holds only rows with ``pending_before_v3 = 0``, which those
    # queries do not say), so each begin read every intent ever made: some 30 ms at 100,000. Start-up
    # reads every pending one. The team server's PostgreSQL journal has the same index.
    """
    CREATE INDEX intents_by_payment ON intents (msn, reference, id);
    CREATE INDEX intents_pending ON intents (id) WHERE status = 'pending';
    """,
    # 7: the list's rows packed beside the register, kept by triggers (``list_cache``).
    list_cache.MIGRATION,
    # 8: the journal's rule and audit lines kept by SQLite in the statement that writes an intent, as in
    # team mode's PostgreSQL (``journal.Journal``): no round trip from Python for each. A second intent
    # on a payment with a pending one is refused by the unique index ``intents_one_pending``, and beside
    # a pending row schema 3 left out of it by ``intents_one_pending_before_v3``. Each request of an
    # intent (its first, and each reopening) and each outcome gets its audit line from a trigger, from
    # columns the journal writes with it: what the line says beyond the intent (``request_detail``;
    # who asked again and when, ``requested_by``/``requested_at``; what a cancel without an amount
    # releases by the register's snapshot, ``released_*``; who recorded the outcome, ``finished_by``).
    # An intent begun before this version has its outcome's line written the same way (a cancel's
    # amount is read from its "requested" line, as the journal's code did).
    f"""
    ALTER TABLE intents ADD COLUMN request_detail TEXT;
    ALTER TABLE intents ADD COLUMN requested_at TEXT;
    ALTER TABLE intents ADD COLUMN requested_by TEXT;
    ALTER TABLE intents ADD COLUMN released_amount INTEGER;
    ALTER TABLE intents ADD COLUMN released_currency TEXT;
    ALTER TABLE intents ADD COLUMN finished_by TEXT;
    CREATE TRIGGER intents_one_pending_before_v3 BEFORE INSERT ON intents
    WHEN EXISTS (SELECT 1 FROM intents WHERE msn = NEW.msn AND reference = NEW.reference
                 AND status = 'pending' AND pending_before_v3 = 1)
    BEGIN
        SELECT RAISE(ABORT, 'a pending intent on this payment');
    END;
    CREATE TRIGGER intents_audit_requested AFTER INSERT ON intents
    BEGIN
{_REQUESTED_LINE}    END;
    CREATE TRIGGER intents_audit_reopened AFTER UPDATE OF status ON intents
    WHEN NEW.status = 'pending' AND OLD.status IS NOT 'pending'
    BEGIN
{_REQUESTED_LINE}    END;
    CREATE TRIGGER intents_audit_outcome AFTER UPDATE OF status ON intents
    WHEN NEW.status IS NOT 'pending' AND NEW.status IS NOT OLD.status
    BEGIN
        INSERT INTO audit (at, os_user, profile, msn, action, reference, amount, currency, result,
                           detail, idempotency_key, intent_id)
        VALUES (NEW.finished_at, coalesce(NEW.finished_by, ''), NEW.profile, NEW.msn, NEW.operation,
                NEW.reference,
                CASE WHEN NEW.amount IS NULL AND NEW.operation = 'cancel'
                     THEN (SELECT amount FROM audit WHERE intent_id = NEW.id AND result = 'requested'
                           ORDER BY id DESC LIMIT 1)
                     ELSE NEW.amount END,
                CASE WHEN NEW.amount IS NULL AND NEW.operation = 'cancel'
                     THEN (SELECT currency FROM audit WHERE intent_id = NEW.id AND result = 'requested'
                           ORDER BY id DESC LIMIT 1)
                     ELSE NEW.currency END,
                NEW.status, NEW.outcome, NEW.idempotency_key, NEW.id);
    END;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
OUR_TABLES = frozenset({"payments", "intents", "audit", "meta"})


def utc_now() -> datetime:
    return datetime.now(UTC)


def money_columns(money: Money | None) -> tuple[int | None, str | None]:
    """Money as its two columns (``amount``, ``currency``); no amount is two NULLs. A zero amount is
    an amount: it is kept as 0, never confused with "none" (``Money.__bool__`` is false for zero)."""
    return (None, None) if money is None else (money.value, money.currency.value)


def money_from_columns(amount: object, currency: object) -> Money | None:
    """The ``amount`` and ``currency`` columns back as Money (None when either is empty)."""
    if amount is None or not currency:
        return None
    return Money(int(amount), Currency(str(currency)))  # type: ignore[call-overload]


def _is_locked(error: sqlite3.Error) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


def _is_damaged(error: sqlite3.Error) -> bool:
    text = str(error).lower()
    return any(
        marker in text
        for marker in ("not a database", "malformed", "corrupt", "disk image", "file is encrypted")
    )


class Database:
    """A register file. Open with ``Database(path)``; ``close()`` when done (also a context manager)."""

    def __init__(
        self,
        path: Path,
        *,
        read_only: bool = False,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        check_later: bool = False,
    ) -> None:
        """``check_later``: leave ``PRAGMA quick_check`` (a walk of the whole file, some 100 ms at 100,000
        payments) to :meth:`check_integrity`, so the list can be read first; every write is refused
        until that check passed. Only a register that needs no write to be used (our schema, the current
        version, WAL already) opens this way; any other is checked at once, as without it."""
        self.path = Path(path)
        self.read_only = read_only
        # Read-only opens go on despite damage (to show what is left); this says what was found.
        self.damage = ""
        self._lock = threading.RLock()
        # Durable writes waiting for a group commit (``_write_durably``).
        self._queue_lock = threading.Lock()
        self._queue: list[_DurableWrite[Any]] = []
        # The register's own committing thread, for the durable writes of callers that do not wait
        # (``write_durably_soon``): started on the first, running while some are queued.
        self._committer: ThreadPoolExecutor | None = None
        self._committing = False
        self._closed = False
        self._conn: sqlite3.Connection | None = None
        # The connection of the writes made at once on the caller's thread (``_write_at_once``), opened
        # on the first one: set once never to wait for a lock nor to checkpoint, so those writes change
        # nothing of the main connection's settings and need not read them back.
        self._at_once: sqlite3.Connection | None = None
        self._setups: list[Callable[[sqlite3.Connection], object]] = []
        self._checked = False
        # How long durable commits take: whether one may be made on the caller's thread.
        self.commit_pace = CommitPace()
        # Writes made on the caller's thread since the last one on a worker thread (which may checkpoint).
        self._quick_writes = 0
        try:
            self._conn = self._connect(busy_timeout_ms)
            if check_later and not read_only and self._usable_without_writing():
                self.conn.execute("PRAGMA synchronous = NORMAL")
                return
            self._check_integrity()
            self._checked = True
            self._check_version()
            self._check_ours()
            if not read_only:
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.execute("PRAGMA synchronous = NORMAL")
                self._migrate()
        except sqlite3.Error as error:
            self.close()
            raise self._translate(error, "opening the register") from error
        except RegisterError:
            self.close()
            raise

    # -- connection ---------------------------------------------------------------------------------

    def _connect(self, busy_timeout_ms: int) -> sqlite3.Connection:
        if self.read_only:
            if not self.path.exists():
                raise RegisterError(f"The register {self.path} does not exist.", self.path)
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            conn = sqlite3.connect(
                uri, uri=True, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
            )
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
            )
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _check_ours(self) -> None:
        """Refuse, before anything is written (WAL mode included), a SQLite file that is not a register:
        one with tables but not ours. A new or empty file, or one of ours, passes."""
        tables = {
            str(row[0])
            for row in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        if not tables or (self.schema_version() >= 1 and tables >= OUR_TABLES):
            return
        shown = ", ".join(sorted(tables)[:5]) + (", …" if len(tables) > 5 else "")
        raise NotARegisterError(
            f"The file {self.path} is a SQLite database of another program (tables: {shown}), not an "
            "epay-desktop register. It was left exactly as it was; choose another file.",
            self.path,
        )

    def set_busy_timeout(self, busy_timeout_ms: int) -> None:
        """How long to wait for another program's lock from now on (opened with a short one to give up
        quickly, a register is then used with the usual one)."""
        with self._lock:
            self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RegisterError("The register is closed.", self.path)
        return self._conn

    def _at_once_conn(self) -> sqlite3.Connection:
        """The connection of the writes made at once (see ``__init__``); call with the lock held."""
        if self._conn is None:
            raise RegisterError("The register is closed.", self.path)
        if self._at_once is None:
            conn = sqlite3.connect(self.path, timeout=0, isolation_level=None, check_same_thread=False)
            try:
                conn.execute("PRAGMA busy_timeout = 0")  # another program's lock: refused, never waited
                conn.execute("PRAGMA wal_autocheckpoint = 0")  # a checkpoint waits for the disk
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA synchronous = NORMAL")
            except BaseException:
                conn.close()
                raise
            for setup in self._setups:
                setup(conn)
            self._at_once = conn
        return self._at_once

    def on_each_connection(self, setup: Callable[[sqlite3.Connection], object]) -> None:
        """Run ``setup`` on each connection the register has open now and on each it opens later (the
        writes made at once have one of their own): for tests that watch or hook the register's
        statements (a trace, a temporary trigger) wherever they run."""
        with self._lock:
            self._setups.append(setup)
            for conn in (self._conn, self._at_once):
                if conn is not None:
                    setup(conn)

    def close(self) -> None:
        with self._queue_lock:
            self._closed = True
            committer, self._committer = self._committer, None
        if committer is not None:
            committer.shutdown(wait=True)  # the writes queued by then are committed (or fail) first
        with self._lock:
            if self._at_once is not None:
                self._at_once.close()
                self._at_once = None
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- checks and migrations ----------------------------------------------------------------------

    @property
    def checked(self) -> bool:
        """Whether ``PRAGMA quick_check`` passed (False until :meth:`check_integrity` for a register
        opened with ``check_later``; writes are refused until then)."""
        return self._checked

    def _usable_without_writing(self) -> bool:
        """Cheap checks of the header and the schema (no walk of the file): ours, of this version and in
        WAL mode, so using it writes nothing before :meth:`check_integrity`. Raises as the full open does
        for a file that is not ours, too new, or not a database at all."""
        self._check_version()
        self._check_ours()
        mode = self.conn.execute("PRAGMA journal_mode").fetchone()
        return self.schema_version() == SCHEMA_VERSION and bool(mode) and str(mode[0]).lower() == "wal"

    def check_integrity(self) -> None:
        """``PRAGMA quick_check`` of a register opened with ``check_later`` (nothing when it passed
        before): ``RegisterDamagedError`` when it finds damage, and writes stay refused. It runs on a
        connection of its own, so the register can be read meanwhile (SQLite lets go of Python's lock
        while it walks the file); blocking: run it on a worker thread."""
        if self._checked:
            return
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as error:
            raise self._translate(error, "checking the register") from error
        try:
            conn.execute("PRAGMA query_only = ON")  # a check never writes, whatever happens
            self._check_integrity(conn)
        except sqlite3.Error as error:
            raise self._translate(error, "checking the register") from error
        finally:
            conn.close()
        self._checked = True

    def _check_integrity(self, conn: sqlite3.Connection | None = None) -> None:
        try:
            rows = (conn or self.conn).execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as error:
            text = str(error).lower()
            if (
                not self.read_only
                or not _is_damaged(error)
                or "not a database" in text
                or "encrypted" in text
            ):
                raise
            rows = [(str(error),)]  # damaged beyond what quick_check can walk; reads will tell
        problems = [" ".join(str(r[0]).split()) for r in rows if r and r[0] != "ok"]
        if problems and self.read_only:
            self.damage = "; ".join(problems)[:300]
            return
        if problems:
            raise RegisterDamagedError(
                f"The register {self.path} is damaged ({'; '.join(problems[:3])}). Nothing was changed. "
                "You can open it read-only to see what is left, or move it aside and start a new one.",
                self.path,
            )

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _check_version(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise RegisterTooNewError(
                f"The register {self.path} was written by a newer version of epay-desktop "
                f"(schema {version}, this version knows up to {SCHEMA_VERSION}). Update the app to open it.",
                self.path,
            )

    def _migrate(self) -> None:
        self._check_version()
        if self.schema_version() == SCHEMA_VERSION:
            return
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another instance may have migrated while we waited for the write lock.
            version = self.schema_version()
            for index in range(version, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[index]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {index + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # -- running work -------------------------------------------------------------------------------

    def _translate(self, error: sqlite3.Error, doing: str) -> RegisterError:
        if _is_locked(error):
            return RegisterLockedError(
                f"The register {self.path} is busy (another program or another copy of epay-desktop holds "
                f"it) while {doing}. Nothing was lost; try again in a moment, or close the other program.",
                self.path,
            )
        if _is_damaged(error):
            return RegisterDamagedError(
                f"The register {self.path} is damaged ({error}) while {doing}. Nothing was changed. "
                "You can open it read-only, or move it aside and start a new one.",
                self.path,
            )
        return RegisterError(f"The register {self.path} failed while {doing}: {error}", self.path)

    def read(self, doing: str, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            try:
                return work(self.conn)
            except sqlite3.Error as error:
                raise self._translate(error, doing) from error

    def _refuse_unless_writable(self, doing: str) -> None:
        """Every way of writing starts here: not to a register opened read-only, and not to one whose
        integrity check has not passed yet (``check_later``)."""
        if self.read_only:
            raise RegisterError(
                f"The register {self.path} is open read-only; cannot save while {doing}.", self.path
            )
        if not self._checked:
            raise RegisterError(
                f"The register {self.path} has not been checked for damage yet; nothing was saved while "
                f"{doing}.",
                self.path,
            )

    def write(self, doing: str, work: Callable[[sqlite3.Connection], T], *, durable: bool = False) -> T:
        """Run ``work`` in one write transaction. ``durable`` makes the commit survive power loss
        (``synchronous = FULL``): used for journal intents, which must be on disk before a request.
        Durable writes that wait for the register at the same moment share one commit (see
        ``_DurableWrite``); each still returns only once its work is on disk."""
        self._refuse_unless_writable(doing)
        if durable:
            return self._write_durably(_DurableWrite(doing, work))
        with self._lock:
            conn = self.conn
            try:
                with self._transaction(conn):
                    result = work(conn)
            except sqlite3.Error as error:
                raise self._translate(error, doing) from error
            self._quick_writes = 0  # committed with the usual automatic checkpoint
            return result

    def write_now(self, doing: str, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in one write transaction that does not wait for the disk, at once and without
        ever waiting: fit for the event loop's thread (no thread hop for a small bookkeeping write).
        ``WriteNotNowError`` (nothing written) when it would have to wait: for the connection (another
        thread is using it) or for another program's write lock (no busy timeout here). It never runs a
        WAL checkpoint (that waits for the disk): the next write on a worker thread does, as usual."""
        self._refuse_unless_writable(doing)
        return self._write_at_once(doing, work, durable=False)

    def write_durably_now(self, doing: str, work: Callable[[sqlite3.Connection], T]) -> T:
        """``write(doing, work, durable=True)`` on the caller's thread, without a thread hop: committed
        with ``synchronous = FULL`` (on disk when this returns), but only while the disk has proven fast
        (``commit_pace``: each of the recent durable commits well under a millisecond), so the loop's
        thread waits no longer than that. Otherwise, and whenever it would have to wait for anything
        (as ``write_now``), ``WriteNotNowError`` and nothing is written: the caller makes the durable
        write on a worker thread. Any other failure raises as ``write`` does, nothing written."""
        self._refuse_unless_writable(doing)
        if not self.commit_pace.proven_fast:
            raise WriteNotNowError(doing)
        return self._write_at_once(doing, work, durable=True)

    def _write_at_once(self, doing: str, work: Callable[[sqlite3.Connection], T], *, durable: bool) -> T:
        if self._quick_writes >= QUICK_WRITES_BEFORE_CHECKPOINT:
            raise WriteNotNowError(doing)  # a checkpoint is due: a worker thread's write may run it
        if not self._lock.acquire(blocking=False):
            raise WriteNotNowError(doing)
        try:
            conn = self._at_once_conn()
            if durable:
                conn.execute("PRAGMA synchronous = FULL")
            try:
                with self._transaction(conn, self.commit_pace if durable else None):
                    result = work(conn)
            except sqlite3.Error as error:
                if _is_locked(error):
                    raise WriteNotNowError(doing) from error
                raise self._translate(error, doing) from error
            finally:
                if durable:
                    conn.execute("PRAGMA synchronous = NORMAL")
            self._quick_writes += 1
            return result
        except sqlite3.Error as error:
            raise self._translate(error, doing) from error
        finally:
            self._lock.release()

    def write_durably_soon(self, doing: str, work: Callable[[sqlite3.Connection], T]) -> Future[T]:
        """``write(doing, work, durable=True)`` for a caller that must not wait (the event loop's thread):
        the write joins the queue of the next group commit and this returns at once, with a future that
        is done only once its work is on disk (its result), or failed with nothing of it written (its
        error, as ``write`` raises it). Whoever commits next takes it along: a thread waiting in
        ``write`` already, else the register's own committing thread, started when none is running.
        So a write that finds the register busy costs no thread hop of its own: the writes arriving
        while a commit waits for the disk share the next one, and each is only told when it is done.
        Once queued it is written, whatever becomes of the future's waiter (it cannot be cancelled)."""
        self._refuse_unless_writable(doing)
        future: Future[T] = Future()
        future.set_running_or_notify_cancel()
        write = _DurableWrite(doing, work, future)
        with self._queue_lock:
            if self._closed:
                raise RegisterError("The register is closed.", self.path)
            self._queue.append(write)
            start, self._committing = not self._committing, True
            if self._committer is None:
                self._committer = ThreadPoolExecutor(1, thread_name_prefix="register-commit")
            committer = self._committer
        if start:
            committer.submit(self._commit_queued)
        return future

    def _commit_queued(self) -> None:
        """The committing thread of ``write_durably_soon``: group commits until the queue is empty. It
        stops only when it finds the queue empty (under the queue's lock, where each write joins it and
        sees whether a committing thread runs), so no write is left in the queue without one."""
        while True:
            with self._lock:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                    if not group:
                        self._committing = False
                        return
                self._commit_together(group)

    @property
    def durable_writes_waiting(self) -> int:
        """How many durable writes are queued for the next group commit."""
        with self._queue_lock:
            return len(self._queue)

    def _write_durably(self, write: _DurableWrite[T]) -> T:
        """Group commit. The write joins the queue; whoever holds the connection next takes every write
        queued by then and commits them together (``_commit_together``), so while one commit waits for
        the disk, the writes arriving meanwhile gather for the next. The lock is held from taking a
        group to marking it done, so a write not done once its caller holds the lock is still in the
        queue, and that caller commits it."""
        with self._queue_lock:
            self._queue.append(write)
        with self._lock:
            if not write.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._commit_together(group)
        return write.outcome()

    def _commit_together(self, group: list[_DurableWrite[Any]]) -> None:
        """Run each write of ``group`` in a savepoint of one transaction and commit it with
        ``synchronous = FULL``. A write whose work fails is rolled back alone and gets its own error; if
        the transaction itself fails (the commit included), nothing of it was written and every write
        that had not failed on its own gets that error. Each write is marked done only after the commit
        returned or failed: no caller can send a request whose intent is not on disk."""
        failure: BaseException | None = None
        try:
            if not self._group_committed_at_once(group):
                self._group_commit(self.conn, group)
                self._quick_writes = 0  # committed with the usual automatic checkpoint
        except BaseException as error:
            failure = error
        for write in group:
            if failure is not None and write.error is None:
                write.failed(self._translated(failure, write.doing))
            write.done = True
            write.tell()

    def _group_committed_at_once(self, group: list[_DurableWrite[Any]]) -> bool:
        """Commit ``group`` on the connection of the writes made at once, when that needs no wait (no
        other program holds the write lock, no checkpoint due): the writes at once that follow (the
        outcome of the intent just begun) then find that connection's cache still valid; SQLite drops a
        connection's cache whenever another connection has written since its last transaction, and then
        reads again every page the next statement touches. False (nothing written) when it cannot: the
        caller commits on the main connection, with its busy timeout and its automatic checkpoint."""
        if self._quick_writes >= QUICK_WRITES_BEFORE_CHECKPOINT:
            return False
        conn = self._at_once_conn()
        conn.execute("PRAGMA synchronous = FULL")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except BaseException as error:
            conn.execute("PRAGMA synchronous = NORMAL")  # the writes at once after it never wait for the disk
            if isinstance(error, sqlite3.OperationalError) and _is_locked(error):
                return False
            raise
        self._group_commit(conn, group, begun=True)
        self._quick_writes += 1
        return True

    def _group_commit(
        self, conn: sqlite3.Connection, group: list[_DurableWrite[Any]], *, begun: bool = False
    ) -> None:
        """Each write of ``group`` in a savepoint of one transaction (begun already when ``begun``),
        committed with ``synchronous = FULL``."""
        if not begun:
            conn.execute("PRAGMA synchronous = FULL")
        try:
            with self._transaction(conn, self.commit_pace, beside_others=True, begun=begun):
                for write in group:
                    conn.execute("SAVEPOINT durable_write")
                    try:
                        write.result = write.work(conn)
                    except Exception as error:
                        conn.execute("ROLLBACK TO durable_write")
                        write.failed(self._translated(error, write.doing))
                    conn.execute("RELEASE durable_write")
        finally:
            conn.execute("PRAGMA synchronous = NORMAL")

    def _translated(self, error: BaseException, doing: str) -> BaseException:
        if not isinstance(error, sqlite3.Error):
            return error
        translated = self._translate(error, doing)
        translated.__cause__ = error
        return translated

    @staticmethod
    def _transaction(
        conn: sqlite3.Connection,
        pace: CommitPace | None = None,
        *,
        beside_others: bool = False,
        begun: bool = False,
    ) -> _Transaction:
        """One write transaction (``begun``: its ``BEGIN`` made already); with ``pace``, a durable one
        whose commit is timed into it (``beside_others``: on a worker thread, see ``CommitPace.record``)."""
        return _Transaction(conn, pace, beside_others, begun)

    def get_meta(self, key: str) -> str | None:
        return get_meta(self, SQLITE, key)

    def set_meta(self, key: str, value: str) -> None:
        set_meta(self, SQLITE, key, value)


class _Transaction:
    """``Database._transaction``: a context manager written as a class (run before and after every
    money call on the loop's thread, where a generator-made one costs more than its work in Python)."""

    __slots__ = ("begun", "beside_others", "conn", "pace")

    def __init__(
        self, conn: sqlite3.Connection, pace: CommitPace | None, beside_others: bool, begun: bool
    ) -> None:
        self.conn = conn
        self.pace = pace
        self.beside_others = beside_others
        self.begun = begun

    def __enter__(self) -> None:
        if not self.begun:
            self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        conn = self.conn
        if kind is None:
            try:
                pace = self.pace
                if pace is None:
                    conn.execute("COMMIT")
                    return
                started = pace.clock()
                conn.execute("COMMIT")
                pace.record(pace.clock() - started, beside_others=self.beside_others)
                return
            except BaseException:
                self._roll_back()
                raise
        self._roll_back()

    def _roll_back(self) -> None:
        # Also when the commit itself failed (a deferred constraint, a full disk): SQLite may keep the
        # transaction open then, and the next write on this connection must not join it.
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


class _DurableWrite(Generic[T]):
    """One durable write waiting for (or done by) a group commit: its work, and what came of it."""

    def __init__(
        self, doing: str, work: Callable[[sqlite3.Connection], T], future: Future[T] | None = None
    ) -> None:
        self.doing = doing
        self.work = work
        self.result: T | None = None
        self.error: BaseException | None = None
        self.done = False
        # A ``write_durably_soon`` caller's: told the outcome once it is done.
        self.future = future

    def failed(self, error: BaseException) -> None:
        self.error = error
        self.result = None

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return cast(T, self.result)

    def tell(self) -> None:
        """Its outcome to the future of a ``write_durably_soon`` caller (nothing for a waiting thread)."""
        if self.future is None:
            return
        if self.error is not None:
            self.future.set_exception(self.error)
        else:
            self.future.set_result(cast(T, self.result))


def _statements(script: str) -> list[str]:
    """The statements of ``script``; a trigger's body (statements ending in ``;`` inside ``BEGIN …
    END``) stays in its ``CREATE TRIGGER``."""
    found: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                found.append(pending.strip().removesuffix(";").strip())
            pending = ""
    if pending.strip(" \n;"):
        found.append(pending.strip().removesuffix(";").strip())
    return found


def move_aside(path: Path, *, now: datetime | None = None) -> Path:
    """Rename a register the person chose to give up on (with its -wal and -shm files) to
    ``<name>.damaged-YYYYmmdd-HHMMSS``; never deletes anything. Returns the new path."""
    stamp = (now or utc_now()).strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    counter = 1
    while target.exists():
        target = path.with_name(f"{path.name}.damaged-{stamp}-{counter}")
        counter += 1
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    path.rename(target)
    return target
