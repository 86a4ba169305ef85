"""A process killed (SIGKILL) by ``test_group_commit.py`` in the middle of a group commit.

    python group_commit_kill.py <register_path> <count> <marker_file> <sends_file> [threads|soon]

``count`` intents are begun at once by as many threads (``threads``), or queued from this thread without
waiting (``soon``: ``Journal.begin_soon``, as the engine does when the register is busy); each intent
handed back "is sent" (its key appended to ``sends_file``, standing for the request). The connection
is held busy until all of them wait for a group commit; then one more durable write joins the group
last: inside the group's transaction it writes to ``marker_file`` how many intents the group has
written so far, and waits to be killed. The commit never happens, so no begin may return and nothing
may be sent.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from pathlib import Path

from epay_desktop.store import Intent, IntentRequest, Operation, Store
from epay_desktop.store.db import utc_now


def wait_for(condition_met: object, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition_met():  # type: ignore[operator]
        if time.monotonic() > deadline:
            sys.exit(f"gave up waiting for {what}")
        time.sleep(0.005)


def main(register: Path, count: int, marker: Path, sends: Path, mode: str) -> None:
    store = Store(register)
    db = store.db
    release = threading.Event()
    holding = threading.Event()

    def hold(_conn: sqlite3.Connection) -> None:
        holding.set()
        release.wait()

    def request(index: int) -> IntentRequest:
        return IntentRequest(
            operation=Operation.CANCEL,
            profile="Shop",
            msn="123456",
            reference=f"order-{index:08d}",
            amount=None,
            idempotency_key=f"key-group-kill-{index}",
            os_user="u",
            at=utc_now(),
            audit_detail="",
            repeat_since=None,
        )

    def begin_and_send(index: int) -> None:
        send(store.journal.begin_request(request(index), attempting=True))

    def send(intent: Intent) -> None:
        with sends.open("a", encoding="utf-8") as file:
            file.write(intent.idempotency_key + "\n")

    def begin_soon(index: int) -> None:
        future = store.journal.begin_soon(request(index), attempting=True)
        assert future is not None
        future.add_done_callback(lambda done: send(done.result()))

    def last_in_the_group(conn: sqlite3.Connection) -> None:
        (written,) = conn.execute("SELECT count(*) FROM intents").fetchone()
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(str(written), encoding="utf-8")
        tmp.replace(marker)
        time.sleep(600)  # killed here, before the group's commit

    threads = [threading.Thread(target=db.write, args=("holding the register", hold))]
    threads[0].start()
    wait_for(holding.is_set, "the register to be held")
    if mode == "soon":
        for index in range(count):
            begin_soon(index)
    else:
        threads += [threading.Thread(target=begin_and_send, args=(i,)) for i in range(count)]
        for thread in threads[1:]:
            thread.start()
    wait_for(lambda: db.durable_writes_waiting == count, "every begin to wait for the group commit")
    last = threading.Thread(target=db.write, args=("marking", last_in_the_group), kwargs={"durable": True})
    last.start()
    wait_for(lambda: db.durable_writes_waiting == count + 1, "the last write to join the group")
    release.set()
    last.join()
    sys.exit("the group's last write returned before the test killed this process")


if __name__ == "__main__":
    main(
        Path(sys.argv[1]),
        int(sys.argv[2]),
        Path(sys.argv[3]),
        Path(sys.argv[4]),
        (sys.argv[5:] or ["threads"])[0],
    )
