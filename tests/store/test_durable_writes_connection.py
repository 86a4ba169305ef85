"""Which connection a durable write made on a worker thread (a group commit) is committed on: the one of
the writes made at once when that needs no wait, so a write at once right after it (the outcome of the
intent just begun) finds that connection's cache still valid; the main one, with its busy timeout and
its automatic checkpoint, when another program holds the write lock or a checkpoint is due. Either way
it is committed with ``synchronous = FULL`` before it returns. Real SQLite files; another program is a
second connection."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from epay_desktop.store import IntentStatus, Store
from epay_desktop.store.db import QUICK_WRITES_BEFORE_CHECKPOINT
from tests.support.journal import begin


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "register.sqlite3") as opened:
        yield opened


class CommitsBy:
    """Each commit of the register, as (the connection: "main" or "at once", its synchronous level)."""

    def __init__(self, store: Store) -> None:
        self.seen: list[tuple[str, str]] = []
        self._levels: dict[str, str] = {}
        main = store.db.conn
        store.db.on_each_connection(
            lambda conn: conn.set_trace_callback(
                lambda statement: self._saw("main" if conn is main else "at once", statement)
            )
        )

    def _saw(self, name: str, statement: str) -> None:
        text = " ".join(statement.split()).upper()
        if text.startswith("PRAGMA SYNCHRONOUS = "):
            self._levels[name] = text.removeprefix("PRAGMA SYNCHRONOUS = ")
        elif text == "COMMIT":
            self.seen.append((name, self._levels.get(name, "NORMAL")))

    def take(self) -> list[tuple[str, str]]:
        seen, self.seen = self.seen, []
        return seen


def test_a_durable_write_is_committed_on_the_connection_of_the_writes_at_once(store: Store) -> None:
    commits = CommitsBy(store)
    intent_id = begin(store, "key-one")
    assert commits.take() == [("at once", "FULL")]
    assert store.journal.finish_at_once(intent_id, IntentStatus.SUCCEEDED, "Captured.", os_user="u")
    assert commits.take() == [("at once", "NORMAL")]
    with Store(store.path) as other:  # another process's view: both on disk as written
        finished = other.journal.get(intent_id)
        assert finished is not None
        assert finished.status is IntentStatus.SUCCEEDED


def test_when_a_checkpoint_is_due_it_is_committed_on_the_main_connection(store: Store) -> None:
    commits = CommitsBy(store)
    for index in range(QUICK_WRITES_BEFORE_CHECKPOINT):
        begin(store, f"key-quick-{index}", reference=f"order-quick{index:03d}")
    assert commits.take() == [("at once", "FULL")] * QUICK_WRITES_BEFORE_CHECKPOINT
    begin(store, "key-checkpoint", reference="order-checkpt1")
    assert commits.take() == [("main", "FULL")]  # with the usual automatic checkpoint
    begin(store, "key-after", reference="order-after001")
    assert commits.take() == [("at once", "FULL")]


def test_another_programs_write_lock_is_waited_for_on_the_main_connection(store: Store) -> None:
    commits = CommitsBy(store)
    other = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.2, other.execute, args=("ROLLBACK",))
        release.start()
        intent_id = begin(store, "key-waited")  # waits for the lock (busy timeout), not refused
        release.join()
    finally:
        other.close()
    assert commits.take() == [("main", "FULL")]
    with Store(store.path) as reader:
        intent = reader.journal.get(intent_id)
        assert intent is not None
        assert intent.status is IntentStatus.PENDING
