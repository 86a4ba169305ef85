"""Fixtures of the register dialog tests: a real desk on a real SQLite file, talking to the real
sandbox in-process (``httpx.ASGITransport``), on the qasync loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from epay_desktop.api import Credentials, Environment, EPaymentClient
from epay_desktop.sandbox import SandboxConfig, create_app
from epay_desktop.services import DEMO_PROFILE, PaymentDesk

SANDBOX_URL = "http://sandbox.epay.local"


@pytest.fixture
def dialog_loop(qapp: Any, qt_loop: asyncio.AbstractEventLoop) -> Iterator[asyncio.AbstractEventLoop]:
    """``qt_loop`` with Qt told not to quit when a test's last window (a dialog) closes: that quit would
    stop the qasync loop under a running coroutine."""
    before = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    try:
        yield qt_loop
    finally:
        qapp.setQuitOnLastWindowClosed(before)


@pytest.fixture
def sandbox_transport() -> httpx.ASGITransport:
    return httpx.ASGITransport(app=create_app(SandboxConfig(data="empty", rate_limits=False)))


@pytest.fixture
def desk(
    dialog_loop: asyncio.AbstractEventLoop, sandbox_transport: httpx.ASGITransport, tmp_path: Path
) -> Iterator[PaymentDesk]:
    """The Demo profile's desk (MSN 123456, NOK) on an empty sandbox and a fresh register file."""

    async def open_desk() -> tuple[EPaymentClient, PaymentDesk]:
        credentials = Credentials("demo-client", "demo-secret", "demo-subscription-key", "123456")
        client = EPaymentClient(Environment.sandbox(SANDBOX_URL), credentials, transport=sandbox_transport)
        opened = await PaymentDesk.open(DEMO_PROFILE, client, tmp_path / "register.sqlite3", operator="kari")
        return client, opened

    client, opened = dialog_loop.run_until_complete(open_desk())
    try:
        yield opened
    finally:
        dialog_loop.run_until_complete(opened.aclose())
        dialog_loop.run_until_complete(client.aclose())


def run(loop: asyncio.AbstractEventLoop, awaitable: Any, timeout: float = 10.0) -> Any:
    return loop.run_until_complete(asyncio.wait_for(awaitable, timeout))


async def until(condition: Any, limit: float = 5.0) -> None:
    """Let the loop run until ``condition()`` is true (a dialog appeared, a task finished): Qt state has
    no awaitable to wait on, so poll it."""
    async with asyncio.timeout(limit):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
