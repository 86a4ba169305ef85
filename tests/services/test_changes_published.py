"""Every desk use case that produces a new snapshot publishes it on ``desk.changes`` (in addition to
returning it), as of when its read was asked for. Real sandbox in-process, real register."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from epay_desktop.api import ApiError, NetworkError, OutcomeUnknownError, SandboxControls
from epay_desktop.services import Change, DemoControls, PaymentChanged, PaymentDesk, RecoveryOutcome, tracking
from epay_desktop.services.changes import ListLoaded
from epay_desktop.store import Operation
from tests.services.conftest import BASE_URL, MSN, Bench, MovesProxy, nok

pytestmark = pytest.mark.anyio


class Recorder:
    """Subscribed to a desk's feed: every batch, as published."""

    def __init__(self, desk: PaymentDesk) -> None:
        self.batches: list[Sequence[Change]] = []
        self.unsubscribe = desk.changes.subscribe(self.batches.append)

    def changed(self) -> list[PaymentChanged]:
        return [c for batch in self.batches for c in batch if isinstance(c, PaymentChanged)]

    def sources(self) -> list[str]:
        return [c.source for c in self.changed()]

    def last(self) -> PaymentChanged:
        return self.changed()[-1]

    def clear(self) -> None:
        self.batches.clear()


async def test_refresh_publishes_the_saved_snapshot_as_of_when_it_was_asked(bench: Bench) -> None:
    ref = await bench.approved_payment()
    seen = Recorder(bench.desk)
    before = datetime.now(UTC)
    tracked = await bench.desk.refresh(ref)
    after = datetime.now(UTC)
    (change,) = seen.changed()
    assert change.tracked == tracked
    assert change.source == "refresh"
    assert before <= change.asked_at <= after


async def test_a_failed_refresh_publishes_the_kept_row_with_its_error(bench: Bench) -> None:
    ref = await bench.approved_payment()
    async with bench.desk_through(MovesProxy(_Unreachable())) as other:
        seen = Recorder(other)
        with pytest.raises(NetworkError):
            await other.refresh(ref)
    (change,) = seen.changed()
    assert "could not be reached" in change.tracked.fetch_error
    assert change.tracked.payment is not None  # the old snapshot is kept


async def test_refresh_all_publishes_one_batch_with_every_payment(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracking, "PUBLISH_EVERY", 3600.0)  # a refresh quicker than a batch interval
    refs = [await bench.approved_payment(1000 + i) for i in range(3)]
    seen = Recorder(bench.desk)
    got = [t async for t in bench.desk.refresh_all(refs)]
    assert len(seen.batches) == 1
    (batch,) = seen.batches
    assert {c.tracked.reference for c in batch if isinstance(c, PaymentChanged)} == set(refs)
    assert {t.reference for t in got} == set(refs)


async def test_a_long_refresh_publishes_rows_as_they_arrive(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracking, "PUBLISH_EVERY", 0.0)  # every answer is "long enough" after the last
    refs = [await bench.approved_payment(1100 + i) for i in range(4)]
    seen = Recorder(bench.desk)
    published_when_yielded: list[int] = []
    async for _tracked in bench.desk.refresh_all(refs, concurrency=1):
        published_when_yielded.append(len(seen.changed()))
    # Each row was on the feed before the next answer was awaited, not only at the end.
    assert published_when_yielded == [1, 2, 3, 4]
    assert sorted(c.tracked.reference for c in seen.changed()) == sorted(refs)


async def test_a_refresh_stopped_early_still_publishes_what_it_read(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracking, "PUBLISH_EVERY", 3600.0)
    refs = [await bench.approved_payment(1200 + i) for i in range(4)]
    seen = Recorder(bench.desk)
    stream = bench.desk.refresh_all(refs, concurrency=1)
    first = await anext(stream)
    await stream.aclose()
    assert first.reference in {c.tracked.reference for c in seen.changed()}


async def test_load_add_and_import_publish_rows(bench: Bench, tmp_path: Path) -> None:
    seen = Recorder(bench.desk)
    report = await bench.desk.add_references("ref-added-0001 ref-added-0002 bad")
    assert report.added == ("ref-added-0001", "ref-added-0002")
    assert [(c.tracked.reference, c.source) for c in seen.changed()] == [
        ("ref-added-0001", "add"),
        ("ref-added-0002", "add"),
    ]
    seen.clear()
    csv = tmp_path / "refs.csv"
    csv.write_text("reference,description\nref-imported-01,Tea\n", encoding="utf-8")
    await bench.desk.import_csv(csv)
    ((imported, source),) = [(c.tracked, c.source) for c in seen.changed()]
    assert (imported.reference, imported.description, source) == ("ref-imported-01", "Tea", "add")
    seen.clear()
    loaded = await bench.desk.load_register()
    # The whole list in one change (column by column), not a change per row.
    assert len(seen.batches) == 1
    ((change,),) = seen.batches
    assert isinstance(change, ListLoaded)
    assert change.listed is loaded
    assert change.source == "load"
    assert {t.reference for t in loaded} == {"ref-added-0001", "ref-added-0002", "ref-imported-01"}
    assert [t.description for t in loaded if t.reference == "ref-imported-01"] == ["Tea"]


async def test_create_publishes_the_new_payment(bench: Bench) -> None:
    seen = Recorder(bench.desk)
    tracked = await bench.desk.create_payment(nok(2500), "1x Bolle", "4791234567")
    assert seen.last().tracked == tracked
    assert seen.last().source == "create"


@pytest.mark.parametrize("operation", ["cancel", "capture", "refund"])
async def test_money_moves_publish_their_result(bench: Bench, operation: str) -> None:
    ref = await bench.approved_payment(10000)
    if operation == "refund":
        await bench.desk.capture(ref, nok(10000))
    seen = Recorder(bench.desk)
    if operation == "cancel":
        result_tracked = (await bench.desk.cancel(ref)).tracked
    elif operation == "capture":
        result_tracked = (await bench.desk.capture(ref, nok(4000))).tracked
    else:
        result_tracked = (await bench.desk.refund(ref, nok(4000))).tracked
    # The read right before the intent is committed, then the result.
    assert seen.sources() == ["refresh", "operation"]
    assert seen.last().tracked == result_tracked
    assert seen.changed()[0].asked_at <= seen.last().asked_at


async def test_a_refused_operation_publishes_the_payment_read_again(bench: Bench) -> None:
    ref = await bench.approved_payment()
    async with bench.desk_through(MovesProxy(bench.transport, status=400)) as other:
        seen = Recorder(other)
        with pytest.raises(ApiError):
            await other.capture(ref, nok(100))
    assert seen.sources() == ["refresh", "operation"]
    assert seen.last().tracked.payment is not None


async def test_an_unknown_outcome_publishes_what_the_log_showed(bench: Bench) -> None:
    ref = await bench.approved_payment()
    async with bench.desk_through(MovesProxy(bench.transport, status=503)) as other:
        seen = Recorder(other)
        with pytest.raises(OutcomeUnknownError):
            await other.capture(ref, nok(100))
    # The fresh read, then the settle-from-the-log read (nothing there: the intent stays pending).
    assert seen.sources() == ["refresh", "operation"]


async def test_recovery_publishes_what_it_settled(bench: Bench) -> None:
    ref = await bench.approved_payment()
    await bench.pending_intent(Operation.CAPTURE, ref, nok(500), attempts=1)
    seen = Recorder(bench.desk)
    (result,) = await bench.desk.recover_pending()
    assert result.outcome is RecoveryOutcome.SUCCEEDED
    assert seen.sources() == ["recovery", "recovery"]  # the log read, then the result of the resend
    assert seen.last().tracked.payment is not None
    assert seen.last().tracked.payment.aggregate.captured == nok(500)


async def test_resume_and_abandon_publish_as_recovery(bench: Bench) -> None:
    ref = await bench.approved_payment()
    intent = await bench.pending_intent(Operation.CAPTURE, ref, nok(500))
    seen = Recorder(bench.desk)
    await bench.desk.resume_intent(intent.id)
    assert set(seen.sources()) == {"recovery"}
    other = await bench.approved_payment()
    abandoned = await bench.pending_intent(Operation.REFUND, other, nok(100))
    seen.clear()
    await bench.desk.abandon_intent(abandoned.id)
    assert seen.sources() == ["recovery"]


async def test_demo_customer_actions_publish_as_demo(bench: Bench) -> None:
    controls = SandboxControls(BASE_URL, transport=bench.transport)
    demo = DemoControls(controls)
    await bench.desk.aclose()
    desk = await PaymentDesk.open(bench.desk.profile, bench.client, bench.register, demo=demo)
    try:
        tracked = await desk.create_payment(nok(3000), "1x Kanelbolle", "4791234567")
        seen = Recorder(desk)
        approved = await demo.customer(tracked.reference, "approve")
        assert [(c.tracked, c.source) for c in seen.changed()] == [(approved, "demo")]
    finally:
        await desk.aclose()
        await controls.aclose()
        bench.desk = await bench.open_desk()


async def test_a_listener_that_raises_does_not_break_the_use_case(bench: Bench) -> None:
    ref = await bench.approved_payment()

    def broken(_batch: Sequence[Change]) -> None:
        raise RuntimeError("view went away")

    bench.desk.changes.subscribe(broken)
    tracked = await bench.desk.refresh(ref)
    assert tracked.reference == ref
    assert tracked.merchant_serial_number == MSN


class _Unreachable(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route", request=request)
