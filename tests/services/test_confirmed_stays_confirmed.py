"""After the API confirmed an operation, the person is told it succeeded whatever happens to the
bookkeeping after it: a register too busy to write the outcome does not turn it into an error (which
would invite a second capture); the outcome is recorded in the background once the register is free."""

from __future__ import annotations

import asyncio
import sqlite3

import httpx
import pytest

from epay_desktop.services import IntentStatus
from tests.services.conftest import Bench, nok

pytestmark = pytest.mark.anyio


class LockAfterAnswer(httpx.AsyncBaseTransport):
    """In front of the sandbox: right after a capture's answer, another program takes the register's
    write lock (and keeps it until ``free``)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, register: str) -> None:
        self.inner = inner
        self.register = register
        self.holder: sqlite3.Connection | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/capture") and self.holder is None:
            self.holder = sqlite3.connect(self.register, isolation_level=None)
            self.holder.execute("BEGIN IMMEDIATE")
        return response

    def free(self) -> None:
        assert self.holder is not None
        self.holder.execute("ROLLBACK")
        self.holder.close()


async def test_a_confirmed_capture_is_a_success_even_when_the_register_is_busy(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    proxy = LockAfterAnswer(bench.transport, str(bench.register))
    async with bench.desk_through(proxy) as desk:
        await asyncio.to_thread(lambda: desk.store.db.conn.execute("PRAGMA busy_timeout = 100"))
        result = await desk.capture(ref, nok(2500))
        assert result.amount == nok(2500)
        assert "Do not do it again" in str(result.message)
        assert (await bench.event_names(ref)).count("CAPTURED") == 1
        (intent,) = await bench.desk.journal()
        assert intent.status is IntentStatus.PENDING  # not recorded yet: the register is held
        proxy.free()
        for _ in range(200):  # the background retry records it once the register is free
            (now,) = await bench.desk.journal()
            if now.status is IntentStatus.SUCCEEDED:
                break
            await asyncio.sleep(0.05)
        assert now.status is IntentStatus.SUCCEEDED
        assert "Captured" in now.outcome
