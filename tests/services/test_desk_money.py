"""Cancel, capture and refund through the journal, against the real client and sandbox (in-process)."""

from __future__ import annotations

import httpx
import pytest

from epay_desktop.api import (
    ApiError,
    Environment,
    EPaymentClient,
    MalformedResponseError,
    OutcomeUnknownError,
    new_idempotency_key,
)
from epay_desktop.domain import State
from epay_desktop.services import (
    ActionNotPossibleError,
    CancelResult,
    IntentStatus,
    NotTrackedError,
    OperationPendingError,
    OperationResult,
    RecoveryOutcome,
)
from epay_desktop.store import Operation
from tests.services.conftest import BASE_URL, CREDENTIALS, Bench, MovesProxy, fast_retry, nok

pytestmark = pytest.mark.anyio


async def test_cancel_after_authorization_releases_everything_once(bench: Bench) -> None:
    ref = await bench.approved_payment(24900)
    result = await bench.desk.cancel(ref)
    assert result.released == nok(24900)
    assert not result.reconciled
    assert "24900" not in result.message  # money in words, not minor units
    assert "249.00\u00a0NOK" in result.message
    assert result.tracked.payment is not None
    assert result.tracked.payment.aggregate.cancelled == nok(24900)
    assert result.tracked.payment.state is State.AUTHORIZED
    assert [e.name.value for e in result.tracked.events] == ["CREATED", "AUTHORIZED", "CANCELLED"]

    (intent,) = await bench.desk.journal()
    assert intent.status is IntentStatus.SUCCEEDED
    assert intent.operation is Operation.CANCEL
    assert intent.attempts == 1
    events = await bench.client.get_events(ref)
    cancelled = [e for e in events if e.name.value == "CANCELLED"]
    assert len(cancelled) == 1
    assert cancelled[0].idempotency_key == intent.idempotency_key  # the journaled key was the one sent
    audit = [(a.action, a.result) for a in await bench.desk.audit()]
    assert audit[:2] == [("cancel", "succeeded"), ("cancel", "requested")]


async def test_cancel_before_approval_terminates_the_payment(bench: Bench) -> None:
    tracked = await bench.desk.create_payment(nok(4500), "1x Skolebolle", "4791234567")
    result = await bench.desk.cancel(tracked.reference)
    assert result.released == nok(4500)
    assert result.tracked.payment is not None
    assert result.tracked.payment.state is State.TERMINATED
    assert "The payment is now closed." in result.message


async def test_cancel_after_a_partial_capture_releases_the_rest(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    captured = await bench.desk.capture(ref, nok(2500))
    assert captured.amount == nok(2500)
    result = await bench.desk.cancel(ref)
    assert result.released == nok(7500)
    with pytest.raises(ActionNotPossibleError, match="Already cancelled"):
        await bench.desk.cancel(ref)
    assert len(await bench.desk.journal()) == 2  # the refused third try wrote no intent


async def test_capture_and_refund_are_journaled_and_checked(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    with pytest.raises(ActionNotPossibleError, match=r"At most 100\.00 NOK"):
        await bench.desk.capture(ref, nok(10001))
    await bench.desk.capture(ref, nok(10000))
    refund = await bench.desk.refund(ref, nok(4000))
    assert refund.amount == nok(4000)
    assert refund.tracked.payment is not None
    assert refund.tracked.payment.aggregate.refunded == nok(4000)
    intents = await bench.desk.journal()
    assert [(i.operation.value, i.status.value) for i in intents] == [
        ("refund", "succeeded"),
        ("capture", "succeeded"),
    ]


async def test_a_payment_not_in_the_register_is_refused(bench: Bench) -> None:
    with pytest.raises(NotTrackedError, match="not in the register"):
        await bench.desk.cancel("not-tracked-1")


async def test_an_api_refusal_is_raised_unchanged_and_recorded(bench: Bench) -> None:
    ref = await bench.approved_payment(5000)

    async def someone_else_cancels(_request: httpx.Request) -> None:
        # Between the desk's fresh read and its send, another app (the portal) cancels.
        await bench.client.cancel(ref, idempotency_key=new_idempotency_key())

    async with bench.desk_through(MovesProxy(bench.transport, before=someone_else_cancels)) as desk:
        with pytest.raises(ApiError) as caught:
            await desk.cancel(ref)
    assert caught.value.status == 400
    (intent,) = await bench.desk.journal()
    assert intent.status is IntentStatus.FAILED
    assert "Refused" in intent.outcome
    row = await bench.desk.tracked(ref)
    assert row is not None
    assert row.payment is not None
    assert row.payment.aggregate.cancelled == nok(5000)  # the row was refreshed after the refusal


async def test_a_lost_answer_is_reconciled_from_the_event_log(bench: Bench) -> None:
    ref = await bench.approved_payment(8700)
    once = bench.new_client(retry=fast_retry(attempts=1))
    desk = await bench.open_desk(once)
    try:
        await bench.controls.set_faults(drop_after_commit=1)
        result = await desk.cancel(ref)
    finally:
        await desk.aclose()
        await once.aclose()
    assert result.reconciled
    assert result.released == nok(8700)
    assert "event log" in result.message
    assert (await bench.event_names(ref)).count("CANCELLED") == 1
    (intent,) = await bench.desk.journal()
    assert intent.status is IntentStatus.RECONCILED


async def test_an_unknown_outcome_stays_pending_then_recovery_finishes_it_once(bench: Bench) -> None:
    ref = await bench.approved_payment(6000)
    async with bench.desk_through(MovesProxy(bench.transport, status=500)) as desk:
        with pytest.raises(OutcomeUnknownError):
            await desk.cancel(ref)
    (intent,) = await bench.desk.pending_intents()
    assert intent.status is IntentStatus.PENDING
    # A different operation on the same payment waits for this one.
    with pytest.raises(OperationPendingError, match="no known outcome"):
        await bench.desk.capture(ref, nok(100))
    (result,) = await bench.desk.recover_pending()
    assert result.outcome is RecoveryOutcome.SUCCEEDED
    assert result.finished
    assert "Cancelled" in str(result)
    assert "same idempotency key" in str(result)
    assert await bench.desk.pending_intents() == []
    events = await bench.client.get_events(ref)
    cancels = [e for e in events if e.name.value == "CANCELLED"]
    assert len(cancels) == 1
    assert cancels[0].idempotency_key == intent.idempotency_key


async def test_trying_the_same_cancel_again_reuses_the_pending_intent(bench: Bench) -> None:
    ref = await bench.approved_payment(6000)
    async with bench.desk_through(MovesProxy(bench.transport, status=503)) as desk:
        with pytest.raises(OutcomeUnknownError):
            await desk.cancel(ref)
    result = await bench.desk.cancel(ref)  # the person clicks Cancel again
    assert result.released == nok(6000)
    intents = await bench.desk.journal()
    assert len(intents) == 1
    assert intents[0].attempts == 2
    assert (await bench.event_names(ref)).count("CANCELLED") == 1


async def test_recovery_settles_from_the_log_without_sending_again(bench: Bench) -> None:
    ref = await bench.approved_payment(3000)
    key = new_idempotency_key()
    # As if the app died right after the request went out: the journal says pending, the API did it.
    await bench.pending_intent(Operation.CAPTURE, ref, nok(3000), key=key)
    await bench.client.capture(ref, nok(3000), idempotency_key=key)
    before = (await bench.controls.stats())["requests"]
    (result,) = await bench.desk.recover_pending()
    assert result.outcome is RecoveryOutcome.RECONCILED
    assert result.intent_id == 1
    assert str(result) == (
        f"Captured 30.00\u00a0NOK of {ref}. The answer to the request was lost; the payment's event log "
        f"shows it went through (idempotency key {key})."
    )
    # Only reads (token + payment + events), no second capture.
    assert (await bench.controls.stats())["requests"] - before <= 3
    assert (await bench.event_names(ref)).count("CAPTURED") == 1
    (intent,) = await bench.desk.journal()
    assert intent.status is IntentStatus.RECONCILED


async def test_recovery_reports_a_refusal_in_words(bench: Bench) -> None:
    ref = await bench.approved_payment(3000)
    # Attempted (the request may have reached the server) and recent: sent again by itself.
    await bench.pending_intent(Operation.REFUND, ref, nok(3000), attempts=1)
    (result,) = await bench.desk.recover_pending()
    assert result.outcome is RecoveryOutcome.FAILED
    assert "The API refused the resend (" in str(result)
    # Said only after the event log was read (it may have moved before the crash).
    assert str(result).endswith("the event log shows no refund, so nothing moved.")
    (intent,) = await bench.desk.journal()
    assert intent.status is IntentStatus.FAILED


class GarbledAnswers(httpx.AsyncBaseTransport):
    """A proxy in front of the sandbox that lets money-moving calls through (the sandbox commits them)
    and then replaces their 2xx answer with a page nobody can read."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.garbled = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        moves = request.method == "POST" and request.url.path.startswith("/epayment/v1/payments")
        if moves and 200 <= response.status_code < 300:
            await response.aread()
            await response.aclose()
            self.garbled += 1
            return httpx.Response(response.status_code, content=b"<html>Captive portal</html>")
        return response


@pytest.mark.parametrize("operation", ["cancel", "capture"])
async def test_an_unreadable_success_answer_is_reconciled_from_the_event_log(
    bench: Bench, operation: str
) -> None:
    ref = await bench.approved_payment(4200)
    garbled = GarbledAnswers(bench.transport)
    client = EPaymentClient(Environment.sandbox(BASE_URL), CREDENTIALS, transport=garbled)
    desk = await bench.open_desk(client)
    try:
        result: CancelResult | OperationResult = (
            await desk.cancel(ref) if operation == "cancel" else await desk.capture(ref, nok(4200))
        )
    finally:
        await desk.aclose()
        await client.aclose()
    assert garbled.garbled == 1
    assert result.reconciled
    assert (await bench.event_names(ref)).count("CANCELLED" if operation == "cancel" else "CAPTURED") == 1
    (intent,) = await bench.desk.journal()
    assert intent.status is IntentStatus.RECONCILED


async def test_an_unreadable_create_answer_keeps_the_payment_tracked(bench: Bench) -> None:
    garbled = GarbledAnswers(bench.transport)
    client = EPaymentClient(Environment.sandbox(BASE_URL), CREDENTIALS, transport=garbled)
    desk = await bench.open_desk(client)
    try:
        with pytest.raises(OutcomeUnknownError) as caught:
            await desk.create_payment(nok(5000), "2x Kanelbolle", "4791234567")
    finally:
        await desk.aclose()
        await client.aclose()
    assert isinstance(caught.value.last_error, MalformedResponseError)
    (row,) = await bench.desk.load_register()
    assert row.reference == caught.value.reference
    assert row.fetch_error  # kept, marked, so a refresh shows what happened
    refreshed = await bench.desk.refresh(row.reference)
    assert refreshed.payment is not None
    assert refreshed.payment.state is State.CREATED  # it was created after all
    newest = (await bench.desk.audit())[0]
    assert (newest.action, newest.result) == ("create", "unknown")
