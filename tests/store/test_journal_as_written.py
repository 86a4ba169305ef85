"""What the SQLite journal hands back from ``begin`` and ``finish`` is the intent exactly as the file holds
it, read by another connection, though it is built from what was written (``begin``) or returned by the
write itself (``finish``, ``UPDATE … RETURNING``; read back on a SQLite too old for that). Real SQLite
files."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from epay_desktop.domain import Currency, Money
from epay_desktop.store import (
    IdempotencyKeyUsedError,
    Intent,
    IntentPendingError,
    IntentStatus,
    Operation,
    Store,
)
from epay_desktop.store import journal as journal_module

OSLO_WINTER = timezone(timedelta(hours=1))


def held(store: Store, intent_id: int) -> Intent:
    with Store(store.path) as other:  # another connection: what a restart would read
        intent = other.journal.get(intent_id)
    assert intent is not None
    return intent


def begin(store: Store, key: str, operation: Operation, *, attempting: bool, now: datetime) -> Intent:
    return store.journal.begin(
        operation=operation,
        profile="Shop",
        msn="123456",
        reference="order-12345678",
        amount=None if operation is Operation.CANCEL else Money(4000, Currency.NOK),
        idempotency_key=key,
        os_user="u",
        now=now,
        attempting=attempting,
    )


@pytest.mark.parametrize("operation", [Operation.CAPTURE, Operation.CANCEL, Operation.REFUND])
@pytest.mark.parametrize("attempting", [True, False])
@pytest.mark.parametrize(
    "now",
    [datetime(2026, 12, 1, 18, 0, 0, 123456, tzinfo=UTC), datetime(2026, 12, 1, 19, 0, tzinfo=OSLO_WINTER)],
)
def test_a_begun_intent_is_the_one_the_journal_holds(
    tmp_path: Path, operation: Operation, attempting: bool, now: datetime
) -> None:
    with Store(tmp_path / "register.sqlite3") as store:
        intent = begin(store, "key-as-written", operation, attempting=attempting, now=now)
        assert intent == held(store, intent.id)
        assert (intent.status, intent.attempts) == (IntentStatus.PENDING, 1 if attempting else 0)
        assert intent.last_attempt_at == (now if attempting else None)


@pytest.mark.parametrize("attempting", [True, False])
def test_a_refused_intent_begun_again_with_its_key_is_the_one_the_journal_holds(
    tmp_path: Path, attempting: bool
) -> None:
    now = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    with Store(tmp_path / "register.sqlite3") as store:
        first = begin(store, "key-again", Operation.CAPTURE, attempting=True, now=now)
        store.journal.finish(first.id, IntentStatus.FAILED, "Refused: try again later", os_user="u")
        again = begin(store, "key-again", Operation.CAPTURE, attempting=attempting, now=now)
        assert again == held(store, first.id)
        assert (again.id, again.status, again.attempts) == (first.id, IntentStatus.PENDING, 1 + attempting)
        assert again.outcome == (first.outcome if attempting else "")


def test_refusals_found_by_the_unique_indexes_write_nothing(tmp_path: Path) -> None:
    now = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    with Store(tmp_path / "register.sqlite3") as store:
        first = begin(store, "key-first", Operation.CAPTURE, attempting=True, now=now)
        store.journal.finish(first.id, IntentStatus.SUCCEEDED, "Captured", os_user="u")
        lines = len(store.audit.entries(100))
        with pytest.raises(IdempotencyKeyUsedError):  # confirmed: its key is never reopened
            begin(store, "key-first", Operation.CAPTURE, attempting=True, now=now)
        with pytest.raises(IdempotencyKeyUsedError):  # another operation's key
            begin(store, "key-first", Operation.CANCEL, attempting=True, now=now)
        pending = begin(store, "key-second", Operation.CANCEL, attempting=True, now=now)
        with pytest.raises(IntentPendingError):
            begin(store, "key-third", Operation.CAPTURE, attempting=True, now=now)
        assert [i.idempotency_key for i in store.journal.all()] == ["key-second", "key-first"]
        assert held(store, first.id).status is IntentStatus.SUCCEEDED
        assert held(store, pending.id) == pending
        assert len(store.audit.entries(100)) == lines + 1  # only the second's "requested" line


@pytest.mark.parametrize("returning", [True, False], ids=["update-returning", "read-back"])
@pytest.mark.parametrize("status", [IntentStatus.SUCCEEDED, IntentStatus.FAILED, IntentStatus.RECONCILED])
def test_a_finished_intent_is_the_one_the_journal_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, returning: bool, status: IntentStatus
) -> None:
    monkeypatch.setattr(journal_module, "UPDATE_RETURNS", returning)
    now = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    with Store(tmp_path / "register.sqlite3") as store:
        intent = begin(store, "key-finish", Operation.CANCEL, attempting=True, now=now)
        finished = store.journal.finish(intent.id, status, "the outcome", os_user="per", now=now)
        assert finished == held(store, intent.id)
        assert (finished.status, finished.outcome, finished.finished_at) == (status, "the outcome", now)
        # Finished already: nothing changes, and the journal says how it stands.
        assert store.journal.finish(intent.id, IntentStatus.FAILED, "late", os_user="per") == finished
        lines = [line for line in store.audit.entries(10) if line.idempotency_key == "key-finish"]
        assert sorted(line.result for line in lines) == sorted(["requested", status.value])


def test_an_outcome_written_at_once_is_the_one_finish_writes(tmp_path: Path) -> None:
    """``finish_at_once`` reads nothing back; what it wrote is what ``finish`` writes (the intent and its
    audit line), as another connection reads it."""
    now = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    with Store(tmp_path / "register.sqlite3") as store:
        at_once = begin(store, "key-at-once", Operation.CAPTURE, attempting=True, now=now)
        assert store.journal.finish_at_once(
            at_once.id, IntentStatus.SUCCEEDED, "Captured", os_user="per", now=now
        )
        written = held(store, at_once.id)
        # Nothing pending to close: not written at once (the durable write decides).
        assert not store.journal.finish_at_once(at_once.id, IntentStatus.SUCCEEDED, "again", os_user="per")
        assert held(store, at_once.id) == written
        by_finish = begin(store, "key-by-finish", Operation.CAPTURE, attempting=True, now=now)
        finished = store.journal.finish(
            by_finish.id, IntentStatus.SUCCEEDED, "Captured", os_user="per", now=now
        )
        lines = {
            line.idempotency_key: (line.result, line.at, line.os_user, line.amount, line.detail)
            for line in store.audit.entries(10)
            if line.result != "requested"
        }
    assert written.status is IntentStatus.SUCCEEDED
    assert replace(written, id=finished.id, idempotency_key=finished.idempotency_key) == finished
    assert lines["key-at-once"] == lines["key-by-finish"]
