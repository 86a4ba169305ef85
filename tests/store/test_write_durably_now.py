"""Durable writes made at once on the caller's thread (``Database.write_durably_now``,
``Journal.begin_at_once``): only while the disk has proven fast, each committed with
``synchronous = FULL`` before it returns, never waiting for anything (the connection, another program's
lock, a checkpoint), and writing nothing when it would have to, or when the write fails. A slow disk
(told by an injected measure of the commits) sends every durable write back to a worker thread at once.
Real SQLite files; another program is a second connection."""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from epay_desktop.store import (
    Intent,
    IntentPendingError,
    IntentRequest,
    IntentStatus,
    Operation,
    RegisterError,
    Store,
)
from epay_desktop.store.commit_pace import FAST_COMMIT_SECONDS, FAST_COMMITS_NEEDED, CommitPace
from epay_desktop.store.db import QUICK_WRITES_BEFORE_CHECKPOINT, Database, WriteNotNowError
from tests.support.journal import Commits, begin, connection_held


def commits_taking(seconds: float) -> CommitPace:
    """A measure of the commits under which each one takes ``seconds`` (the clock moves that much
    between the two readings around a commit)."""
    return CommitPace(clock=partial(next, itertools.count(0.0, seconds)))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "register.sqlite3") as opened:
        yield opened


@pytest.fixture
def fast_store(store: Store) -> Store:
    """A register whose disk has proven fast (each commit measured at a tenth of the limit)."""
    store.db.commit_pace = commits_taking(FAST_COMMIT_SECONDS / 10)
    for index in range(FAST_COMMITS_NEEDED):
        begin(store, f"key-proof-{index}", reference=f"order-proof{index:03d}")
    assert store.db.commit_pace.proven_fast
    return store


def set_meta(key: str, value: str) -> Callable[[sqlite3.Connection], str]:
    def work(conn: sqlite3.Connection) -> str:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
        return threading.current_thread().name

    return work


def pragma(store: Store, name: str) -> int:
    return int(store.db.conn.execute(f"PRAGMA {name}").fetchone()[0])


def begin_at_once(store: Store, key: str, reference: str = "order-12345678") -> Intent | None:
    request = IntentRequest(
        operation=Operation.CANCEL,
        profile="Shop",
        msn="123456",
        reference=reference,
        amount=None,
        idempotency_key=key,
        os_user="u",
        at=datetime.now(UTC),
        audit_detail="",
        repeat_since=None,
    )
    return store.journal.begin_at_once(request, attempting=True)


def test_a_fresh_register_has_proven_nothing_and_writes_nothing_at_once(store: Store) -> None:
    with pytest.raises(WriteNotNowError):
        store.db.write_durably_now("writing a test row", set_meta("now", "x"))
    assert store.db.get_meta("now") is None
    assert begin_at_once(store, "key-fresh") is None
    assert store.journal.pending() == []


def test_once_proven_fast_it_commits_durably_on_the_callers_thread(fast_store: Store) -> None:
    commits = Commits(fast_store)
    thread = fast_store.db.write_durably_now("writing a test row", set_meta("now", "written"))
    assert thread == threading.current_thread().name
    assert commits.levels == ["FULL"]
    with Store(fast_store.path) as other:  # another process's view, as soon as it returned
        assert other.db.get_meta("now") == "written"
    assert pragma(fast_store, "synchronous") == 1  # NORMAL again for the writes that follow
    assert not fast_store.db.conn.in_transaction


def test_an_intent_begun_at_once_is_on_disk_with_its_attempt_counted(fast_store: Store) -> None:
    commits = Commits(fast_store)
    intent = begin_at_once(fast_store, "key-at-once")
    assert intent is not None
    assert commits.levels == ["FULL"]
    assert (intent.status, intent.attempts) == (IntentStatus.PENDING, 1)
    with Store(fast_store.path) as other:
        assert other.journal.get(intent.id) == intent
        assert ("key-at-once", "requested") in [
            (line.idempotency_key, line.result) for line in other.audit.entries(10)
        ]


def test_an_intent_begun_at_once_is_refused_as_begin_refuses_it(fast_store: Store) -> None:
    first = begin_at_once(fast_store, "key-first")
    assert first is not None
    with pytest.raises(IntentPendingError):
        begin_at_once(fast_store, "key-second")
    assert [intent.idempotency_key for intent in fast_store.journal.pending(reference="order-12345678")] == [
        "key-first"
    ]


def test_after_one_slow_commit_the_next_durable_writes_go_to_a_worker_thread(fast_store: Store) -> None:
    fast_store.db.commit_pace = commits_taking(FAST_COMMIT_SECONDS * 20)  # the disk turns slow
    for _ in range(FAST_COMMITS_NEEDED):
        fast_store.db.commit_pace.record(FAST_COMMIT_SECONDS / 10)  # proven fast before it did
    assert begin_at_once(fast_store, "key-slow-1", reference="order-slow0001") is not None  # measured slow
    assert not fast_store.db.commit_pace.proven_fast
    assert begin_at_once(fast_store, "key-slow-2", reference="order-slow0002") is None
    for index in range(FAST_COMMITS_NEEDED * 2):
        begin(fast_store, f"key-worker-{index}", reference=f"order-work{index:04d}")  # still slow there
        assert (
            begin_at_once(fast_store, f"key-slow-{index + 3}", reference=f"order-slow{index + 3:04d}") is None
        )
    assert [intent.idempotency_key for intent in fast_store.journal.pending(reference="order-slow0002")] == []


def test_a_slow_disk_never_has_a_durable_write_made_at_once(store: Store) -> None:
    store.db.commit_pace = commits_taking(FAST_COMMIT_SECONDS * 20)
    for index in range(FAST_COMMITS_NEEDED * 3):
        begin(store, f"key-laptop-{index}", reference=f"order-laptop{index:03d}")
        assert begin_at_once(store, f"key-never-{index}", reference=f"order-never{index:03d}") is None
    with pytest.raises(WriteNotNowError):
        store.db.write_durably_now("writing a test row", set_meta("now", "x"))
    assert store.db.get_meta("now") is None


def test_it_does_not_wait_for_another_thread_using_the_connection(fast_store: Store) -> None:
    with connection_held(fast_store.db):
        with pytest.raises(WriteNotNowError):
            fast_store.db.write_durably_now("writing a test row", set_meta("now", "written"))
        assert begin_at_once(fast_store, "key-held") is None
    assert fast_store.db.get_meta("now") is None
    assert fast_store.journal.pending(reference="order-12345678") == []


def test_it_does_not_wait_for_another_programs_lock(fast_store: Store) -> None:
    busy_timeout = pragma(fast_store, "busy_timeout")
    other = sqlite3.connect(fast_store.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another program writing
    # It lets go well within the register's busy timeout: a write that waited would then succeed.
    letting_go = threading.Timer(2.0, lambda: other.execute("ROLLBACK"))
    letting_go.start()
    try:
        assert begin_at_once(fast_store, "key-locked") is None
    finally:
        letting_go.join(30)
        other.close()
    assert pragma(fast_store, "busy_timeout") == busy_timeout
    assert pragma(fast_store, "synchronous") == 1
    assert not fast_store.db.conn.in_transaction
    assert fast_store.journal.pending(reference="order-12345678") == []
    assert begin_at_once(fast_store, "key-locked") is not None


def test_it_never_checkpoints_and_lets_a_worker_thread_do_it_when_due(fast_store: Store) -> None:
    fast_store.db.write("a checkpoint now", set_meta("before", "x"))  # the WAL starts empty-ish
    fast_store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    fast_store.db.conn.execute("PRAGMA wal_autocheckpoint = 1")  # any usual commit would checkpoint
    main_file = hashlib.sha256(fast_store.path.read_bytes()).hexdigest()
    for index in range(QUICK_WRITES_BEFORE_CHECKPOINT):
        fast_store.db.write_durably_now("writing a test row", set_meta(f"now-{index}", "x"))
    assert hashlib.sha256(fast_store.path.read_bytes()).hexdigest() == main_file  # all still in the WAL
    with pytest.raises(WriteNotNowError):  # a checkpoint is due: not on this thread
        fast_store.db.write_durably_now("writing a test row", set_meta("one-more", "x"))
    with pytest.raises(WriteNotNowError):  # nor a write that does not wait for the disk
        fast_store.db.write_now("writing a test row", set_meta("one-more", "x"))
    assert fast_store.db.get_meta("one-more") is None
    begin(fast_store, "key-checkpoint")  # the usual durable write, on a worker thread in the app
    assert hashlib.sha256(fast_store.path.read_bytes()).hexdigest() != main_file  # checkpointed
    assert fast_store.db.write_durably_now("writing a test row", set_meta("one-more", "x"))


def test_a_commit_that_fails_writes_nothing_and_says_what_failed(fast_store: Store) -> None:
    def dangling(conn: sqlite3.Connection) -> None:
        # The audit line's intent does not exist: with the check deferred, the COMMIT itself fails.
        conn.execute("PRAGMA defer_foreign_keys = ON")
        conn.execute(
            "INSERT INTO audit (at, os_user, profile, msn, action, result, intent_id) "
            "VALUES ('2026-01-01T00:00:00+00:00', 'u', 'Shop', '123456', 'cancel', 'requested', 999999)"
        )
        conn.execute("INSERT INTO meta (key, value) VALUES ('now', 'x')")

    with pytest.raises(RegisterError, match="writing a test row"):
        fast_store.db.write_durably_now("writing a test row", dangling)
    assert fast_store.db.get_meta("now") is None
    assert not fast_store.db.conn.in_transaction
    assert pragma(fast_store, "synchronous") == 1


def test_a_write_that_fails_in_its_work_writes_nothing(fast_store: Store) -> None:
    def half_written(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO meta (key, value) VALUES ('now', 'first')")
        conn.execute("INSERT INTO meta (key, value) VALUES ('now', 'again')")  # primary key

    with pytest.raises(RegisterError, match="writing a test row"):
        fast_store.db.write_durably_now("writing a test row", half_written)
    assert fast_store.db.get_meta("now") is None
    assert not fast_store.db.conn.in_transaction


def test_a_read_only_or_unchecked_register_refuses_it(fast_store: Store, tmp_path: Path) -> None:
    with Store(fast_store.path, read_only=True) as read_only:
        read_only.db.commit_pace = fast_store.db.commit_pace
        with pytest.raises(RegisterError, match="read-only"):
            read_only.db.write_durably_now("writing a test row", set_meta("now", "x"))
    fast_store.close()
    with Database(fast_store.path, check_later=True) as unchecked:
        unchecked.commit_pace = fast_store.db.commit_pace
        with pytest.raises(RegisterError, match="not been checked"):
            unchecked.write_durably_now("writing a test row", set_meta("now", "x"))
