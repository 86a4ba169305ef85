"""Fixtures for the services: the real sandbox in-process (``httpx.ASGITransport``), the real client,
a real SQLite register in the test's app home."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from epay_desktop.api import (
    Credentials,
    Environment,
    EPaymentClient,
    RetryPolicy,
    SandboxControls,
    new_idempotency_key,
)
from epay_desktop.domain import Currency, Money
from epay_desktop.sandbox import SandboxConfig, create_app
from epay_desktop.services import DEMO_PROFILE, PaymentDesk, register_path
from epay_desktop.store import Intent, IntentRequest, Journal, Operation

BASE_URL = "http://sandbox.epay.local"
MSN = DEMO_PROFILE.merchant_serial_number
CREDENTIALS = Credentials("demo-client", "demo-secret", "demo-subscription-key", MSN)


def begin_waiting_in_a_thread(
    journal: Journal, before: Callable[[], object], after: Callable[[], object] = lambda: None
) -> None:
    """Make ``journal``'s intents that cannot be written at once (the engine's ``begin_soon``, or a
    ``begin_request`` on a worker thread) wait in a thread of their own: ``before`` runs there first
    (another desk acts meanwhile), then the intent is written and ``after`` runs before the engine is
    told. For tests that force what happens while an intent waits for the register."""
    real_soon, real_request = journal.begin_soon, journal.begin_request

    def begin_request(request: IntentRequest, *, attempting: bool = False) -> Intent:
        before()
        try:
            return real_request(request, attempting=attempting)
        finally:
            after()

    def begin_soon(request: IntentRequest, *, attempting: bool = False) -> Future[Intent]:
        told: Future[Intent] = Future()

        def wait_then_begin() -> None:
            try:
                before()
                queued = real_soon(request, attempting=attempting)
                assert queued is not None
                intent = queued.result(timeout=30)
            except BaseException as error:
                after()
                told.set_exception(error)
            else:
                after()
                told.set_result(intent)

        threading.Thread(target=wait_then_begin, daemon=True).start()
        return told

    journal.begin_request = begin_request  # type: ignore[method-assign]
    journal.begin_soon = begin_soon  # type: ignore[method-assign]


def fast_retry(attempts: int = 3) -> RetryPolicy:
    async def no_sleep(_seconds: float) -> None:
        return None

    return RetryPolicy(max_attempts=attempts, base_delay=0.0, max_delay=0.0, sleep=no_sleep)


def nok(value: int) -> Money:
    return Money(value, Currency.NOK)


@dataclass
class Bench:
    """Everything a services test needs, all real: sandbox app, transport, client, controls, desk."""

    transport: httpx.ASGITransport
    client: EPaymentClient
    controls: SandboxControls
    desk: PaymentDesk
    register: Path

    def new_client(self, retry: RetryPolicy | None = None) -> EPaymentClient:
        return EPaymentClient(
            Environment.sandbox(BASE_URL), CREDENTIALS, transport=self.transport, retry=retry or fast_retry()
        )

    async def open_desk(self, client: EPaymentClient | None = None) -> PaymentDesk:
        return await PaymentDesk.open(DEMO_PROFILE, client or self.client, self.register, operator="tester")

    @asynccontextmanager
    async def desk_through(self, proxy: httpx.AsyncBaseTransport) -> AsyncIterator[PaymentDesk]:
        """A second desk on the same register whose client goes through ``proxy``."""
        client = EPaymentClient(
            Environment.sandbox(BASE_URL), CREDENTIALS, transport=proxy, retry=fast_retry()
        )
        desk = await self.open_desk(client)
        try:
            yield desk
        finally:
            await desk.aclose()
            await client.aclose()

    async def approved_payment(self, value: int = 10000, description: str = "3x Cappuccino") -> str:
        tracked = await self.desk.create_payment(nok(value), description, "4791234567")
        await self.controls.customer(MSN, tracked.reference, "approve")
        await self.desk.refresh(tracked.reference)
        return tracked.reference

    async def event_names(self, reference: str) -> list[str]:
        return [e.name.value for e in await self.client.get_events(reference)]

    async def pending_intent(
        self,
        operation: Operation,
        reference: str,
        amount: Money | None,
        *,
        key: str | None = None,
        attempts: int = 0,
        now: datetime | None = None,
        attempted_at: datetime | None = None,
    ) -> Intent:
        """An intent in the desk's journal as if its call was interrupted (no outcome yet), sent
        ``attempts`` times (the last at ``attempted_at``, default when it was written); ``now``: when it
        was written."""
        intent = await asyncio.to_thread(
            self.desk.store.journal.begin,
            operation=operation,
            profile="Demo",
            msn=MSN,
            reference=reference,
            amount=amount,
            idempotency_key=key or new_idempotency_key(),
            os_user="tester",
            now=now,
        )
        for _ in range(attempts):
            await asyncio.to_thread(self.desk.store.journal.note_attempt, intent.id, now=attempted_at or now)
        return intent


@pytest.fixture
async def bench(app_home: Path) -> AsyncIterator[Bench]:
    app = create_app(SandboxConfig(data="empty", rate_limits=False))
    transport = httpx.ASGITransport(app=app)
    client = EPaymentClient(
        Environment.sandbox(BASE_URL), CREDENTIALS, transport=transport, retry=fast_retry()
    )
    controls = SandboxControls(BASE_URL, transport=transport)
    path = register_path(DEMO_PROFILE)
    desk = await PaymentDesk.open(DEMO_PROFILE, client, path, operator="tester")
    try:
        yield Bench(transport, client, controls, desk, path)
    finally:
        await desk.aclose()
        await controls.aclose()
        await client.aclose()


class MovesProxy(httpx.AsyncBaseTransport):
    """In front of the sandbox: reads and creates pass; a cancel, capture or refund gets ``status`` (a
    Problem answer, the sandbox never sees it) while ``status`` is set, and ``before`` runs first when
    given (to make something happen between the desk's read and its send)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        status: int | None = None,
        before: Callable[[httpx.Request], Awaitable[None]] | None = None,
    ) -> None:
        self.inner = inner
        self.status = status
        self.before = before
        self.moves = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path.startswith("/epayment/v1/payments/") and "/test/" not in path:
            self.moves += 1
            if self.before is not None:
                await self.before(request)
            if self.status is not None:
                return httpx.Response(
                    self.status,
                    json={"type": "about:blank", "title": "Injected", "status": self.status, "detail": "x"},
                    headers={"Content-Type": "application/problem+json"},
                )
        return await self.inner.handle_async_request(request)
