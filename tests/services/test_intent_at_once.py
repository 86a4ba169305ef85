"""The desk's money calls begin their intent on the event loop's own thread while the register's disk has
proven fast, and on a worker thread otherwise (a slow disk, told by an injected measure of the
commits); either way the intent is on disk, its attempt counted, before the request leaves, and an
intent that cannot be written means nothing is sent. The real sandbox in-process, a real register file
read by a second connection when the request arrives."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from functools import partial
from pathlib import Path

import httpx
import pytest

from epay_desktop.services import IntentStatus, PaymentDesk
from epay_desktop.store import RegisterError
from epay_desktop.store.commit_pace import FAST_COMMIT_SECONDS, FAST_COMMITS_NEEDED, CommitPace
from tests.services.conftest import Bench, MovesProxy, nok

pytestmark = pytest.mark.anyio


def commits_taking(seconds: float) -> CommitPace:
    return CommitPace(clock=partial(next, itertools.count(0.0, seconds)))


class OnDiskWhenSent:
    """Before a cancel, capture or refund goes on to the sandbox: what another program reading the
    register file sees of the payment's intents at that moment (status and attempts)."""

    def __init__(self, register: Path) -> None:
        self.register = register
        self.seen: list[list[tuple[str, int]]] = []

    async def __call__(self, request: httpx.Request) -> None:
        reference = request.url.path.split("/")[-2]
        other = sqlite3.connect(self.register)
        try:
            rows = other.execute(
                "SELECT status, attempts FROM intents WHERE reference = ? ORDER BY id", (reference,)
            ).fetchall()
        finally:
            other.close()
        self.seen.append([(str(status), int(attempts)) for status, attempts in rows])


def threads_writing_intents(desk: PaymentDesk) -> list[int]:
    """The threads that insert intents into ``desk``'s register from now on (a temporary trigger on each
    of its connections)."""
    threads: list[int] = []

    def note(conn: sqlite3.Connection) -> None:
        conn.create_function("note_thread", 0, lambda: threads.append(threading.get_ident()))
        conn.execute(
            "CREATE TEMP TRIGGER note_intent_thread AFTER INSERT ON intents BEGIN SELECT note_thread(); END"
        )

    desk.store.db.on_each_connection(note)
    return threads


async def test_with_a_fast_disk_the_intent_is_begun_on_the_loops_thread_and_on_disk_before_the_send(
    bench: Bench,
) -> None:
    ref = await bench.approved_payment(9000)
    on_disk = OnDiskWhenSent(bench.register)
    async with bench.desk_through(MovesProxy(bench.transport, before=on_disk)) as desk:
        desk.store.db.commit_pace = commits_taking(FAST_COMMIT_SECONDS / 10)
        for _ in range(FAST_COMMITS_NEEDED):
            desk.store.db.commit_pace.record(FAST_COMMIT_SECONDS / 10)
        threads = threads_writing_intents(desk)
        await desk.capture(ref, nok(4000))
        await desk.cancel(ref)
    assert threads == [threading.get_ident()] * 2  # this test's loop runs on this thread
    assert on_disk.seen == [[("pending", 1)], [("succeeded", 1), ("pending", 1)]]
    intents = await bench.desk.journal()
    assert [intent.status for intent in intents] == [IntentStatus.SUCCEEDED] * 2


async def test_with_a_slow_disk_every_intent_is_begun_on_a_worker_thread_and_on_disk_before_the_send(
    bench: Bench,
) -> None:
    ref = await bench.approved_payment(9000)
    on_disk = OnDiskWhenSent(bench.register)
    async with bench.desk_through(MovesProxy(bench.transport, before=on_disk)) as desk:
        desk.store.db.commit_pace = commits_taking(FAST_COMMIT_SECONDS * 20)
        threads = threads_writing_intents(desk)
        for _ in range(3):
            await desk.capture(ref, nok(1000), again=True)
        await desk.cancel(ref)
    assert len(threads) == 4
    assert threading.get_ident() not in threads
    assert [seen[-1] for seen in on_disk.seen] == [("pending", 1)] * 4
    assert not desk.store.db.commit_pace.proven_fast


@pytest.mark.parametrize("disk", ["fast", "slow"])
async def test_an_intent_that_cannot_be_written_sends_nothing(bench: Bench, disk: str) -> None:
    """At once on the loop's thread (a fast disk), or in the register's group commit (a slow one)."""
    ref = await bench.approved_payment(9000)
    proxy = MovesProxy(bench.transport)
    commit_takes = FAST_COMMIT_SECONDS / 10 if disk == "fast" else FAST_COMMIT_SECONDS * 20
    async with bench.desk_through(proxy) as desk:
        desk.store.db.commit_pace = commits_taking(commit_takes)
        for _ in range(FAST_COMMITS_NEEDED):
            desk.store.db.commit_pace.record(commit_takes)
        threads = threads_writing_intents(desk)
        desk.store.db.on_each_connection(
            lambda conn: conn.execute(
                "CREATE TEMP TRIGGER refuse_intents BEFORE INSERT ON intents "
                "BEGIN SELECT RAISE(ABORT, 'the disk is full'); END"
            )
        )
        with pytest.raises(RegisterError, match="the disk is full"):
            await desk.capture(ref, nok(4000))
    assert threads == []
    assert proxy.moves == 0
    assert "CAPTURED" not in await bench.event_names(ref)
    assert await bench.desk.journal() == []
