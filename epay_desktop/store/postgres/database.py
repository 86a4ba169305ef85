"""One PostgreSQL database shared by the instances of the team service: the pool, migrations, errors.

- A ``psycopg_pool.ConnectionPool`` (synchronous, like the SQLite store: the services call the store
  through ``asyncio.to_thread``, so each worker thread borrows its own connection). Every ``read`` or
  ``write`` runs in one transaction on one borrowed connection, committed when the work returns and
  rolled back when it raises.
- Sessions run in UTC and with a ``lock_timeout``: a row held too long by another instance raises
  ``RegisterLockedError`` instead of waiting forever.
- psycopg errors never reach a person as tracebacks: they become ``RegisterError`` and its subclasses,
  with the database's address (never its password) and what was being done.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from epay_desktop.store.db import BUSY_TIMEOUT_MS, RegisterError, RegisterLockedError, RegisterTooNewError
from epay_desktop.store.dialect import POSTGRES, get_meta, set_meta
from epay_desktop.store.postgres.migrations import (
    MIGRATION_LOCK_KEY,
    MIGRATIONS,
    SCHEMA_MIGRATIONS_TABLE,
    SCHEMA_VERSION,
)

T = TypeVar("T")
Connection = psycopg.Connection[tuple[Any, ...]]

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10

# Why the writes of the current task happen ("refresh", "webhook", an operation) and for whom: the
# live triggers (migration 4) put both in the note every desktop is sent. A context variable, so it
# follows the work into the thread ``asyncio.to_thread`` runs it in.
_cause: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "epay_live_cause", default=None
)


@contextlib.contextmanager
def caused_by(action: str, agent: str = "") -> Iterator[None]:
    """Within this block, the changes this task writes are told to desktops as ``action`` by ``agent``."""
    token = _cause.set((action, agent))
    try:
        yield
    finally:
        _cause.reset(token)


def describe(conninfo: str) -> str:
    """``user@host:port/dbname`` for messages; the password and other options are left out."""
    try:
        parts = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "(unreadable connection string)"
    host = str(parts.get("host") or "localhost")
    port = str(parts.get("port") or "5432")
    user = f"{parts['user']}@" if parts.get("user") else ""
    return f"postgresql://{user}{host}:{port}/{parts.get('dbname') or ''}"


class PgDatabase:
    """A pool of connections to one database. ``migrate=False`` is for a role that may not change the
    schema: it only checks that the schema is the one this version knows."""

    read_only = False  # writes go through the team service's checks, not a read-only open
    damage = ""  # PostgreSQL checks its own pages; there is no salvage mode as for a SQLite file

    def __init__(
        self,
        conninfo: str,
        *,
        migrate: bool = True,
        min_size: int = 1,
        max_size: int = 8,
        lock_timeout_ms: int = BUSY_TIMEOUT_MS,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> None:
        self.location = describe(conninfo)
        self._conninfo = conninfo
        self._connect_timeout_s = connect_timeout_s
        self._lock_timeout_ms = int(lock_timeout_ms)
        self._pool: ConnectionPool[Connection] | None = None
        try:
            self._prepare_schema(migrate)
            pool: ConnectionPool[Connection] = ConnectionPool(
                conninfo,
                min_size=min_size,
                max_size=max_size,
                open=False,
                configure=self._configure,
                check=ConnectionPool.check_connection,
                timeout=connect_timeout_s,
                name=f"epay-store {self.location}",
                kwargs={"connect_timeout": max(1, int(connect_timeout_s))},
            )
            self._pool = pool
            pool.open(wait=True, timeout=connect_timeout_s)
        except psycopg.Error as error:
            self.close()
            raise self._translate(error, "opening the register") from error
        except RegisterError:
            self.close()
            raise

    # -- connections --------------------------------------------------------------------------------

    def _configure(self, conn: Connection) -> None:
        conn.execute("SELECT set_config('TimeZone', 'UTC', false)")
        conn.execute("SELECT set_config('lock_timeout', %s, false)", (f"{self._lock_timeout_ms}ms",))
        conn.commit()

    def _connect(self) -> Connection:
        conn: Connection = psycopg.connect(
            self._conninfo, connect_timeout=max(1, int(self._connect_timeout_s))
        )
        self._configure(conn)
        return conn

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def __enter__(self) -> PgDatabase:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------------------------

    @staticmethod
    def _version(conn: Connection) -> int:
        exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return 0
        row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
        return int(row[0]) if row else 0

    def _check_not_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise RegisterTooNewError(
                f"The team database {self.location} was written by a newer version of epay-desktop "
                f"(schema {version}, this version knows up to {SCHEMA_VERSION}). "
                "Update epay-desktop to use this database.",
                self.location,
            )

    def _prepare_schema(self, migrate: bool) -> None:
        with self._connect() as conn:
            version = self._version(conn)
            conn.commit()
            self._check_not_newer(version)
            if version == SCHEMA_VERSION:
                return
            if not migrate:
                raise RegisterError(
                    f"The team database {self.location} has schema {version}; this version needs "
                    f"{SCHEMA_VERSION}. Open it once with a role that may change the schema to migrate it.",
                    self.location,
                )
            with conn.transaction():
                # Another instance may be migrating: wait for it, then see what is left to do.
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
                conn.execute(SCHEMA_MIGRATIONS_TABLE)
                version = self._version(conn)
                self._check_not_newer(version)
                for index in range(version, SCHEMA_VERSION):
                    conn.execute(MIGRATIONS[index])
                    conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (index + 1,))
                    log.info("team database %s migrated to schema %d", self.location, index + 1)

    def schema_version(self) -> int:
        return self.read("reading the schema version", self._version)

    # -- running work -------------------------------------------------------------------------------

    @property
    def pool(self) -> ConnectionPool[Connection]:
        if self._pool is None:
            raise RegisterError("The register is closed.", self.location)
        return self._pool

    def _translate(self, error: psycopg.Error, doing: str) -> RegisterError:
        where = self.location
        if isinstance(
            error,
            errors.LockNotAvailable | errors.DeadlockDetected | errors.SerializationFailure,
        ):
            return RegisterLockedError(
                f"The team database {where} is busy (another agent or instance holds the same rows) while "
                f"{doing}. Nothing was lost; try again in a moment.",
                where,
            )
        if isinstance(error, PoolTimeout):
            return RegisterError(
                f"No connection to the team database {where} could be had in time while {doing} (it is "
                "out of reach or every connection is busy). Nothing was lost; try again in a moment.",
                where,
            )
        if isinstance(error, psycopg.OperationalError):
            return RegisterError(
                f"The team database {where} cannot be reached while {doing} ({str(error).strip()}). "
                "Nothing was lost; check that the server runs and try again.",
                where,
            )
        diag = error.diag
        said = diag.message_primary or str(error).strip()
        if diag.constraint_name and diag.constraint_name not in said:
            said = f"{said} ({diag.constraint_name})"
        return RegisterError(f"The team database {where} refused {doing}: {said}", where)

    def read(self, doing: str, work: Callable[[Connection], T]) -> T:
        try:
            with self.pool.connection() as conn:
                return work(conn)
        except psycopg.Error as error:
            raise self._translate(error, doing) from error

    def write(self, doing: str, work: Callable[[Connection], T], *, durable: bool = False) -> T:
        """Run ``work`` in one transaction. ``durable``: the commit waits for the disk even where the
        server was set to ``synchronous_commit = off`` (any stronger setting is kept as it is)."""
        try:
            with self.pool.connection() as conn:
                if durable:
                    conn.execute(
                        "SELECT set_config('synchronous_commit', 'on', true) "
                        "WHERE current_setting('synchronous_commit') = 'off'"
                    )
                cause = _cause.get()
                if cause is not None:
                    conn.execute(
                        "SELECT set_config('epay.live_action', %s, true), "
                        "set_config('epay.live_agent', %s, true)",
                        cause,
                    )
                return work(conn)
        except psycopg.Error as error:
            raise self._translate(error, doing) from error

    def get_meta(self, key: str) -> str | None:
        return get_meta(self, POSTGRES, key)

    def set_meta(self, key: str, value: str) -> None:
        set_meta(self, POSTGRES, key, value)
