"""``Store``: one register file (SQLite) with its three parts, the register, the journal and the audit
log, sharing one connection (``Database``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from epay_desktop.store.audit import AuditLog
from epay_desktop.store.db import BUSY_TIMEOUT_MS, Database
from epay_desktop.store.journal import Journal
from epay_desktop.store.register import Register

if TYPE_CHECKING:
    from epay_desktop.store.interface import PaymentStore


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
        db = Database(path, read_only=read_only, busy_timeout_ms=busy_timeout_ms, check_later=check_later)
        self._compose(db, Register(db))

    @classmethod
    def over(cls, db: Database, register: Register) -> Store:
        """The store of ``db``, opened already with its ``register`` (the window lists the register's
        first rows before the journal and the audit log are loaded; see ``app.listing``)."""
        store = cls.__new__(cls)
        store._compose(db, register)
        return store

    def _compose(self, db: Database, register: Register) -> None:
        self.db = db
        self.register = register
        self.journal = Journal(db)
        self.audit = AuditLog(db)

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


__all__ = ["Store"]
