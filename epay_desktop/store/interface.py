"""What every store offers: the register, the journal and the audit log of one back-end.

Two back-ends implement it: ``Store`` (one SQLite file, the desktop's embedded default) and
``PgStore`` (PostgreSQL, shared by the instances of the team service). Both are synchronous and safe to
call from several threads; the services call them through ``asyncio.to_thread``. One contract test
suite (``tests/store/test_contract.py``) runs against both, so a rule kept by one and not the other is
a failing test, not a surprise in production.

The register, the journal and the audit log each have one base class over either database (their
queries written once, the differences as data in ``store.dialect``): ``RegisterRecords``,
``JournalRecords`` and ``AuditRecords`` are those classes, and each back-end's part says only what is
its own. The connections differ more (a SQLite file is opened, checked and salvaged; PostgreSQL is a
pool) and are described here as a protocol.
"""

from __future__ import annotations

from typing import Protocol

from epay_desktop.store.audit import AuditRecords
from epay_desktop.store.journal import JournalRecords
from epay_desktop.store.register import RegisterRecords


class StoreDatabase(Protocol):
    """The connection side: whether writes are allowed, what damage was found, small settings."""

    @property
    def read_only(self) -> bool: ...

    @property
    def damage(self) -> str: ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def schema_version(self) -> int: ...

    def close(self) -> None: ...


class PaymentStore(Protocol):
    """One back-end's register, journal and audit log."""

    @property
    def db(self) -> StoreDatabase: ...

    @property
    def register(self) -> RegisterRecords: ...

    @property
    def journal(self) -> JournalRecords: ...

    @property
    def audit(self) -> AuditRecords: ...

    @property
    def location(self) -> str:
        """Where the data lives, for messages: a file path, or a database address without password."""
        ...

    def close(self) -> None: ...


__all__ = [
    "AuditRecords",
    "JournalRecords",
    "PaymentStore",
    "RegisterRecords",
    "StoreDatabase",
]
