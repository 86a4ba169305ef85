"""A sandbox whose deliveries go to an ``epay-webhooks`` receiver feeding a real register file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from epay_desktop.api.webhooks import WebhookEndpoint
from epay_desktop.sandbox import Sandbox, SandboxConfig, create_app
from epay_desktop.services.webhook_inbox import WebhookInbox
from epay_desktop.webhooks import create_receiver
from tests.sandbox.conftest import Api

HOOK_URL = "https://desk.shop.example/hooks/vipps"


@dataclass
class Rig:
    app: Starlette
    api: Api
    inbox: WebhookInbox
    receiver: Starlette
    endpoint: WebhookEndpoint

    @property
    def sandbox(self) -> Sandbox:
        sandbox: Sandbox = self.app.state.sandbox
        return sandbox

    async def settle(self) -> None:
        await self.sandbox.webhooks.dispatcher.idle()

    def row(self, reference: str, msn: str = "123456"):  # type: ignore[no-untyped-def]
        return self.inbox.store.register.get(msn, reference)


async def register_hook(api: Api, url: str = HOOK_URL) -> str:
    response = await api.client.post(
        "/webhooks/v1/webhooks",
        headers=api.headers(),
        json={
            "url": url,
            "events": [
                f"epayments.payment.{n}.v1"
                for n in (
                    "created",
                    "aborted",
                    "expired",
                    "cancelled",
                    "captured",
                    "refunded",
                    "authorized",
                    "terminated",
                )
            ],
        },
    )
    assert response.status_code == 201, response.text
    secret: str = response.json()["secret"]
    return secret


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    app = create_app(SandboxConfig(data="empty", rate_limits=False, frozen_clock=True))
    sandbox: Sandbox = app.state.sandbox
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as client:
        api = Api(client)
        await api.fetch_token()
        secret = await register_hook(api)
        endpoint = WebhookEndpoint(HOOK_URL, (secret,))
        inbox = WebhookInbox.open(tmp_path / "register.sqlite3")
        receiver = create_receiver(endpoint, inbox)
        sandbox.webhooks.dispatcher.attach("desk.shop.example", receiver)
        try:
            yield Rig(app, api, inbox, receiver, endpoint)
        finally:
            await sandbox.webhooks.aclose()
            inbox.close()
