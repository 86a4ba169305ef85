"""Fixtures for the services: the real sandbox in-process (``httpx.ASGITransport``), the real client,
a real SQLite register in the test's app home."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
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
from epay_desktop.store import Intent, Operation

BASE_URL = "http://sandbox.epay.local"
MSN = DEMO_PROFILE.merchant_serial_number
CREDENTIALS = Credentials("demo-client", "demo-secret", "demo-subscription-key", MSN)


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
