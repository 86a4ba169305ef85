"""Findings of the money-path review, each a reproduction that failed before its fix."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from epay_desktop.api import OutcomeUnknownError
from epay_desktop.services import (
    PaymentDesk,
    Profile,
    ProfileKind,
    ProfileStore,
    RecoveryOutcome,
    RepeatNotConfirmedError,
    StandaloneJournal,
    register_path,
)
from epay_desktop.services.recovery import ON_THE_WIRE
from epay_desktop.store import IntentStatus, Journal, Operation
from tests.services.conftest import BASE_URL, MSN, Bench, begin_waiting_in_a_thread, fast_retry, nok
from tests.support.waiting import wait_until


def _attempts(journal: Journal, intent_id: int) -> int:
    intent = journal.get(intent_id)
    return intent.attempts if intent is not None else -1


@pytest.mark.anyio
async def test_a_renamed_profile_still_finishes_its_unfinished_operations(bench: Bench) -> None:
    """An intent left pending under a profile's old name is the renamed profile's (same register): it
    is listed, recovered on start and can be finished; it must not block the payment for ever."""
    store = ProfileStore()
    shop = store.save(
        Profile(
            "Shop",
            ProfileKind.CUSTOM,
            MSN,
            client_id="demo-client",
            base_url=BASE_URL,
            unencrypted_sandbox=True,
        )
    )
    path = register_path(shop)
    desk = await PaymentDesk.open(shop, bench.client, path, operator="tester")
    try:
        ref = await bench.approved_payment(10000)
        await desk.add_references(ref)
        intent = await asyncio.to_thread(
            desk.store.journal.begin,
            operation=Operation.CAPTURE,
            profile="Shop",
            msn=MSN,
            reference=ref,
            amount=nok(2500),
            idempotency_key="review-renamed-0001",
            os_user="tester",
        )
        await asyncio.to_thread(desk.store.journal.note_attempt, intent.id)
    finally:
        await desk.aclose()

    renamed = store.save(replace(shop, name="Shop (Oslo)"), replacing="Shop")
    assert register_path(renamed) == path  # the register (and its journal) follows the profile
    desk = await PaymentDesk.open(renamed, bench.client, path, operator="tester")
    try:
        assert [i.id for i in await desk.pending_intents()] == [intent.id]
        recovered = await desk.recover_pending()
        assert [r.intent_id for r in recovered] == [intent.id]
        now = await asyncio.to_thread(desk.store.journal.get, intent.id)
        assert now is not None
        assert now.status is not IntentStatus.PENDING
        assert (await bench.event_names(ref)).count("CAPTURED") == 1
    finally:
        await desk.aclose()


@pytest.mark.anyio
async def test_a_resend_refused_while_the_first_attempt_is_on_the_wire_is_not_nothing_moved(
    bench: Bench, tmp_path: Path
) -> None:
    """Two ``epay`` runs on one journal: the second resumes the capture while the first one's request
    is still being processed (the API answers 423, "another operation holds the payment"). The event
    log cannot show it yet, so the second must not close it as failed ("nothing moved"): its outcome
    is unknown until the first attempt has ended."""
    ref = await bench.approved_payment(10000)
    clients = [bench.new_client(fast_retry(2)) for _ in range(2)]
    journals = [
        await StandaloneJournal.open(tmp_path / "cli.sqlite3", c, profile="p", operator="t") for c in clients
    ]
    try:
        first, second = (j.engine for j in journals)
        intent = await first.begin(Operation.CAPTURE, ref, nok(2500))
        await bench.controls.set_faults(processing_ms=600)
        sending = asyncio.ensure_future(first.send(intent, None))
        await wait_until(lambda: _attempts(first.journal, intent.id) == 1)
        (listed,) = await second.pending(reference=ref)
        with pytest.raises(OutcomeUnknownError):
            await second.resume(listed, None)
        assert (await second.current(intent.id)).status is IntentStatus.PENDING  # type: ignore[union-attr]
        done = await sending
        assert done.moved == nok(2500)
        assert (await bench.event_names(ref)).count("CAPTURED") == 1
        final = await first.current(intent.id)
        assert final is not None
        assert final.status is IntentStatus.SUCCEEDED
    finally:
        await bench.controls.set_faults()
        for j in journals:
            await j.aclose()
        for c in clients:
            await c.aclose()


@pytest.mark.anyio
async def test_the_repeat_check_holds_when_another_desk_succeeds_before_the_intent_is_written(
    bench: Bench,
) -> None:
    """Two desks on one register capture the same amount at once. The second looked for a recent
    success before the first had one, then waited for the register (busy) while the first captured.
    Its intent must not be written as if nothing had happened: the check and the write are one."""
    ref = await bench.approved_payment(10000)
    loop = asyncio.get_running_loop()
    other = await bench.open_desk()
    try:
        # While the second desk's write waits for the register, the first desk captures.
        begin_waiting_in_a_thread(
            other.store.journal,
            lambda: asyncio.run_coroutine_threadsafe(bench.desk.capture(ref, nok(2500)), loop).result(30),
        )
        with pytest.raises(RepeatNotConfirmedError):
            await other.capture(ref, nok(2500))
        assert (await bench.event_names(ref)).count("CAPTURED") == 1
    finally:
        await other.aclose()


@pytest.mark.anyio
async def test_an_operation_on_a_payment_that_no_longer_exists_can_be_abandoned(bench: Bench) -> None:
    """The sandbox was reset (a trainer's next demo) while a capture had no known outcome: the API now
    says there is no such payment. Recovery leaves it open (a 404 alone is no proof), but the person
    can abandon it; before, it stayed pending for ever and blocked the payment's row."""
    ref = await bench.approved_payment(10000)
    long_ago = datetime.now(UTC) - ON_THE_WIRE - timedelta(minutes=1)
    intent = await bench.pending_intent(
        Operation.CAPTURE, ref, nok(2500), attempts=1, now=long_ago, attempted_at=long_ago
    )
    await bench.controls.reset("empty")
    (recovered,) = await bench.desk.recover_pending()
    assert recovered.outcome is RecoveryOutcome.STILL_UNKNOWN
    result = await bench.desk.abandon_intent(intent.id)
    assert result.outcome is RecoveryOutcome.FAILED
    assert "no payment" in result.message.lower()
    assert await bench.desk.pending_intents() == []


class ReplayCaptures(httpx.AsyncBaseTransport):
    """In front of the sandbox: once ``stale`` is set, a capture is answered with the answer of the
    capture before it (a broken cache in between); the sandbox never sees it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.stale = False
        self.last: bytes | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/capture"):
            if self.stale and self.last is not None:
                return httpx.Response(200, content=self.last, headers={"Content-Type": "application/json"})
            answer = await self.inner.handle_async_request(request)
            self.last = await answer.aread()
            return httpx.Response(answer.status_code, content=self.last, headers=answer.headers)
        return await self.inner.handle_async_request(request)


@pytest.mark.anyio
async def test_a_success_answer_that_does_not_show_the_capture_is_not_a_success(bench: Bench) -> None:
    """A 200 for the right payment whose amounts do not include this capture (an older answer replayed
    by something in between) does not confirm it: its outcome is unknown, and it is not recorded as
    captured when nothing was."""
    ref = await bench.approved_payment(10000)
    proxy = ReplayCaptures(bench.transport)
    async with bench.desk_through(proxy) as desk:
        await desk.capture(ref, nok(1000))
        proxy.stale = True
        with pytest.raises(OutcomeUnknownError):
            await desk.capture(ref, nok(2000))
        (pending,) = await desk.pending_intents()
        assert pending.amount == nok(2000)
    assert (await bench.event_names(ref)).count("CAPTURED") == 1
    done = await bench.desk.resume_intent(pending.id)
    assert done.amount == nok(2000)
    assert (await bench.event_names(ref)).count("CAPTURED") == 2
