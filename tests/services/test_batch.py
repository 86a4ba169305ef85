"""Batch cancel and capture through the desk against the in-process sandbox: the preview says exactly
what will happen and what is skipped, each payment is journaled on its own, faults (5xx, dropped
answers) move each payment at most once and lose none, and Stop sends nothing new."""

from __future__ import annotations

import asyncio

import pytest

from epay_desktop.domain import Action, Currency, State
from epay_desktop.services.batch import BatchOutcome, BatchRun, moved_totals, plan_batch
from epay_desktop.store import Operation
from tests.services.conftest import Bench, nok

pytestmark = pytest.mark.anyio


async def tracked_rows(bench: Bench, refs: list[str]) -> list:  # type: ignore[type-arg]
    rows = []
    for ref in refs:
        row = await bench.desk.tracked(ref)
        assert row is not None
        rows.append(row)
    return rows


async def test_the_preview_says_what_will_happen_and_what_is_skipped(bench: Bench) -> None:
    refs = [await bench.approved_payment(1000 + i) for i in range(3)]
    await bench.desk.capture(refs[1], nok(1001))  # fully captured: nothing left to capture
    waiting = await bench.desk.create_payment(nok(500), "Not approved", "4791234567")
    rows = await tracked_rows(bench, [*refs, waiting.reference, refs[0]])  # a repeat is planned once
    plan = plan_batch(Action.CAPTURE, rows)
    assert [item.reference for item in plan.planned] == [refs[0], refs[2]]
    assert [item.amount for item in plan.planned] == [nok(1000), nok(1002)]
    skipped = {item.reference: item.skip for item in plan.skipped}
    assert skipped[refs[1]] == "Fully captured."
    assert "not approved" in skipped[waiting.reference]
    assert plan.totals() == {Currency.NOK: nok(2002)}
    cancel_plan = plan_batch(Action.CANCEL, rows)
    assert {i.reference for i in cancel_plan.planned} == {refs[0], refs[2], waiting.reference}


async def test_a_batch_captures_each_payment_once_with_its_own_intent(bench: Bench) -> None:
    refs = [await bench.approved_payment(2000 + i) for i in range(6)]
    await bench.controls.set_faults(error_rates={"500": 0.3, "503": 0.0, "429": 0.0}, drop_after_commit=2)
    seen: list[str] = []
    run = BatchRun(
        bench.desk,
        plan_batch(Action.CAPTURE, await tracked_rows(bench, refs)),
        on_result=lambda r: seen.append(r.reference),
    )
    results = await run.run()
    await bench.controls.set_faults()
    assert sorted(seen) == sorted(refs)
    for result in results:
        names = await bench.event_names(result.reference)
        # at most once, whatever the faults; and a payment with an unknown outcome is still pending
        assert names.count("CAPTURED") <= 1
        if result.outcome is BatchOutcome.DONE:
            assert names.count("CAPTURED") == 1
    intents = [i for i in await bench.desk.journal() if i.operation is Operation.CAPTURE]
    assert sorted(i.reference for i in intents) == sorted(refs)  # one intent each
    assert len({i.idempotency_key for i in intents}) == len(refs)
    # Recovery finishes whatever stayed unknown; then every payment moved exactly once.
    await bench.desk.recover_pending()
    for ref in refs:
        assert (await bench.event_names(ref)).count("CAPTURED") == 1
    assert moved_totals([r for r in results if r.outcome is BatchOutcome.DONE]).get(Currency.NOK) is not None


async def test_stop_sends_nothing_new_and_those_on_the_wire_finish(bench: Bench) -> None:
    refs = [await bench.approved_payment(3000 + i) for i in range(8)]
    await bench.controls.set_faults(latency_ms=50)
    first = asyncio.Event()
    run = BatchRun(
        bench.desk,
        plan_batch(Action.CANCEL, await tracked_rows(bench, refs)),
        concurrency=2,
        on_result=lambda _r: first.set(),
    )
    task = asyncio.ensure_future(run.run())
    await first.wait()
    run.stop()
    results = await task
    await bench.controls.set_faults()
    assert len(results) == len(refs)  # every payment is accounted for
    done = [r for r in results if r.outcome is BatchOutcome.DONE]
    not_sent = [r for r in results if r.outcome is BatchOutcome.NOT_SENT]
    assert done
    assert not_sent
    assert len(done) + len(not_sent) == len(refs)
    for r in not_sent:
        assert "CANCELLED" not in await bench.event_names(r.reference)
        row = await bench.desk.refresh(r.reference)
        assert row.payment is not None
        assert row.payment.state is State.AUTHORIZED
    journaled = {i.reference for i in await bench.desk.journal()}
    assert all(r.reference not in journaled for r in not_sent)  # never begun: nothing to recover
