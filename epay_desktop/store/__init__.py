"""SQLite persistence (stdlib ``sqlite3``): the payment register, snapshots, the operation journal,
the audit log.

Belongs here: schema, migrations, queries. May import ``domain`` only. No Qt, no HTTP. The API is
synchronous; the services call it through ``asyncio.to_thread``.
"""

from __future__ import annotations

from pathlib import Path

from epay_desktop.store.audit import AuditEntry, AuditLog
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
from epay_desktop.store.journal import (
    IdempotencyKeyUsedError,
    Intent,
    IntentFinishedError,
    IntentPendingError,
    IntentStatus,
    Journal,
    Operation,
)
from epay_desktop.store.register import NewEntry, Register


class Store:
    """One register file with its three parts sharing one connection."""

    def __init__(
        self, path: Path, *, read_only: bool = False, busy_timeout_ms: int = BUSY_TIMEOUT_MS
    ) -> None:
        self.db = Database(path, read_only=read_only, busy_timeout_ms=busy_timeout_ms)
        self.register = Register(self.db)
        self.journal = Journal(self.db)
        self.audit = AuditLog(self.db)

    @property
    def path(self) -> Path:
        return self.db.path

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


__all__ = [
    "SCHEMA_VERSION",
    "AuditEntry",
    "AuditLog",
    "Database",
    "IdempotencyKeyUsedError",
    "Intent",
    "IntentFinishedError",
    "IntentPendingError",
    "IntentStatus",
    "Journal",
    "NewEntry",
    "NotARegisterError",
    "Operation",
    "Register",
    "RegisterDamagedError",
    "RegisterError",
    "RegisterLockedError",
    "RegisterTooNewError",
    "SnapshotError",
    "Store",
    "move_aside",
]
