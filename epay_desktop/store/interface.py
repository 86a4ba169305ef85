"""What every store offers: the register, the journal and the audit log of one back-end.

Two back-ends implement it: ``Store`` (one SQLite file, the desktop's embedded default) and
``PgStore`` (PostgreSQL, shared by the instances of the team service). Both are synchronous and safe to
call from several threads; the services call them through ``asyncio.to_thread``. One contract test
suite (``tests/store/test_contract.py``) runs against both, so a rule kept by one and not the other is
a failing test, not a surprise in production.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from epay_desktop.domain import Money, Payment, PaymentEvent, TrackedPayment
from epay_desktop.store.audit import AuditEntry
from epay_desktop.store.journal import Intent, IntentStatus, Operation
from epay_desktop.store.register import NewEntry


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


class RegisterRecords(Protocol):
    """Which payments are tracked, and the last snapshot of each."""

    @property
    def unreadable_rows(self) -> int: ...

    @property
    def skipped_rows(self) -> list[str]:
        """Rows the last ``all`` left out because a cell in them cannot be read (what and why)."""
        ...

    def add(
        self, msn: str, entries: Iterable[NewEntry], *, now: datetime | None = None
    ) -> tuple[list[str], list[str]]: ...

    def remove(self, msn: str, reference: str) -> bool: ...

    def contains(self, msn: str, reference: str) -> bool: ...

    def get(self, msn: str, reference: str) -> TrackedPayment | None: ...

    def redirect_url(self, msn: str, reference: str) -> str | None: ...

    def events_of(self, msn: str, reference: str) -> tuple[PaymentEvent, ...] | None:
        """The saved event log of one payment; None when none was saved (not fetched yet, or not
        tracked); ``()`` when the log is known and empty. Raises ``SnapshotError`` when it cannot be
        read."""
        ...

    def all(self, msn: str) -> list[TrackedPayment]:
        """Every tracked payment of ``msn``, newest first, without event logs: ``events`` is None (not
        loaded) and ``last_event_at`` is the newest saved event's time; ``events_of`` reads a log."""
        ...

    def references(self, msn: str) -> list[str]: ...

    def count(self, msn: str | None = None) -> int: ...

    def save_snapshot(
        self,
        msn: str,
        payment: Payment,
        events: Sequence[PaymentEvent] | None,
        *,
        fetched_at: datetime | None = None,
        fetch_error: str = "",
    ) -> TrackedPayment: ...

    def save_fetch_error(self, msn: str, reference: str, error: str) -> TrackedPayment | None: ...

    def set_redirect_url(self, msn: str, reference: str, url: str) -> None: ...


class JournalRecords(Protocol):
    """Money-moving intents, each committed before its request is sent; at most one pending per payment."""

    @property
    def skipped(self) -> list[str]:
        """Entries the last ``pending`` or ``all`` left out because a cell in them cannot be read."""
        ...

    def begin(
        self,
        *,
        operation: Operation,
        profile: str,
        msn: str,
        reference: str,
        amount: Money | None,
        idempotency_key: str,
        os_user: str,
        now: datetime | None = None,
        audit_detail: str = "",
        repeat_since: datetime | None = None,
    ) -> Intent: ...

    def note_attempt(self, intent_id: int) -> int: ...

    def finish(
        self,
        intent_id: int,
        status: IntentStatus,
        outcome: str,
        *,
        os_user: str,
        now: datetime | None = None,
    ) -> Intent: ...

    def get(self, intent_id: int) -> Intent | None: ...

    def pending(
        self, *, profile: str | None = None, msn: str | None = None, reference: str | None = None
    ) -> list[Intent]: ...

    def confirmed_since(
        self, *, profile: str, msn: str, reference: str, operation: Operation, since: datetime
    ) -> list[Intent]:
        """Intents of ``operation`` on the payment whose success the API confirmed (succeeded or
        reconciled) at or after ``since``, newest first (the rule ``begin``'s ``repeat_since`` applies)."""
        ...

    def all(self, limit: int = 1000) -> list[Intent]: ...


class AuditRecords(Protocol):
    """Who did what, when, with what result; append-only."""

    def record(
        self,
        *,
        os_user: str,
        profile: str,
        msn: str,
        action: str,
        result: str,
        reference: str = "",
        amount: Money | None = None,
        detail: str = "",
        idempotency_key: str = "",
        now: datetime | None = None,
    ) -> int: ...

    def entries(self, limit: int = 1000, offset: int = 0) -> list[AuditEntry]: ...

    def export_csv(self, path: Path) -> int: ...


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
