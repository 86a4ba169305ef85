"""Persistence of the payment register, snapshots, the operation journal and the audit log: SQLite
(stdlib ``sqlite3``, ``Store``, the embedded default) and PostgreSQL (``PgStore``, team mode) behind
one interface (``store.interface.PaymentStore``).

Belongs here: schema, migrations, queries. May import ``domain`` only. No Qt, no HTTP. The API is
synchronous; the services call it through ``asyncio.to_thread``. The exports load lazily (module
``__getattr__``, as in ``services``): the window lists a register's first rows with ``db`` and
``register`` before the journal and the audit log are loaded, and the desktop never loads psycopg
(``PgStore``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from epay_desktop import lazy

if TYPE_CHECKING:
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
    from epay_desktop.store.postgres import PgStore
    from epay_desktop.store.register import NewEntry, Register
    from epay_desktop.store.register_file import Store

_EXPORTS: dict[str, str] = {
    "AuditEntry": "epay_desktop.store.audit",
    "AuditLog": "epay_desktop.store.audit",
    "AuditRecords": "epay_desktop.store.interface",
    "BUSY_TIMEOUT_MS": "epay_desktop.store.db",
    "Database": "epay_desktop.store.db",
    "IdempotencyKeyUsedError": "epay_desktop.store.journal",
    "Intent": "epay_desktop.store.journal",
    "IntentFinishedError": "epay_desktop.store.journal",
    "IntentPendingError": "epay_desktop.store.journal",
    "IntentRequest": "epay_desktop.store.journal",
    "IntentStatus": "epay_desktop.store.journal",
    "Journal": "epay_desktop.store.journal",
    "JournalRecords": "epay_desktop.store.interface",
    "NewEntry": "epay_desktop.store.register",
    "NotARegisterError": "epay_desktop.store.db",
    "Operation": "epay_desktop.store.journal",
    "PaymentStore": "epay_desktop.store.interface",
    "PgStore": "epay_desktop.store.postgres",
    "RecentlyConfirmedError": "epay_desktop.store.journal",
    "Register": "epay_desktop.store.register",
    "RegisterDamagedError": "epay_desktop.store.db",
    "RegisterError": "epay_desktop.store.db",
    "RegisterLockedError": "epay_desktop.store.db",
    "RegisterRecords": "epay_desktop.store.interface",
    "RegisterTooNewError": "epay_desktop.store.db",
    "SCHEMA_VERSION": "epay_desktop.store.db",
    "SnapshotError": "epay_desktop.store.codec",
    "Store": "epay_desktop.store.register_file",
    "StoreDatabase": "epay_desktop.store.interface",
    "move_aside": "epay_desktop.store.db",
    "safe_cell": "epay_desktop.store.audit",
}

__all__ = [
    "BUSY_TIMEOUT_MS",
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


__getattr__, __dir__ = lazy.exports(__name__, _EXPORTS, globals())
