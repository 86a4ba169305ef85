"""An intent whose last attempt may still be on the wire (another copy of the app is sending it) cannot
be abandoned; "nothing moved" is said only once every attempt is accounted for."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from epay_desktop.services import IntentStatus, OperationPendingError
from epay_desktop.services.recovery import ON_THE_WIRE
from epay_desktop.store import Operation
from tests.services.conftest import Bench, nok

pytestmark = pytest.mark.anyio


class HoldCaptures(httpx.AsyncBaseTransport):
    """In front of the sandbox: a capture is held (on the wire) until ``release`` is set."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/capture"):
            self.holding.set()
            await self.release.wait()
        return await self.inner.handle_async_request(request)


async def test_an_intent_being_sent_by_another_copy_cannot_be_abandoned(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    proxy = HoldCaptures(bench.transport)
    async with bench.desk_through(proxy) as copy_a:
        capture = asyncio.ensure_future(copy_a.capture(ref, nok(2500)))
        await asyncio.wait_for(proxy.holding.wait(), 10)
        copy_b = bench.desk  # another copy of the app on the same register
        (intent,) = await copy_b.pending_intents()
        with pytest.raises(OperationPendingError, match="may still be on its way") as refused:
            await copy_b.abandon_intent(intent.id)
        assert "cannot be abandoned until" in str(refused.value)
        (still,) = await copy_b.pending_intents()
        assert still.status is IntentStatus.PENDING
        proxy.release.set()
        result = await asyncio.wait_for(capture, 10)
        assert result.amount == nok(2500)
    captured = [e for e in await bench.client.get_events(ref) if e.name.value == "CAPTURED"]
    assert len(captured) == 1
    (done,) = await bench.desk.journal()
    assert done.status is IntentStatus.SUCCEEDED


async def test_an_intent_whose_attempts_all_ended_can_be_abandoned(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    long_ago = datetime.now(UTC) - ON_THE_WIRE - timedelta(minutes=1)
    intent = await bench.pending_intent(
        Operation.CAPTURE,
        ref,
        nok(2500),
        attempts=1,
        now=long_ago,
        attempted_at=long_ago,
    )
    result = await bench.desk.abandon_intent(intent.id)
    assert "Nothing was moved" in str(result)
    (done,) = await bench.desk.journal()
    assert done.status is IntentStatus.FAILED


async def test_an_intent_never_sent_can_be_abandoned_at_once(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    intent = await bench.pending_intent(Operation.CAPTURE, ref, nok(2500), attempts=0)
    result = await bench.desk.abandon_intent(intent.id)
    assert "Nothing was moved" in str(result)
