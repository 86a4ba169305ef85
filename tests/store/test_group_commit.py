"""Durable writes that wait for the register at the same moment share one commit (``Database.write``'s
group commit): each still returns only after the commit, a failing one fails alone, a commit that
fails fails them all, and a process killed inside a group has released no one (so sent nothing) and
left none of it on disk. The same for writes queued without waiting (``Database.write_durably_soon``):
they join the group of the threads waiting, or the register's own committing thread commits them.
Real SQLite files; the kill in a separate process."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from epay_desktop.store import Intent, IntentPendingError, IntentRequest, Operation, RegisterError, Store
from epay_desktop.store.db import utc_now

SCRIPT = Path(__file__).with_name("group_commit_kill.py")
COUNT = 12


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "register.sqlite3") as opened:
        yield opened


def request(index: int, reference: str | None = None) -> IntentRequest:
    return IntentRequest(
        operation=Operation.CANCEL,
        profile="Shop",
        msn="123456",
        reference=reference or f"order-{index:08d}",
        amount=None,
        idempotency_key=f"key-group-{index}",
        os_user="u",
        at=utc_now(),
        audit_detail="",
        repeat_since=None,
    )


def begin(store: Store, index: int, reference: str | None = None) -> object:
    return store.journal.begin_request(request(index, reference), attempting=True)


def begin_soon(store: Store, index: int, reference: str | None = None) -> Future[Intent]:
    future = store.journal.begin_soon(
        request(index, reference),
        attempting=True,
    )
    assert future is not None
    return future


def outcome_of(future: Future[object]) -> object:
    error = future.exception(timeout=30)
    return error if error is not None else future.result()


def wait_for(condition_met: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition_met():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.005)


class Together:
    """Calls started while the register is held busy, so that all of them wait for one group commit;
    what each returned or raised, and the ``synchronous`` level of every commit after the hold."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.outcomes: dict[str, object] = {}
        self.commits: list[str] = []
        self._level = "NORMAL"
        # Every connection of the register is watched (a group commit runs on either), from ``run``.
        self._watching = False
        store.db.on_each_connection(lambda conn: conn.set_trace_callback(self._saw))
        self._release = threading.Event()
        holding = threading.Event()

        def hold(_conn: sqlite3.Connection) -> None:
            holding.set()
            self._release.wait()

        self._threads = [threading.Thread(target=store.db.write, args=("holding", hold))]
        self._threads[0].start()
        wait_for(holding.is_set)

    def start(self, name: str, call: Callable[[], object]) -> None:
        def run() -> None:
            try:
                self.outcomes[name] = call()
            except Exception as error:
                self.outcomes[name] = error

        thread = threading.Thread(target=run)
        self._threads.append(thread)
        thread.start()

    def run(self, queued: int = 0) -> None:
        """Release the register once the threads started (and ``queued`` writes queued without
        waiting) all wait for the group commit."""
        wait_for(lambda: self.store.db.durable_writes_waiting == len(self._threads) - 1 + queued)
        self._watching = True
        self._release.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._watching = False

    def _saw(self, statement: str) -> None:
        if not self._watching:
            return
        text = " ".join(statement.split()).upper()
        if text.startswith("PRAGMA SYNCHRONOUS = "):
            self._level = text.removeprefix("PRAGMA SYNCHRONOUS = ")
        elif text == "COMMIT":
            self.commits.append(self._level)


def test_writes_waiting_together_share_one_commit_and_a_failing_one_fails_alone(store: Store) -> None:
    begin(store, 99, reference="order-busy0000")  # a pending intent: a second one on it is refused

    def half_written(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO meta (key, value) VALUES ('group-test', 'first')")
        conn.execute("INSERT INTO meta (key, value) VALUES ('group-test', 'again')")  # primary key

    together = Together(store)
    for index in range(COUNT):
        together.start(f"begin {index}", lambda index=index: begin(store, index))  # type: ignore[misc]
    together.start("busy", lambda: begin(store, 100, reference="order-busy0000"))
    together.start("broken", lambda: store.db.write("writing a test row", half_written, durable=True))
    together.run()

    # The hold's own commit, then one commit, waiting for the disk, for all of them.
    assert together.commits == ["NORMAL", "FULL"]
    assert isinstance(together.outcomes.pop("busy"), IntentPendingError)
    broken = together.outcomes.pop("broken")
    assert isinstance(broken, RegisterError)
    assert "writing a test row" in str(broken)
    keys = {getattr(intent, "idempotency_key", intent) for intent in together.outcomes.values()}
    assert keys == {f"key-group-{index}" for index in range(COUNT)}
    with Store(store.path) as other:  # what a restart would read
        on_disk = {intent.idempotency_key: intent.attempts for intent in other.journal.pending()}
        audited = {line.idempotency_key for line in other.audit.entries(100)}
        assert other.db.get_meta("group-test") is None  # the failing write left nothing, not half
    assert on_disk == {**{f"key-group-{index}": 1 for index in range(COUNT)}, "key-group-99": 1}
    assert "key-group-100" not in audited
    assert audited >= set(on_disk)


def fails_at_commit(conn: sqlite3.Connection) -> None:
    """A write whose fault is checked only when the transaction commits: the whole group's commit fails."""
    conn.execute("PRAGMA defer_foreign_keys = ON")
    conn.execute(
        "INSERT INTO audit (at, os_user, profile, msn, action, result, intent_id) "
        "VALUES ('2026-12-01T00:00:00+00:00', 'u', 'Shop', '123456', 'cancel', 'x', 999999)"
    )


def test_a_group_whose_commit_fails_returns_no_success_and_leaves_nothing(store: Store) -> None:
    together = Together(store)
    for index in range(COUNT):
        together.start(f"begin {index}", lambda index=index: begin(store, index))  # type: ignore[misc]
    together.start("poison", lambda: store.db.write("writing a test row", fails_at_commit, durable=True))
    together.run()

    assert len(together.outcomes) == COUNT + 1
    for outcome in together.outcomes.values():
        assert isinstance(outcome, RegisterError)
    with Store(store.path) as other:
        assert other.journal.pending() == []
        assert other.audit.entries(100) == []
    begin(store, 0)  # the register goes on working
    assert [intent.idempotency_key for intent in store.journal.pending()] == ["key-group-0"]


def test_writes_queued_without_waiting_share_the_commit_of_the_waiting_threads(store: Store) -> None:
    begin(store, 99, reference="order-busy0000")

    def half_written(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO meta (key, value) VALUES ('group-test', 'first')")
        conn.execute("INSERT INTO meta (key, value) VALUES ('group-test', 'again')")  # primary key

    together = Together(store)
    half = COUNT // 2
    for index in range(half):
        together.start(f"begin {index}", lambda index=index: begin(store, index))  # type: ignore[misc]
    soon = {f"begin {index}": begin_soon(store, index) for index in range(half, COUNT)}
    soon["busy"] = begin_soon(store, 100, reference="order-busy0000")
    soon["broken"] = store.db.write_durably_soon("writing a test row", half_written)
    assert not any(future.done() for future in soon.values())  # nothing is done before the commit
    together.run(queued=len(soon))
    outcomes = {**together.outcomes, **{name: outcome_of(future) for name, future in soon.items()}}

    assert together.commits == ["NORMAL", "FULL"]
    assert isinstance(outcomes.pop("busy"), IntentPendingError)
    broken = outcomes.pop("broken")
    assert isinstance(broken, RegisterError)
    assert "writing a test row" in str(broken)
    assert {getattr(intent, "idempotency_key", intent) for intent in outcomes.values()} == {
        f"key-group-{index}" for index in range(COUNT)
    }
    with Store(store.path) as other:
        on_disk = {intent.idempotency_key: intent.attempts for intent in other.journal.pending()}
        assert other.db.get_meta("group-test") is None
    assert on_disk == {**{f"key-group-{index}": 1 for index in range(COUNT)}, "key-group-99": 1}


def test_writes_queued_without_waiting_are_committed_by_the_register_alone(store: Store) -> None:
    futures = [begin_soon(store, index) for index in range(COUNT)]
    intents = [future.result(timeout=30) for future in futures]
    assert [intent.idempotency_key for intent in intents] == [f"key-group-{index}" for index in range(COUNT)]
    with Store(store.path) as other:
        assert other.journal.pending() == intents
    # Later ones start the committing thread again; after closing, nothing more is queued.
    assert begin_soon(store, COUNT).result(timeout=30).idempotency_key == f"key-group-{COUNT}"
    store.close()
    with pytest.raises(RegisterError, match="closed"):
        begin_soon(store, COUNT + 1)


def test_a_group_whose_commit_fails_tells_the_writes_queued_without_waiting(store: Store) -> None:
    together = Together(store)
    futures = [begin_soon(store, index) for index in range(COUNT)]
    futures.append(store.db.write_durably_soon("writing a test row", fails_at_commit))
    together.run(queued=len(futures))

    for future in futures:
        assert isinstance(outcome_of(future), RegisterError)
    with Store(store.path) as other:
        assert other.journal.pending() == []
        assert other.audit.entries(100) == []


@pytest.mark.parametrize("mode", ["threads", "soon"])
def test_a_process_killed_inside_a_group_commit_released_no_one(tmp_path: Path, mode: str) -> None:
    register = tmp_path / "register.sqlite3"
    marker = tmp_path / "in-the-group"
    sends = tmp_path / "sends"
    Store(register).close()
    child = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(register), str(COUNT), str(marker), str(sends), mode],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if child.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the child never reached the group commit: {child.communicate()[1]}")
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stderr:
            child.stderr.close()
    # Inside the group every begin had been written (uncommitted), and none had returned.
    assert marker.read_text(encoding="utf-8") == str(COUNT)
    assert not sends.exists()
    with Store(register) as after:
        assert after.journal.pending() == []
        assert after.audit.entries(100) == []
