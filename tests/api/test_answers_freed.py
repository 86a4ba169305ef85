"""A read answer is freed by reference counting, not left in a cycle for the garbage collector: the app
collects on the GUI thread (``ui/gc_guard.py``), and a thousand answers in cycles made each collection
there milliseconds long. In-process (``httpx.ASGITransport``) and over real HTTP (uvicorn on 127.0.0.1,
the client's aiohttp transport)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import httpx
import pytest

from epay_desktop.api import Credentials, Environment, EPaymentClient
from epay_desktop.domain import Currency, Money
from epay_desktop.sandbox import SandboxConfig, create_app
from tests.support.sandbox_server import running_sandbox

pytestmark = pytest.mark.anyio

DEMO = Credentials("demo-client", "demo-secret", "demo-subscription-key", "123456")
CONFIG = SandboxConfig(data="empty", rate_limits=False)


@pytest.fixture(params=["in-process", "http"])
def client(request: pytest.FixtureRequest) -> Iterator[EPaymentClient]:
    if request.param == "in-process":
        yield EPaymentClient(
            Environment.sandbox("http://sandbox.epay.local"),
            DEMO,
            transport=httpx.ASGITransport(app=create_app(CONFIG)),
        )
    else:
        with running_sandbox(CONFIG) as url:
            yield EPaymentClient(Environment.sandbox(url), DEMO)


async def test_read_answers_are_not_left_in_cycles(client: EPaymentClient) -> None:
    async with client:
        await client.create_payment(
            reference="freed-0001",
            amount=Money(10_00, Currency.NOK),
            description="Freed",
            phone_number="4791234567",
        )
        collecting = gc.isenabled()
        gc.disable()
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds unreachable is kept here to look at
        try:
            for _ in range(20):
                await client.get_payment("freed-0001")
            gc.collect()
            answers = [o for o in gc.garbage if isinstance(o, httpx.Response)]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            if collecting:
                gc.enable()
    assert answers == []
