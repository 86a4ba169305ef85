"""Second review: an intent finished elsewhere (abandoned, settled by another desk or process) while
this desk was busy is never sent again from a stale copy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from epay_desktop.api import new_idempotency_key
from epay_desktop.services import IntentStatus, OperationFinishedError, OperationPendingError, RecoveryOutcome
from epay_desktop.services.recovery import ON_THE_WIRE
from epay_desktop.store import IntentFinishedError, Operation, Store
from tests.services.conftest import Bench, MovesProxy, nok


@pytest.mark.anyio
async def test_recovery_does_not_resend_an_intent_abandoned_meanwhile(bench: Bench) -> None:
    first = await bench.approved_payment(10000)
    second = await bench.approved_payment(10000)
    # Interrupted (a crash) long enough ago that no attempt of them can still be on its way.
    ended = datetime.now(UTC) - ON_THE_WIRE - timedelta(minutes=1)
    one = await bench.pending_intent(Operation.CAPTURE, first, nok(3000), attempts=1, attempted_at=ended)
    two = await bench.pending_intent(Operation.CAPTURE, second, nok(3000), attempts=1, attempted_at=ended)

    async def abandon_the_second(request: httpx.Request) -> None:
        # While this desk resends the first intent, the person abandons the second in another window.
        if first in request.url.path:
            abandoned = await bench.desk.abandon_intent(two.id)
            assert abandoned.outcome is RecoveryOutcome.FAILED

    proxy = MovesProxy(bench.transport, before=abandon_the_second)
    async with bench.desk_through(proxy) as desk:
        results = await desk.recover_pending()
    by_id = {r.intent_id: r for r in results}
    assert by_id[one.id].outcome is RecoveryOutcome.SUCCEEDED
    assert two.id not in by_id or by_id[two.id].outcome is not RecoveryOutcome.SUCCEEDED
    assert "CAPTURED" not in await bench.event_names(second)  # abandoned: never sent
    journal = {i.id: i for i in await bench.desk.journal()}
    assert journal[two.id].status is IntentStatus.FAILED
    assert journal[two.id].attempts == 1


class AbandonOnRead(httpx.AsyncBaseTransport):
    """In front of the sandbox: the first GET of the payment runs ``hook`` first (another window acts
    between this desk's read of the journal and its send)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, hook: Callable[[], Awaitable[None]]) -> None:
        self.inner = inner
        self.hook: Callable[[], Awaitable[None]] | None = hook
        self.moves = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and self.hook is not None:
            hook, self.hook = self.hook, None
            await hook()
        if request.method == "POST" and request.url.path.startswith("/epayment/v1/payments/"):
            self.moves += 1
        return await self.inner.handle_async_request(request)


@pytest.mark.anyio
async def test_a_capture_that_would_resume_an_intent_abandoned_meanwhile_sends_nothing(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    ended = datetime.now(UTC) - ON_THE_WIRE - timedelta(minutes=1)  # no attempt can still be on its way
    intent = await bench.pending_intent(Operation.CAPTURE, ref, nok(3000), attempts=1, attempted_at=ended)

    async def abandon() -> None:
        await bench.desk.abandon_intent(intent.id)

    proxy = AbandonOnRead(bench.transport, abandon)
    async with bench.desk_through(proxy) as other:
        # Finds the pending capture of 3000 (the same operation): resumes it; the person abandons it
        # in another window while this desk reads the event log.
        with pytest.raises(OperationFinishedError, match="finished meanwhile"):
            await other.capture(ref, nok(3000))
        assert other.busy_references() == frozenset()
    assert proxy.moves == 0
    assert "CAPTURED" not in await bench.event_names(ref)
    (done,) = await bench.desk.journal()
    assert done.status is IntentStatus.FAILED
    assert done.attempts == 1


def test_the_journal_refuses_to_count_an_attempt_on_a_finished_intent(tmp_path: Path) -> None:
    with Store(tmp_path / "r.sqlite3") as store:
        intent = store.journal.begin(
            operation=Operation.CANCEL,
            profile="p",
            msn="123456",
            reference="ref-12345678",
            amount=None,
            idempotency_key=new_idempotency_key(),
            os_user="u",
        )
        assert store.journal.note_attempt(intent.id) == 1
        store.journal.finish(intent.id, IntentStatus.FAILED, "abandoned", os_user="u")
        with pytest.raises(IntentFinishedError):
            store.journal.note_attempt(intent.id)
        after = store.journal.get(intent.id)
        assert after is not None
        assert after.attempts == 1


class AfterMove(httpx.AsyncBaseTransport):
    """In front of the sandbox: runs ``hook`` on the first read after a money-moving POST answered."""

    def __init__(self, inner: httpx.AsyncBaseTransport, hook: Callable[[], Awaitable[None]]) -> None:
        self.inner = inner
        self.hook = hook
        self.moved = False
        self.seen = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and self.moved and not self.seen:
            self.seen = True
            await self.hook()
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/capture"):
            self.moved = True
        return response


@pytest.mark.anyio
async def test_a_confirmed_capture_is_recorded_before_the_payment_is_read_again(bench: Bench) -> None:
    # If the app dies while it reads the payment after the API confirmed (up to the retry budget on a
    # slow line), the journal must already say it succeeded, not leave it pending.
    ref = await bench.approved_payment(10000)
    seen: list[IntentStatus] = []

    async def look() -> None:
        (intent,) = await bench.desk.journal()
        seen.append(intent.status)

    async with bench.desk_through(AfterMove(bench.transport, look)) as desk:
        result = await desk.capture(ref, nok(3000))
    assert result.amount == nok(3000)
    assert seen == [IntentStatus.SUCCEEDED]


@pytest.mark.anyio
async def test_an_abandon_while_the_request_is_on_the_wire_is_refused(bench: Bench) -> None:
    # Another window tries to abandon the intent while its request is on the wire (the event log does
    # not show it yet): refused, so "nothing moved" is never said of it, and the confirmation stands.
    ref = await bench.approved_payment(10000)
    refused: list[str] = []

    async def abandon_meanwhile(_request: httpx.Request) -> None:
        (intent,) = await bench.desk.pending_intents()
        with pytest.raises(OperationPendingError, match="may still be on its way") as error:
            await bench.desk.abandon_intent(intent.id)
        refused.append(str(error.value))

    async with bench.desk_through(MovesProxy(bench.transport, before=abandon_meanwhile)) as desk:
        result = await desk.capture(ref, nok(3000))
    assert refused
    assert result.amount == nok(3000)
    assert (await bench.event_names(ref)).count("CAPTURED") == 1
    (intent,) = await bench.desk.journal()
    assert intent.status is IntentStatus.SUCCEEDED
    assert "Captured" in intent.outcome
    results = [e.result for e in await bench.desk.audit() if e.reference == ref and e.action == "capture"]
    assert results == ["succeeded", "requested"]  # newest first


def test_the_journal_lets_a_confirmed_outcome_replace_failed_but_nothing_else(tmp_path: Path) -> None:
    with Store(tmp_path / "r.sqlite3") as store:
        ids = []
        for ref in ("ref-aaaaaaaa", "ref-bbbbbbbb"):
            intent = store.journal.begin(
                operation=Operation.CAPTURE,
                profile="p",
                msn="123456",
                reference=ref,
                amount=None,
                idempotency_key=new_idempotency_key(),
                os_user="u",
            )
            ids.append(intent.id)
        store.journal.finish(ids[0], IntentStatus.FAILED, "abandoned", os_user="u")
        assert store.journal.finish(ids[0], IntentStatus.SUCCEEDED, "ok", os_user="u").status is (
            IntentStatus.SUCCEEDED
        )
        store.journal.finish(ids[1], IntentStatus.SUCCEEDED, "ok", os_user="u")
        assert store.journal.finish(ids[1], IntentStatus.FAILED, "late", os_user="u").status is (
            IntentStatus.SUCCEEDED
        )
        assert store.journal.finish(ids[0], IntentStatus.FAILED, "late", os_user="u").status is (
            IntentStatus.SUCCEEDED
        )


@pytest.mark.anyio
async def test_a_capture_reaches_the_server_only_after_its_intent_and_attempt_are_committed(
    bench: Bench,
) -> None:
    # begin_and_send counts the first attempt in the commit that begins the intent: what the server
    # receives must already be in the journal, with its key and that attempt, for another reader.
    ref = await bench.approved_payment(10000)
    seen: list[tuple[IntentStatus, int, str]] = []

    async def look(request: httpx.Request) -> None:
        with Store(bench.register) as other:
            (intent,) = other.journal.pending(reference=ref)
        seen.append((intent.status, intent.attempts, intent.idempotency_key))
        assert request.headers["Idempotency-Key"] == intent.idempotency_key

    proxy = MovesProxy(bench.transport, before=look)
    async with bench.desk_through(proxy) as desk:
        await desk.capture(ref, nok(3000))
        (intent,) = [i for i in await desk.journal() if i.reference == ref]
    assert [(status, attempts) for status, attempts, _key in seen] == [(IntentStatus.PENDING, 1)]
    assert (intent.status, intent.attempts) == (IntentStatus.SUCCEEDED, 1)
