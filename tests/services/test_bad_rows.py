"""One unreadable row (a bad cell written by hand or by another program) in a healthy register: a
journal entry is skipped and reported, a register row is listed with the reason as its fetch error;
neither breaks the list nor blocks the recovery of the other intents."""

from __future__ import annotations

import asyncio

import pytest

from epay_desktop.services import IntentStatus
from epay_desktop.store import Operation
from tests.services.conftest import Bench, nok

pytestmark = pytest.mark.anyio


async def test_a_bad_journal_row_does_not_block_the_recovery_of_the_others(bench: Bench) -> None:
    good = await bench.approved_payment(10000)
    bad = await bench.approved_payment(10000)
    await bench.pending_intent(Operation.CAPTURE, good, nok(1000), attempts=1)
    broken = await bench.pending_intent(Operation.CAPTURE, bad, nok(1000), attempts=1)
    await asyncio.to_thread(
        bench.desk.store.db.write,
        "test",
        lambda c: c.execute("UPDATE intents SET currency = 'XYZ' WHERE id = ?", (broken.id,)),
    )
    results = await bench.desk.recover_pending()
    assert [r.reference for r in results] == [good]
    assert results[0].finished
    captured = [e for e in await bench.client.get_events(good) if e.name.value == "CAPTURED"]
    assert len(captured) == 1
    assert [i.status for i in await bench.desk.journal()] == [IntentStatus.SUCCEEDED]


async def test_a_bad_register_row_does_not_break_the_list(bench: Bench) -> None:
    refs = [await bench.approved_payment(1000 + n) for n in range(3)]
    await asyncio.to_thread(
        bench.desk.store.db.write,
        "test",
        lambda c: c.execute("UPDATE payments SET created_at = 'yesterday' WHERE reference = ?", (refs[1],)),
    )
    listed = {t.reference: t for t in await bench.desk.load_register()}
    assert sorted(listed) == sorted(refs)  # the bad row is listed too, not dropped
    bad = listed[refs[1]]
    assert bad.created_at is None
    assert "created_at" in bad.fetch_error
    assert "could not be read" in bad.fetch_error
    assert bad.payment is not None
    assert bad.payment.amount.value == 1001  # what could be read stays
    for good in (listed[refs[0]], listed[refs[2]]):
        assert good.created_at is not None
        assert not good.fetch_error
