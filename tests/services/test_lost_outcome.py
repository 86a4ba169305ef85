"""A confirmed outcome lost to a power loss (a SQLite register commits it without waiting for the disk):
the register is put back as it was on disk while the request was on its way (the intent and its
first attempt, durable), which is the most a power loss can take from it, and the operation is
finished again: from the event log at the next start, or by sending it again with the same key. Money
never moves twice. Real sandbox in-process, real register files."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import httpx
import pytest

from epay_desktop.services import IntentStatus, RecoveryOutcome
from epay_desktop.store import Store
from tests.services.conftest import Bench, MovesProxy, nok

pytestmark = pytest.mark.anyio


def register_files(register: Path) -> list[Path]:
    return [register, register.with_name(register.name + "-wal")]


class DiskAsSent:
    """Copies the register's files the moment a money-moving request reaches the proxy (the state a
    power loss right after could leave), and reads the journal from them with a connection of its own."""

    def __init__(self, register: Path, folder: Path) -> None:
        self.register = register
        self.folder = folder
        self.pending_then: list[tuple[str, int]] = []

    async def copy(self, _request: httpx.Request) -> None:
        self.folder.mkdir()
        for path in register_files(self.register):
            if path.exists():
                shutil.copy2(path, self.folder / path.name)

        def read() -> list[tuple[str, int]]:
            with Store(self.folder / self.register.name) as copy:
                return [(i.idempotency_key, i.attempts) for i in copy.journal.pending()]

        self.pending_then = await asyncio.to_thread(read)

    def put_back(self) -> None:
        for path in [*register_files(self.register), self.register.with_name(self.register.name + "-shm")]:
            path.unlink(missing_ok=True)
        for path in register_files(self.register):
            copied = self.folder / path.name
            if copied.exists():
                shutil.copy2(copied, path)


async def capture_then_lose_its_outcome(bench: Bench, tmp_path: Path) -> tuple[str, str]:
    """A capture confirmed by the API, then the register as a power loss before its outcome reached the
    disk could leave it; returns the payment and the capture's key."""
    ref = await bench.approved_payment(10000)
    disk = DiskAsSent(bench.register, tmp_path / "as-sent")
    proxy = MovesProxy(bench.transport, before=disk.copy)
    async with bench.desk_through(proxy) as desk:
        done = await desk.capture(ref, nok(4000))
    assert done.amount == nok(4000)
    (intent,) = [i for i in await bench.desk.journal() if i.reference == ref]
    assert intent.status is IntentStatus.SUCCEEDED
    # On disk before the request left: the intent, its key and its first attempt.
    assert disk.pending_then == [(intent.idempotency_key, 1)]
    await bench.desk.aclose()
    disk.put_back()
    bench.desk = await bench.open_desk()
    (lost,) = await bench.desk.pending_intents()
    assert (lost.idempotency_key, lost.attempts) == (intent.idempotency_key, 1)
    return ref, intent.idempotency_key


async def test_a_lost_outcome_is_settled_from_the_event_log_at_the_next_start(
    bench: Bench, tmp_path: Path
) -> None:
    ref, key = await capture_then_lose_its_outcome(bench, tmp_path)
    (result,) = await bench.desk.recover_pending()
    assert result.outcome is RecoveryOutcome.RECONCILED
    assert result.amount == nok(4000)
    (intent,) = [i for i in await bench.desk.journal() if i.reference == ref]
    assert (intent.status, intent.idempotency_key) == (IntentStatus.RECONCILED, key)
    assert (await bench.event_names(ref)).count("CAPTURED") == 1


async def test_a_lost_outcome_sent_again_with_its_key_moves_no_money_twice(
    bench: Bench, tmp_path: Path
) -> None:
    ref, key = await capture_then_lose_its_outcome(bench, tmp_path)
    (lost,) = await bench.desk.pending_intents()
    # Sent again as it was (not settled first): the API answers the replay as it answered the first.
    result = await bench.desk.engine.send(lost, None, resumed=True)
    assert result.moved == nok(4000)
    assert result.payment.aggregate.captured == nok(4000)
    (intent,) = [i for i in await bench.desk.journal() if i.reference == ref]
    assert (intent.status, intent.idempotency_key, intent.attempts) == (IntentStatus.SUCCEEDED, key, 2)
    assert (await bench.event_names(ref)).count("CAPTURED") == 1
