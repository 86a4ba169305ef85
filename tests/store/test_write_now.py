"""Writes made at once on the caller's thread (``Database.write_now``, ``Journal.finish_at_once``):
they never wait (for the connection another thread holds, for another program's write lock, for a WAL
checkpoint) and, when they would have to, write nothing and say so; what they write is committed like
any other write that does not wait for the disk. Real SQLite files; another program is a second
connection."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from epay_desktop.store import IntentStatus, RegisterError, Store
from epay_desktop.store.db import WriteNotNowError
from tests.support.journal import begin, connection_held


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "register.sqlite3") as opened:
        yield opened


def set_meta(key: str, value: str) -> Callable[[sqlite3.Connection], None]:
    def work(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    return work


def pragma(store: Store, name: str) -> int:
    return int(store.db.conn.execute(f"PRAGMA {name}").fetchone()[0])


def test_a_write_now_is_committed_and_leaves_the_connection_as_it_was(store: Store) -> None:
    busy_timeout, autocheckpoint = pragma(store, "busy_timeout"), pragma(store, "wal_autocheckpoint")
    store.db.write_now("writing a test row", set_meta("now", "written"))
    with Store(store.path) as other:  # another process's view
        assert other.db.get_meta("now") == "written"
    assert pragma(store, "busy_timeout") == busy_timeout
    assert pragma(store, "wal_autocheckpoint") == autocheckpoint
    assert not store.db.conn.in_transaction


def test_a_write_now_does_not_wait_for_another_thread_using_the_connection(store: Store) -> None:
    with connection_held(store.db), pytest.raises(WriteNotNowError):
        store.db.write_now("writing a test row", set_meta("now", "written"))
    assert store.db.get_meta("now") is None


def test_a_write_now_does_not_wait_for_another_programs_lock(store: Store) -> None:
    busy_timeout = pragma(store, "busy_timeout")
    other = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another program writing
    # It lets go well within the register's busy timeout: a write that waited would then succeed.
    letting_go = threading.Timer(2.0, lambda: other.execute("ROLLBACK"))
    letting_go.start()
    try:
        with pytest.raises(WriteNotNowError):
            store.db.write_now("writing a test row", set_meta("now", "written"))
    finally:
        letting_go.join(30)
        other.close()
    assert pragma(store, "busy_timeout") == busy_timeout
    assert not store.db.conn.in_transaction
    assert store.db.get_meta("now") is None
    store.db.write_now("writing a test row", set_meta("now", "later"))
    assert store.db.get_meta("now") == "later"


def test_a_write_now_never_runs_a_checkpoint(store: Store) -> None:
    store.db.conn.execute("PRAGMA wal_autocheckpoint = 1")  # any commit would checkpoint
    main_file = hashlib.sha256(store.path.read_bytes()).hexdigest()
    for index in range(5):
        store.db.write_now("writing a test row", set_meta(f"now-{index}", "x"))
    assert hashlib.sha256(store.path.read_bytes()).hexdigest() == main_file  # all still in the WAL
    store.db.write("writing a test row", set_meta("later", "x"))
    assert hashlib.sha256(store.path.read_bytes()).hexdigest() != main_file  # checkpointed as usual


def test_a_failing_write_now_writes_nothing_and_says_what_failed(store: Store) -> None:
    def half_written(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO meta (key, value) VALUES ('now', 'first')")
        conn.execute("INSERT INTO meta (key, value) VALUES ('now', 'again')")  # primary key

    with pytest.raises(RegisterError, match="writing a test row"):
        store.db.write_now("writing a test row", half_written)
    assert store.db.get_meta("now") is None
    assert not store.db.conn.in_transaction


def test_a_read_only_register_refuses_a_write_now(store: Store) -> None:
    with Store(store.path, read_only=True) as read_only, pytest.raises(RegisterError, match="read-only"):
        read_only.db.write_now("writing a test row", set_meta("now", "x"))


@pytest.mark.parametrize("status", [IntentStatus.SUCCEEDED, IntentStatus.RECONCILED])
def test_a_confirmed_outcome_closes_a_pending_intent_at_once(store: Store, status: IntentStatus) -> None:
    intent_id = begin(store, "key-now-1")
    assert store.journal.finish_at_once(intent_id, status, "Captured.", os_user="u")
    with Store(store.path) as other:
        finished = other.journal.get(intent_id)
        assert finished is not None
        assert finished.status is status
        lines = [(line.idempotency_key, line.result) for line in other.audit.entries(10)]
    assert ("key-now-1", status.value) in lines


def test_a_failed_outcome_is_never_written_at_once(store: Store) -> None:
    intent_id = begin(store, "key-now-2")
    assert store.journal.finish_at_once(intent_id, IntentStatus.FAILED, "Refused.", os_user="u") is False
    intent = store.journal.get(intent_id)
    assert intent is not None
    assert intent.status is IntentStatus.PENDING


def test_a_confirmed_outcome_over_a_failed_one_is_left_to_the_durable_write(store: Store) -> None:
    intent_id = begin(store, "key-now-3")
    store.journal.finish(intent_id, IntentStatus.FAILED, "Abandoned.", os_user="u")
    assert store.journal.finish_at_once(intent_id, IntentStatus.SUCCEEDED, "Captured.", os_user="u") is False
    failed = store.journal.get(intent_id)
    assert failed is not None
    assert failed.status is IntentStatus.FAILED
    replaced = store.journal.finish(intent_id, IntentStatus.SUCCEEDED, "Captured.", os_user="u")
    assert replaced.status is IntentStatus.SUCCEEDED


def test_a_confirmed_outcome_is_not_written_at_once_while_another_program_writes(store: Store) -> None:
    intent_id = begin(store, "key-now-4")
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        assert store.journal.finish_at_once(intent_id, IntentStatus.SUCCEEDED, "Done.", os_user="u") is False
    finally:
        other.execute("ROLLBACK")
        other.close()
    intent = store.journal.get(intent_id)
    assert intent is not None
    assert intent.status is IntentStatus.PENDING


def test_writes_at_once_leave_the_main_connection_as_set_and_close_with_the_register(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite3"
    store = Store(path)
    store.db.conn.execute("PRAGMA busy_timeout = 1234")  # set by whoever opened it: left alone
    store.db.conn.execute("PRAGMA wal_autocheckpoint = 77")
    store.db.write_now("writing a test row", set_meta("now", "written"))
    assert (pragma(store, "busy_timeout"), pragma(store, "wal_autocheckpoint")) == (1234, 77)
    assert pragma(store, "synchronous") == 1  # NORMAL
    assert path.with_name(path.name + "-wal").exists()
    store.close()
    # The last connection to close checkpoints the WAL and removes it: none of the register's is left
    # open, the one of the writes made at once included.
    assert not path.with_name(path.name + "-wal").exists()
    with pytest.raises(RegisterError, match="closed"):
        store.db.write_now("writing a test row", set_meta("later", "x"))
    with Store(path) as again:
        assert again.db.get_meta("now") == "written"
