"""Review findings 4 and 5 through the desk, against the real sandbox: a cancel that went through
but whose retry was refused is settled from the event log, not recorded as refused."""

from __future__ import annotations

import httpx
import pytest

from epay_desktop.api import Environment, EPaymentClient, OutcomeUnknownError
from epay_desktop.services import IntentStatus
from tests.api.fakes import problem
from tests.services.conftest import BASE_URL, CREDENTIALS, Bench, nok

pytestmark = pytest.mark.anyio


class RefuseTheRetry(httpx.AsyncBaseTransport):
    """In front of the sandbox: the first money-moving POST goes through (the sandbox commits it and,
    with ``dropAfterCommit``, drops the answer); the next one is refused by something in between (a
    gateway answering 400 6190), as the real API may answer a replay once the state has moved on."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, drop_first: bool = False) -> None:
        self.inner = inner
        self.drop_first = drop_first  # drop the first answer here (the sandbox drops only modifications)
        self.moves = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        moves = request.method == "POST" and request.url.path.startswith("/epayment/v1/payments")
        if moves:
            self.moves += 1
            if self.moves > 1:
                return problem(400, "Cannot cancel", "6190")
            if self.drop_first:
                response = await self.inner.handle_async_request(request)
                await response.aread()
                await response.aclose()
                raise httpx.ReadError("the answer was lost after the server committed it")
        return await self.inner.handle_async_request(request)


async def test_a_cancel_that_happened_but_whose_retry_was_refused_is_reconciled(bench: Bench) -> None:
    ref = await bench.approved_payment(7700)
    proxy = RefuseTheRetry(bench.transport)
    client = EPaymentClient(
        Environment.sandbox(BASE_URL), CREDENTIALS, transport=proxy, retry=bench.new_client().session.retry
    )
    desk = await bench.open_desk(client)
    try:
        await bench.controls.set_faults(drop_after_commit=1)
        result = await desk.cancel(ref)
    finally:
        await desk.aclose()
        await client.aclose()
    assert proxy.moves == 2
    assert result.reconciled
    assert result.released == nok(7700)
    (intent,) = await bench.desk.journal()
    assert intent.status is IntentStatus.RECONCILED  # not FAILED "Refused"
    assert (await bench.event_names(ref)).count("CANCELLED") == 1


async def test_a_created_payment_whose_retry_was_refused_stays_in_the_register(bench: Bench) -> None:
    proxy = RefuseTheRetry(bench.transport, drop_first=True)
    client = EPaymentClient(
        Environment.sandbox(BASE_URL), CREDENTIALS, transport=proxy, retry=bench.new_client().session.retry
    )
    desk = await bench.open_desk(client)
    try:
        with pytest.raises(OutcomeUnknownError):
            await desk.create_payment(nok(5000), "2x Kanelbolle", "4791234567")
    finally:
        await desk.aclose()
        await client.aclose()
    assert proxy.moves == 2
    (row,) = await bench.desk.load_register()  # the customer may have the push message: keep it
    refreshed = await bench.desk.refresh(row.reference)
    assert refreshed.payment is not None
    assert refreshed.payment.amount == nok(5000)
