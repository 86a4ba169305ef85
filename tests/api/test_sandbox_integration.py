"""The client against the real sandbox: in-process (``httpx.ASGITransport``) and over real HTTP
(uvicorn on 127.0.0.1), with the sandbox's faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from epay_desktop.api import (
    ApiError,
    Credentials,
    Environment,
    EPaymentClient,
    MalformedResponseError,
    NotFoundError,
    RetryPolicy,
    SandboxControls,
    retry_with_same_key,
)
from epay_desktop.domain import Currency, EventName, Money, State, cancel_outcome
from epay_desktop.sandbox import SandboxConfig, create_app
from tests.support.sandbox_server import running_sandbox

pytestmark = pytest.mark.anyio

NOK = Currency.NOK
MSN = "123456"
MODES = ["in-process", "http"]
DEMO = Credentials("demo-client", "demo-secret", "demo-subscription-key", MSN)


@dataclass
class Sandbox:
    """One running sandbox, reached in-process or over HTTP."""

    base_url: str
    app: Starlette | None  # set in-process

    def transport(self) -> httpx.AsyncBaseTransport | None:
        return httpx.ASGITransport(app=self.app) if self.app is not None else None

    def client(self, retry: RetryPolicy | None = None, credentials: Credentials = DEMO) -> EPaymentClient:
        return EPaymentClient(
            Environment.sandbox(self.base_url), credentials, transport=self.transport(), retry=retry
        )

    def controls(self) -> SandboxControls:
        return SandboxControls(self.base_url, transport=self.transport())


def _config(**overrides: object) -> SandboxConfig:
    values: dict[str, object] = {"data": "empty", "rate_limits": False, "frozen_clock": True}
    values.update(overrides)
    return SandboxConfig(**values)  # type: ignore[arg-type]


@contextmanager
def start(mode: str, config: SandboxConfig) -> Iterator[Sandbox]:
    if mode == "in-process":
        yield Sandbox("http://sandbox.epay.local", create_app(config))
    else:
        with running_sandbox(config) as url:
            yield Sandbox(url, None)


@pytest.fixture(params=MODES)
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    with start(request.param, _config()) as box:
        yield box


@asynccontextmanager
async def opened(
    sandbox: Sandbox, retry: RetryPolicy | None = None
) -> AsyncIterator[tuple[EPaymentClient, SandboxControls]]:
    async with sandbox.client(retry) as client, sandbox.controls() as controls:
        yield client, controls


async def _authorized_payment(client: EPaymentClient, reference: str, value: int = 10000) -> None:
    await client.create_payment(
        reference=reference,
        amount=Money(value, NOK),
        description="Integration test",
        phone_number="4791234567",
    )
    await client.force_approve(reference)


async def test_lifecycle_create_approve_capture_refund_cancel(sandbox: Sandbox) -> None:
    ref = "life-cycle-0001"
    async with opened(sandbox) as (client, _):
        created = await client.create_payment(
            reference=ref, amount=Money(10000, NOK), description="Two coffees", phone_number="4791234567"
        )
        assert created.reference == ref
        assert (await client.get_payment(ref)).state is State.CREATED
        await client.force_approve(ref)
        captured = await client.capture(ref, Money(2500, NOK))
        assert captured.aggregate.captured == Money(2500, NOK)
        refunded = await client.refund(ref, Money(500, NOK))
        assert refunded.aggregate.refunded == Money(500, NOK)
        outcome = cancel_outcome(refunded)
        assert outcome is not None
        cancelled = await client.cancel(ref)
        assert cancelled.state is State.AUTHORIZED
        assert cancelled.aggregate.cancelled == outcome.released == Money(7500, NOK)
        events = await client.get_events(ref)
    assert [e.name for e in events] == [
        EventName.CREATED,
        EventName.AUTHORIZED,
        EventName.CAPTURED,
        EventName.REFUNDED,
        EventName.CANCELLED,
    ]
    assert all(e.success for e in events)


async def test_dropped_cancel_answer_is_retried_with_the_same_key_and_cancels_once(sandbox: Sandbox) -> None:
    ref = "drop-cancel-0001"
    async with opened(sandbox, RetryPolicy(base_delay=0.0)) as (client, controls):
        await _authorized_payment(client, ref)
        await controls.set_faults(drop_after_commit=1)
        payment = await client.cancel(ref, idempotency_key="journal-key-drop-1")
        assert payment.aggregate.cancelled == Money(10000, NOK)
        events = await client.get_events(ref)
        faults = await controls.get_faults()
    cancels = [e for e in events if e.name is EventName.CANCELLED]
    assert len(cancels) == 1
    assert faults["dropAfterCommit"] == 0  # the fault did fire: the first answer was lost


async def test_dropped_answers_every_time_is_outcome_unknown_and_a_later_retry_settles_it(
    sandbox: Sandbox,
) -> None:
    from epay_desktop.api import OutcomeUnknownError

    ref = "drop-cancel-0002"
    async with opened(sandbox, RetryPolicy(max_attempts=2, base_delay=0.0)) as (client, controls):
        await _authorized_payment(client, ref)
        await controls.set_faults(drop_after_commit=5)
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.cancel(ref)
        key = caught.value.idempotency_key
        await controls.set_faults()
        # Reconcile: the event log says the cancel happened; a retry with the same key replays it.
        events = await client.get_events(ref)
        assert [e.name for e in events].count(EventName.CANCELLED) == 1
        again = await client.cancel(ref, idempotency_key=key)
        assert again.aggregate.cancelled == Money(10000, NOK)
        events = await client.get_events(ref)
    assert [e.name for e in events].count(EventName.CANCELLED) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_429_waits_as_retry_after_says(mode: str) -> None:
    """Rate limits on (5 writes a minute per reference). The recorded sleep moves the sandbox's clock
    instead of waiting, so the retry after ``Retry-After`` seconds goes through."""
    waits: list[float] = []
    with start(mode, _config(rate_limits=True)) as box:
        async with box.controls() as controls:

            async def sleep(seconds: float) -> None:
                waits.append(seconds)
                await controls.advance_clock(seconds)

            async with box.client(RetryPolicy(sleep=sleep, total_budget=120)) as client:
                ref = "rate-limit-0001"
                await _authorized_payment(client, ref)
                # Capture has its own budget of 5 a minute per reference (per endpoint, agent-toolkit
                # epayment_references_errors.md "Rate limits"): the sixth waits.
                for _ in range(5):
                    await client.capture(ref, Money(100, NOK))
                payment = await client.capture(ref, Money(100, NOK))
    assert payment.aggregate.captured == Money(600, NOK)
    assert len(waits) == 1
    assert 0 < waits[0] <= 60  # the sandbox's Retry-After, honoured as given


async def test_token_expires_mid_run(sandbox: Sandbox) -> None:
    ref = "token-expiry-01"
    async with opened(sandbox) as (client, controls):
        await client.create_payment(
            reference=ref, amount=Money(1000, NOK), description="Token", phone_number="4791234567"
        )
        await client.get_payment(ref)
        before = (await controls.stats())["tokenRequests"]
        await controls.advance_clock(3601)  # the server's token expired; the client does not know yet
        payment = await client.get_payment(ref)
        after = (await controls.stats())["tokenRequests"]
    assert payment.reference == ref
    assert (before, after) == (1, 2)
    assert client.token_requests == 2


async def test_hundred_concurrent_calls_on_a_cold_cache_one_token_request(sandbox: Sandbox) -> None:
    async with opened(sandbox) as (client, controls):
        # The token for setting up comes from another client so this one starts cold.
        async with sandbox.client() as setup:
            await setup.create_payment(
                reference="cold-cache-0001",
                amount=Money(1000, NOK),
                description="Cold",
                phone_number="4791234567",
            )
        before = (await controls.stats())["tokenRequests"]
        payments = await asyncio.gather(*(client.get_payment("cold-cache-0001") for _ in range(100)))
        after = (await controls.stats())["tokenRequests"]
    assert len(payments) == 100
    assert after - before == 1


async def test_api_refusals_are_typed_with_code_and_advice(sandbox: Sandbox) -> None:
    async with opened(sandbox) as (client, _):
        with pytest.raises(NotFoundError):
            await client.get_payment("no-such-payment-1")
        ref = "refusals-00001"
        await _authorized_payment(client, ref, 1000)
        with pytest.raises(ApiError) as too_much:
            await client.capture(ref, Money(5000, NOK))
        assert too_much.value.error_code == "6090"
        await client.capture(ref, Money(1000, NOK))
        with pytest.raises(ApiError) as captured:
            await client.cancel(ref)
    assert captured.value.error_code == "6040"
    assert "refund instead" in captured.value.advice
    assert captured.value.trace_id


async def test_injected_5xx_are_retried_until_the_call_goes_through(sandbox: Sandbox) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)  # recorded, not waited: the injected 503s say Retry-After: 1

    retry = RetryPolicy(max_attempts=30, sleep=sleep)
    async with opened(sandbox, retry) as (client, controls):
        await client.create_payment(
            reference="flaky-00000001",
            amount=Money(1000, NOK),
            description="Flaky",
            phone_number="4791234567",
        )
        await controls.set_faults(error_rates={"500": 0.3, "503": 0.3, "429": 0.0})
        payments = [await client.get_payment("flaky-00000001") for _ in range(5)]
        await controls.set_faults()
    assert {p.reference for p in payments} == {"flaky-00000001"}
    assert waits  # some attempts did fail and were retried


async def test_demo_data_reads_cleanly_for_every_merchant() -> None:
    app = create_app(SandboxConfig(data="demo", rate_limits=False))
    box = Sandbox("http://sandbox.epay.local", app)
    for msn in ("123456", "223344", "334455"):
        creds = Credentials("demo-client", "demo-secret", "demo-subscription-key", msn)
        async with box.controls() as controls, box.client(credentials=creds) as client:
            items, total = await controls.list_payments(msn)
            assert total == len(items) > 0
            states = set()
            for item in items:
                payment = await client.get_payment(item["reference"])
                events = await client.get_events(item["reference"])
                assert events
                assert payment.state is not State.UNKNOWN
                states.add(payment.state)
            assert State.AUTHORIZED in states


async def test_controls_play_the_customer(sandbox: Sandbox) -> None:
    async with opened(sandbox) as (client, controls):
        await client.create_payment(
            reference="customer-00001", amount=Money(1000, NOK), description="Play", phone_number="4791234567"
        )
        payment = await controls.customer(MSN, "customer-00001", "reject")
        assert payment.state is State.ABORTED
        with pytest.raises(ApiError):
            await controls.customer(MSN, "customer-00001", "approve")
        await controls.reset("empty")
        items, total = await controls.list_payments(MSN)
    assert (items, total) == ([], 0)


def _garbage_app() -> Starlette:
    async def token(request: Request) -> Response:
        return Response('{"access_token": "x.y.z", "expires_in": "3600"}', media_type="application/json")

    async def garbage(request: Request) -> Response:
        return Response(b"\x00\x01<html>not json at all", media_type="application/json")

    return Starlette(
        routes=[
            Route("/accesstoken/get", token, methods=["POST"]),
            Route("/epayment/v1/payments/{reference}", garbage, methods=["GET"]),
        ]
    )


async def test_garbage_body_from_a_fake_server_over_http_is_a_typed_error() -> None:
    with running_sandbox(app=_garbage_app()) as url:
        async with EPaymentClient(Environment.sandbox(url), DEMO) as client:
            with pytest.raises(MalformedResponseError, match="not JSON"):
                await client.get_payment("anything-123")


async def test_a_qr_payment_gets_the_target_url_a_phone_opens(sandbox: Sandbox) -> None:
    async with opened(sandbox) as (client, _controls):
        created = await client.create_payment(
            reference="qr-target-001", amount=Money(4900, NOK), description="QR at the till", user_flow="QR"
        )
        image = await client.create_payment(
            reference="qr-image-0001",
            amount=Money(4900, NOK),
            description="QR at the till",
            user_flow="QR",
            qr_format="IMAGE/PNG",
            qr_size=200,
        )
    assert created.redirect_url is not None
    assert created.redirect_url.startswith(sandbox.base_url + "/sandbox/v1/landing?token=")
    assert image.redirect_url is not None
    assert image.redirect_url.startswith(sandbox.base_url + "/sandbox/v1/qr-image?token=")
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url=sandbox.base_url) as http:
        page = await http.get(created.redirect_url)
        png = await http.get(image.redirect_url)
    assert page.status_code == 200
    assert "qr-target-001" in page.text
    assert png.headers["content-type"] == "image/png"


async def test_capture_guaranteed_until_is_read(sandbox: Sandbox) -> None:
    # agent-toolkit/epayment_references_operations.md "Get payment": captureGuaranteedUntil.
    ref = "guarantee-read-01"
    async with opened(sandbox) as (client, _):
        await client.create_payment(
            reference=ref, amount=Money(10000, NOK), description="Guarantee", phone_number="4791234567"
        )
        assert (await client.get_payment(ref)).capture_guaranteed_until is None
        await client.force_approve(ref)
        payment = await client.get_payment(ref)
        events = await client.get_events(ref)
    authorized = next(e.timestamp for e in events if e.name is EventName.AUTHORIZED)
    assert authorized is not None
    assert payment.capture_guaranteed_until is not None
    assert payment.capture_guaranteed_until.tzinfo is not None
    assert payment.capture_guaranteed_until - authorized == timedelta(days=7)


async def test_423_order_processing_is_retried_with_the_same_key(sandbox: Sandbox) -> None:
    # agent-toolkit/epayment_references_errors.md: 423 Locked "Retry after a short wait"; 6160.
    ref = "locked-retry-01"
    async with opened(sandbox, RetryPolicy(base_delay=0.3, max_attempts=6)) as (client, controls):
        await _authorized_payment(client, ref)
        await controls.set_faults(processing_ms=300)
        first, second = await asyncio.gather(
            client.capture(ref, Money(1000, NOK), idempotency_key="locked-a"),
            client.capture(ref, Money(2000, NOK), idempotency_key="locked-b"),
        )
        await controls.set_faults()
        events = await client.get_events(ref)
    captured = [e for e in events if e.name is EventName.CAPTURED]
    assert sorted(e.idempotency_key or "" for e in captured) == ["locked-a", "locked-b"]
    assert max(first.aggregate.captured, second.aggregate.captured) == Money(3000, NOK)


async def test_capture_failed_try_again_later_keeps_the_key(sandbox: Sandbox) -> None:
    # agent-toolkit/epayment_references_errors.md 6280: "Retry the capture with the same idempotency key
    # after a short wait"; the client does not retry a 400 by itself, it says so.
    ref = "capture-6280-01"
    async with opened(sandbox, RetryPolicy.none()) as (client, controls):
        await _authorized_payment(client, ref)
        await controls.set_faults(capture_failures=1)
        with pytest.raises(ApiError) as refused:
            await client.capture(ref, Money(1000, NOK), idempotency_key="cap-later")
        assert refused.value.error_code == "6280"
        assert retry_with_same_key(refused.value.error_code, refused.value.status)
        assert "try again later with the same idempotency key" in refused.value.advice
        again = await client.capture(ref, Money(1000, NOK), idempotency_key="cap-later")
    assert again.aggregate.captured == Money(1000, NOK)
