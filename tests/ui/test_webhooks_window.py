"""The window lives on webhooks: in Demo the sandbox's webhooks move a row with polling stopped (and
the Notifications view lists them); a Test-kind profile whose register is fed by ``epay-webhooks``
over real HTTP (sandbox and receiver under uvicorn on 127.0.0.1) shows the rows it writes."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from epay_desktop.api import Credentials, Environment, EPaymentClient, SandboxControls
from epay_desktop.api.webhooks import WebhookEndpoint
from epay_desktop.api.webhooks_client import EPAYMENT_EVENTS, WebhooksClient
from epay_desktop.app import Controller
from epay_desktop.domain import Currency, Money, State
from epay_desktop.sandbox import SandboxConfig
from epay_desktop.services import ProfileSecrets, ProfileStore, SecretStore, register_path
from epay_desktop.services.webhook_inbox import WebhookInbox
from epay_desktop.ui.window.notifications import NotificationsDock
from epay_desktop.webhooks import create_receiver
from epay_desktop.webhooks.serving import address, bind, build_server
from tests.support.sandbox_server import running_sandbox
from tests.support.waiting import wait_until
from tests.ui.test_app_sessions import app_run, custom_profile, secrets

__all__ = ["app_run", "secrets"]  # fixtures used here

DEMO_MSN = "123456"


def _stop_polling(controller: Controller) -> None:
    flow = controller.window.refresh_flow
    flow.auto_timer.stop()
    flow.poll_timer.stop()
    flow.auto_timer.timeout.disconnect()
    flow.poll_timer.timeout.disconnect()


def _dock(controller: Controller) -> NotificationsDock:
    dock = controller.window.findChild(NotificationsDock)
    assert dock is not None
    return dock


def test_demo_rows_move_on_webhooks_alone(app_run: Callable[..., Any], tmp_path: Path) -> None:
    async def scenario(c: Controller) -> None:
        window = c.window
        assert c.session is not None
        await wait_until(lambda: not window.runner.is_running("load"), limit=10)
        _stop_polling(c)
        waiting = [
            t.reference for t in window.model.payments() if t.payment and t.payment.state is State.CREATED
        ]
        reference = waiting[0]
        transport = c.session.transport
        dock = _dock(c)
        assert not dock.isVisible()  # closed at first; the status bar's webhook button opens it
        c.live_updates.indicator.click()
        assert dock.isVisible()
        # The customer approves in the sandbox (not through the desk): only a webhook can tell the window.
        async with SandboxControls("http://sandbox.epay.local", transport=transport) as controls:
            await controls.customer(DEMO_MSN, reference, "approve")
        await wait_until(lambda: window.model.tracked(reference).payment.state is State.AUTHORIZED, limit=10)  # type: ignore[union-attr]
        # A capture made elsewhere (another client, as the portal would) lands in the row too.
        credentials = Credentials("demo-client", "demo-secret", "demo-subscription-key", DEMO_MSN)
        async with EPaymentClient(Environment.sandbox(), credentials, transport=transport) as other:
            payment = await other.get_payment(reference)
            await other.capture(reference, Money(100, payment.currency))
        await wait_until(
            lambda: window.model.tracked(reference).payment.aggregate.captured.value == 100,
            limit=10,  # type: ignore[union-attr]
        )
        # And a cancel confirmed elsewhere releases the rest on the row.
        async with EPaymentClient(Environment.sandbox(), credentials, transport=transport) as other:
            await other.cancel(reference)
        await wait_until(
            lambda: (
                window.model.tracked(reference).payment.aggregate.cancelled.value  # type: ignore[union-attr]
                == payment.amount.value - 100
            ),
            limit=10,
        )
        model = dock.model
        events = [model.received_at(row).notification.event_type for row in range(model.rowCount())]
        assert events[:3] == [
            "epayments.payment.cancelled.v1",
            "epayments.payment.captured.v1",
            "epayments.payment.authorized.v1",
        ]
        assert model.data(model.index(0, 4)) == "verified"
        assert model.data(model.index(0, 2)) == reference
        assert "Webhooks live" in c.live_updates.indicator.text()
        # Polling goes on as the fallback, slower while webhooks flow.
        assert window.refresh_flow.poll_timer.interval() == 4 * 2_000
        window.resize(1280, 900)
        await asyncio.sleep(0.05)
        window.grab().save(str(tmp_path / "demo-webhooks.png"))

    app_run(scenario)


@pytest.fixture
def served_sandbox() -> Iterator[str]:
    with running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as url:
        yield url


def test_a_register_fed_by_epay_webhooks_over_http_refreshes_the_window(
    app_run: Callable[..., Any], served_sandbox: str, secrets: SecretStore
) -> None:
    profile = custom_profile(served_sandbox, "Shop with webhooks")
    ProfileStore().save(profile)
    secrets.set(profile, ProfileSecrets("demo-secret", "demo-subscription-key"))
    credentials = Credentials("demo-client", "demo-secret", "demo-subscription-key", "223344")
    environment = Environment.sandbox(served_sandbox)

    async def scenario(c: Controller) -> None:
        window = c.window
        await wait_until(lambda: not window.runner.is_running("load"), limit=10)
        _stop_polling(c)
        # epay-webhooks under uvicorn on 127.0.0.1, feeding the profile's register.
        sock = bind("127.0.0.1", 0)
        url = address(sock) + "/hooks/vipps"
        async with WebhooksClient(environment, credentials) as hooks:
            made = await hooks.register(url, EPAYMENT_EVENTS)
        inbox = WebhookInbox.open(register_path(profile))
        server = build_server(create_receiver(WebhookEndpoint(url, (made.secret,)), inbox))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            async with EPaymentClient(environment, credentials) as shop:
                await shop.create_payment(
                    reference="webshop-order-0001",
                    amount=Money(12_500, Currency.DKK),
                    description="Kringle",
                    user_flow="QR",
                )
                await wait_until(lambda: window.model.tracked("webshop-order-0001") is not None, limit=15)
                await shop.force_approve("webshop-order-0001")
                await wait_until(
                    lambda: (
                        (t := window.model.tracked("webshop-order-0001")) is not None
                        and t.payment is not None
                        and t.payment.state is State.AUTHORIZED
                    ),
                    limit=15,
                )
            dock = _dock(c)
            model = dock.model
            assert model.rowCount() >= 2
            assert model.data(model.index(0, 4)) == "verified by epay-webhooks"
        finally:
            server.should_exit = True
            await asyncio.to_thread(thread.join, 10)
            inbox.close()
            sock.close()

    app_run(scenario, first=profile)
