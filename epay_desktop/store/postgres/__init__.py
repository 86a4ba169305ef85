"""The PostgreSQL store (team mode): the register, journal and audit of ``store.interface`` in one
database shared by any number of instances of the team service. psycopg 3, synchronous, with a
connection pool: the services call it through ``asyncio.to_thread``, as they call the SQLite store.

Only the team service holds the database's credentials; desktops never connect to it. What must hold
whatever the service does (one pending intent per payment, an append-only audit stamped by the
database, intents that cannot be rewritten) is kept by the database itself (``migrations``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from epay_desktop.store.db import BUSY_TIMEOUT_MS
from epay_desktop.store.postgres.accounts import AgentExistsError, AgentRecord, PgAccounts
from epay_desktop.store.postgres.activity import LastAction, PgActivity
from epay_desktop.store.postgres.approvals import ApprovalItem, ApprovalRequest, PgApprovals
from epay_desktop.store.postgres.audit import PgAuditLog
from epay_desktop.store.postgres.database import CONNECT_TIMEOUT_S, PgDatabase, caused_by, describe
from epay_desktop.store.postgres.history import JournalLine, PgHistory
from epay_desktop.store.postgres.journal import PgJournal
from epay_desktop.store.postgres.live import LiveNote, PgLiveLog
from epay_desktop.store.postgres.migrations import SCHEMA_VERSION, SERVICE_GRANTS
from epay_desktop.store.postgres.register import PgRegister


class PgStore:
    """One PostgreSQL database with its three parts sharing one connection pool."""

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
        self.db = PgDatabase(
            conninfo,
            migrate=migrate,
            min_size=min_size,
            max_size=max_size,
            lock_timeout_ms=lock_timeout_ms,
            connect_timeout_s=connect_timeout_s,
        )
        self.register = PgRegister(self.db)
        self.journal = PgJournal(self.db)
        self.audit = PgAuditLog(self.db)
        self.accounts = PgAccounts(self.db)
        self.activity = PgActivity(self.db)
        self.approvals = PgApprovals(self.db)
        self.live = PgLiveLog(self.db)
        self.history = PgHistory(self.db)

    @property
    def location(self) -> str:
        return self.db.location

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> PgStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def grant_service_role(conninfo: str, role: str) -> None:
    """As the schema's owner (``conninfo``), give the team service's ``role`` what it needs and no
    more (``migrations.SERVICE_GRANTS``). The service then opens ``PgStore(..., migrate=False)``."""
    with psycopg.connect(conninfo) as conn:
        for grant in SERVICE_GRANTS:
            conn.execute(sql.SQL(grant).format(role=sql.Identifier(role)))


if TYPE_CHECKING:
    from epay_desktop.store.interface import PaymentStore

    def _implements_the_interface(store: PgStore) -> PaymentStore:
        return store


__all__ = [
    "SCHEMA_VERSION",
    "AgentExistsError",
    "AgentRecord",
    "ApprovalItem",
    "ApprovalRequest",
    "JournalLine",
    "LastAction",
    "LiveNote",
    "PgAccounts",
    "PgActivity",
    "PgApprovals",
    "PgAuditLog",
    "PgDatabase",
    "PgHistory",
    "PgJournal",
    "PgLiveLog",
    "PgRegister",
    "PgStore",
    "caused_by",
    "describe",
    "grant_service_role",
]
