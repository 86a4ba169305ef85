"""Review finding 6: a money-moving call in flight is visible (``busy_references``), can be waited for
(``drain``, also done by ``aclose``), and finishes and records its outcome even when the task that
awaited it is cancelled (closing the window, switching profile)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from epay_desktop.services import IntentStatus, OperationPendingError
from tests.services.conftest import Bench, nok

pytestmark = pytest.mark.anyio


class Gate(httpx.AsyncBaseTransport):
    """Holds every cancel, capture and refund until ``open`` is set; reads pass."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.open = asyncio.Event()
        self.waiting = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith(("/cancel", "/capture", "/refund")):
            self.waiting.set()
            await self.open.wait()
        return await self.inner.handle_async_request(request)


async def test_a_cancelled_caller_does_not_abandon_the_cancel(bench: Bench) -> None:
    ref = await bench.approved_payment(8800)
    gate = Gate(bench.transport)
    async with bench.desk_through(gate) as desk:
        assert desk.busy_references() == frozenset()
        caller = asyncio.create_task(desk.cancel(ref))
        await asyncio.wait_for(gate.waiting.wait(), 5)  # the request is on its way
        assert desk.busy_references() == {ref}
        caller.cancel()  # the window closes
        with pytest.raises(asyncio.CancelledError):
            await caller
        assert desk.busy_references() == {ref}  # still going
        with pytest.raises(OperationPendingError, match="in progress"):
            await desk.capture(ref, nok(100))
        gate.open.set()
        await asyncio.wait_for(desk.drain(), 5)
        assert desk.busy_references() == frozenset()
    (intent,) = await bench.desk.journal()
    assert intent.status is IntentStatus.SUCCEEDED
    assert (await bench.event_names(ref)).count("CANCELLED") == 1


async def test_closing_the_desk_waits_for_the_call_in_flight(bench: Bench) -> None:
    ref = await bench.approved_payment(5000)
    gate = Gate(bench.transport)
    async with bench.desk_through(gate) as desk:
        caller = asyncio.create_task(desk.capture(ref, nok(5000)))
        await asyncio.wait_for(gate.waiting.wait(), 5)
        caller.cancel()
        closing = asyncio.create_task(desk.aclose())
        await asyncio.sleep(0.05)
        assert not closing.done()  # waits for the capture
        gate.open.set()
        await asyncio.wait_for(closing, 5)
        with pytest.raises(asyncio.CancelledError):
            await caller
    (intent,) = await bench.desk.journal()
    assert intent.status is IntentStatus.SUCCEEDED
    assert (await bench.event_names(ref)).count("CAPTURED") == 1
