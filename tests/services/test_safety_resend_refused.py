"""An intent whose request may already have reached the server (sent before a crash: attempts > 1 at
the resend) and whose resend the API refuses (4xx) is not closed as "nothing was moved" on the refusal
alone: the event log is read again. It shows the effect: RECONCILED. It shows nothing: FAILED, saying the
log was read. It cannot be read: the intent stays pending (unknown)."""

from __future__ import annotations

import json

import httpx
import pytest

from epay_desktop.api import ApiError, Environment, EPaymentClient, OutcomeUnknownError
from epay_desktop.services import IntentStatus, RecoveryOutcome
from epay_desktop.store import Operation
from tests.api.fakes import problem
from tests.services.conftest import BASE_URL, CREDENTIALS, Bench, fast_retry, nok

pytestmark = pytest.mark.anyio


class LaggingLogRefusedResend(httpx.AsyncBaseTransport):
    """In front of the sandbox: the first ``lag`` event-log reads leave out every event carrying
    ``hidden_key`` (a log that is behind), every cancel/capture/refund is refused with a 400 (the sandbox
    never sees it), and with ``log_down_after_refusal`` every event-log read after a refusal fails."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        hidden_key: str,
        *,
        lag: int = 1,
        log_down_after_refusal: bool = False,
    ) -> None:
        self.inner = inner
        self.hidden_key = hidden_key
        self.lag = lag
        self.log_down_after_refusal = log_down_after_refusal
        self.log_down = False
        self.moves = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path.startswith("/epayment/v1/payments/") and "/test/" not in path:
            self.moves += 1
            self.log_down = self.log_down_after_refusal
            return problem(400, "Payment is in a state that does not allow this", "6190")
        if request.method == "GET" and path.endswith("/events"):
            if self.log_down:
                return problem(503, "Service unavailable")
            response = await self.inner.handle_async_request(request)
            if self.lag > 0:
                self.lag -= 1
                events = json.loads(await response.aread())
                await response.aclose()
                kept = [e for e in events if e.get("idempotencyKey") != self.hidden_key]
                # A keyless cancel event written just now is hidden too (the log is behind).
                kept = [e for e in kept if e.get("name") not in ("CANCELLED", "TERMINATED")]
                return httpx.Response(200, json=kept)
            return response
        return await self.inner.handle_async_request(request)


def _client(proxy: httpx.AsyncBaseTransport) -> EPaymentClient:
    return EPaymentClient(Environment.sandbox(BASE_URL), CREDENTIALS, transport=proxy, retry=fast_retry())


async def test_a_refused_resend_of_a_capture_that_happened_is_reconciled(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    intent = await bench.pending_intent(Operation.CAPTURE, ref, nok(3000), attempts=1)
    # The first send reached the sandbox (then the app crashed before the answer was recorded).
    await bench.client.capture(ref, nok(3000), idempotency_key=intent.idempotency_key)
    proxy = LaggingLogRefusedResend(bench.transport, intent.idempotency_key)
    async with bench.desk_through(proxy) as desk:
        result = await desk.resume_intent(intent.id)
    assert proxy.moves == 1  # the resend went, and was refused
    assert result.reconciled
    assert result.amount == nok(3000)
    (after,) = await bench.desk.journal()
    assert after.status is IntentStatus.RECONCILED  # not FAILED "Nothing was moved"
    assert intent.idempotency_key in after.outcome
    assert (await bench.event_names(ref)).count("CAPTURED") == 1


async def test_a_refused_resend_with_nothing_in_the_log_says_the_log_was_read(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    intent = await bench.pending_intent(Operation.CAPTURE, ref, nok(3000), attempts=1)
    proxy = LaggingLogRefusedResend(bench.transport, intent.idempotency_key, lag=0)
    async with bench.desk_through(proxy) as desk:
        with pytest.raises(ApiError):
            await desk.resume_intent(intent.id)
    (after,) = await bench.desk.journal()
    assert after.status is IntentStatus.FAILED
    assert after.outcome.startswith("The API refused the resend (")
    assert after.outcome.endswith("the event log shows no capture, so nothing moved.")
    assert "CAPTURED" not in await bench.event_names(ref)


async def test_a_refused_resend_with_the_log_unreadable_stays_unknown(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    intent = await bench.pending_intent(Operation.CAPTURE, ref, nok(3000), attempts=1)
    await bench.client.capture(ref, nok(3000), idempotency_key=intent.idempotency_key)
    proxy = LaggingLogRefusedResend(bench.transport, intent.idempotency_key, log_down_after_refusal=True)
    async with bench.desk_through(proxy) as desk:
        with pytest.raises(OutcomeUnknownError):
            await desk.resume_intent(intent.id)
    (after,) = await bench.desk.journal()
    assert after.status is IntentStatus.PENDING  # "nothing moved" was never claimed: it did move


async def test_recovery_reconciles_a_cancel_whose_resend_was_refused(bench: Bench) -> None:
    ref = await bench.approved_payment(7700)
    intent = await bench.pending_intent(Operation.CANCEL, ref, nok(7700), attempts=1)
    await bench.client.cancel(ref, idempotency_key=intent.idempotency_key)
    proxy = LaggingLogRefusedResend(bench.transport, intent.idempotency_key)
    async with bench.desk_through(proxy) as desk:
        (result,) = await desk.recover_pending()
    assert proxy.moves == 1
    assert result.outcome is RecoveryOutcome.RECONCILED
    (after,) = await bench.desk.journal()
    assert after.status is IntentStatus.RECONCILED
    assert (await bench.event_names(ref)).count("CANCELLED") == 1


async def test_recovery_says_the_log_was_read_when_a_refused_resend_moved_nothing(bench: Bench) -> None:
    ref = await bench.approved_payment(7700)
    intent = await bench.pending_intent(Operation.CANCEL, ref, nok(7700), attempts=1)
    proxy = LaggingLogRefusedResend(bench.transport, intent.idempotency_key, lag=0)
    async with bench.desk_through(proxy) as desk:
        (result,) = await desk.recover_pending()
    assert result.outcome is RecoveryOutcome.FAILED
    assert "the event log shows no cancel, so nothing moved." in result.message
    (after,) = await bench.desk.journal()
    assert after.status is IntentStatus.FAILED
