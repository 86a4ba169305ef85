"""Review findings 2 and 8: recovery never sends by itself what the person was told had failed, nor
an old or never-sent intent; it reports per intent what happened, and "still unknown" is never
reported as finished."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from epay_desktop.api import ApiError, Environment, EPaymentClient, NetworkError
from epay_desktop.services import (
    RESEND_WINDOW,
    CancelResult,
    DeskError,
    Intent,
    IntentStatus,
    RecoveryOutcome,
)
from epay_desktop.store import Operation
from tests.api.fakes import problem
from tests.services.conftest import BASE_URL, CREDENTIALS, Bench, fast_retry, nok

pytestmark = pytest.mark.anyio


async def test_recovery_reports_a_refusal_by_the_client_as_closed_not_as_tried_again(bench: Bench) -> None:
    # An intent the client refuses before sending (NotAllowedError): a reference it cannot send.
    await bench.pending_intent(Operation.CANCEL, "not/a/reference", None, attempts=1)
    (result,) = await bench.desk.recover_pending()
    text = str(result)
    assert "next time" not in text
    assert "not sent" in text.lower()
    (intent,) = await bench.desk.journal()
    assert intent.status is IntentStatus.FAILED
    assert await bench.desk.pending_intents() == []


class NoConnectionForMoves(httpx.AsyncBaseTransport):
    """In front of the sandbox: reads go through, money-moving POSTs cannot connect (nothing is sent)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.offline = True

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        moves = request.method == "POST" and request.url.path.startswith("/epayment/v1/payments/")
        if moves and self.offline:
            raise httpx.ConnectError("the server could not be reached")
        return await self.inner.handle_async_request(request)


async def test_a_cancel_that_was_not_sent_is_closed_and_never_sent_later(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    proxy = NoConnectionForMoves(bench.transport)
    client = EPaymentClient(Environment.sandbox(BASE_URL), CREDENTIALS, transport=proxy, retry=fast_retry())
    desk = await bench.open_desk(client)
    try:
        with pytest.raises(NetworkError, match="could not be reached"):
            await desk.cancel(ref)
        (intent,) = await desk.journal()
        assert intent.status is IntentStatus.FAILED
        assert intent.outcome.startswith("Not sent")
        proxy.offline = False  # back online
        assert await desk.recover_pending() == []  # nothing left to send behind the person's back
        captured = await desk.capture(ref, nok(2000))  # and nothing blocks the next operation
        assert captured.amount == nok(2000)
    finally:
        await desk.aclose()
        await client.aclose()
    names = await bench.event_names(ref)
    assert "CANCELLED" not in names
    assert names.count("CAPTURED") == 1


async def _pending(bench: Bench, ref: str, *, attempts: int, age: timedelta = timedelta(minutes=5)) -> Intent:
    return await bench.pending_intent(
        Operation.CANCEL, ref, nok(10000), attempts=attempts, now=datetime.now(UTC) - age
    )


async def test_an_intent_never_sent_waits_for_the_person_and_can_be_abandoned(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    intent = await _pending(bench, ref, attempts=0)
    (result,) = await bench.desk.recover_pending()
    assert result.outcome is RecoveryOutcome.NEEDS_DECISION
    assert result.needs_decision
    assert not result.finished
    assert (result.intent_id, result.reference, result.operation) == (intent.id, ref, Operation.CANCEL)
    assert "never sent" in str(result)
    assert "CANCELLED" not in await bench.event_names(ref)
    assert [i.id for i in await bench.desk.pending_intents()] == [intent.id]  # still open

    abandoned = await bench.desk.abandon_intent(intent.id)
    assert abandoned.outcome is RecoveryOutcome.FAILED
    assert "abandoned by tester" in str(abandoned)
    (closed,) = await bench.desk.journal()
    assert closed.status is IntentStatus.FAILED
    assert "CANCELLED" not in await bench.event_names(ref)
    await bench.desk.capture(ref, nok(1000))  # no longer blocked


async def test_an_old_intent_is_not_sent_again_by_itself_but_can_be_resumed(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    intent = await _pending(bench, ref, attempts=1, age=RESEND_WINDOW + timedelta(minutes=1))
    (result,) = await bench.desk.recover_pending()
    assert result.outcome is RecoveryOutcome.NEEDS_DECISION
    assert "24 hours" in str(result)
    assert "CANCELLED" not in await bench.event_names(ref)

    resumed = await bench.desk.resume_intent(intent.id)
    assert isinstance(resumed, CancelResult)
    assert resumed.released == nok(10000)
    (done,) = await bench.desk.journal()
    assert done.status is IntentStatus.SUCCEEDED
    assert done.attempts == 2
    events = await bench.client.get_events(ref)
    assert [e.idempotency_key for e in events if e.name.value == "CANCELLED"] == [intent.idempotency_key]
    with pytest.raises(DeskError, match="already finished"):
        await bench.desk.resume_intent(intent.id)


async def test_abandoning_an_intent_that_did_happen_records_it_as_reconciled(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    intent = await _pending(bench, ref, attempts=0)
    await bench.client.cancel(ref, idempotency_key=intent.idempotency_key)  # it went after all
    result = await bench.desk.abandon_intent(intent.id)
    assert result.outcome is RecoveryOutcome.RECONCILED
    assert "Not abandoned" in str(result)
    (done,) = await bench.desk.journal()
    assert done.status is IntentStatus.RECONCILED


async def test_abandoning_needs_the_event_log(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    intent = await _pending(bench, ref, attempts=1)
    await bench.controls.set_faults(error_rates={"500": 1.0, "503": 0.0, "429": 0.0})
    with pytest.raises(ApiError):
        await bench.desk.abandon_intent(intent.id)
    await bench.controls.set_faults()
    (still,) = await bench.desk.pending_intents()
    assert still.id == intent.id


async def test_still_unknown_is_not_reported_as_finished(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    await _pending(bench, ref, attempts=1)
    # The payment can be read, but every send fails on the server's side (5xx): still unknown.
    proxy = FailMoves(bench.transport)
    client = EPaymentClient(Environment.sandbox(BASE_URL), CREDENTIALS, transport=proxy, retry=fast_retry())
    desk = await bench.open_desk(client)
    try:
        (result,) = await desk.recover_pending()
    finally:
        await desk.aclose()
        await client.aclose()
    assert result.outcome is RecoveryOutcome.STILL_UNKNOWN
    assert not result.finished
    assert "no known outcome" in str(result)
    assert len(await bench.desk.pending_intents()) == 1


class FailMoves(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.startswith("/epayment/v1/payments/"):
            return problem(503, "Service Unavailable")
        return await self.inner.handle_async_request(request)
