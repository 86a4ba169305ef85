"""Persistence of the payment register, snapshots, the operation journal and the audit log: SQLite
(stdlib ``sqlite3``, ``Store``, the embedded default) and PostgreSQL (``PgStore``, team mode) behind
one interface (``store.interface.PaymentStore``).

Belongs here: schema, migrations, queries. May import ``domain`` only. No Qt, no HTTP. The API is
synchronous; the services call it through ``asyncio.to_thread``. ``PgStore`` is imported on first use,
so the desktop never loads psycopg.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from epay_desktop.store.audit import AuditEntry, AuditLog, safe_cell
from epay_desktop.store.codec import SnapshotError
from epay_desktop.store.db import (
    BUSY_TIMEOUT_MS,
    SCHEMA_VERSION,
    Database,
    NotARegisterError,
    RegisterDamagedError,
    RegisterError,
    RegisterLockedError,
    RegisterTooNewError,
    move_aside,
)
from epay_desktop.store.interface import (
    AuditRecords,
    JournalRecords,
    PaymentStore,
    RegisterRecords,
    StoreDatabase,
)
from epay_desktop.store.journal import (
    IdempotencyKeyUsedError,
    Intent,
    IntentFinishedError,
    IntentPendingError,
    IntentRequest,
    IntentStatus,
    Journal,
    Operation,
    RecentlyConfirmedError,
)
from epay_desktop.store.register import NewEntry, Register

if TYPE_CHECKING:
    from epay_desktop.store.postgres import PgStore


class Store:
    """One register file with its three parts sharing one connection."""

    def __init__(
        self,
        path: Path,
        *,
        read_only: bool = False,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        check_later: bool = False,
    ) -> None:
        """``check_later``: see ``Database`` (read first, ``db.check_integrity()`` before any write)."""
        self.db = Database(
            path, read_only=read_only, busy_timeout_ms=busy_timeout_ms, check_later=check_later
        )
        self.register = Register(self.db)
        self.journal = Journal(self.db)
        self.audit = AuditLog(self.db)

    @property
    def path(self) -> Path:
        return self.db.path

    @property
    def location(self) -> str:
        return str(self.db.path)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


if TYPE_CHECKING:

    def _implements_the_interface(store: Store) -> PaymentStore:
        return store


def __getattr__(name: str) -> object:
    if name == "PgStore":
        from epay_desktop.store.postgres import PgStore

        return PgStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SCHEMA_VERSION",
    "AuditEntry",
    "AuditLog",
    "AuditRecords",
    "Database",
    "IdempotencyKeyUsedError",
    "Intent",
    "IntentFinishedError",
    "IntentPendingError",
    "IntentRequest",
    "IntentStatus",
    "Journal",
    "JournalRecords",
    "NewEntry",
    "NotARegisterError",
    "Operation",
    "PaymentStore",
    "PgStore",
    "RecentlyConfirmedError",
    "Register",
    "RegisterDamagedError",
    "RegisterError",
    "RegisterLockedError",
    "RegisterRecords",
    "RegisterTooNewError",
    "SnapshotError",
    "Store",
    "StoreDatabase",
    "move_aside",
    "safe_cell",
]
