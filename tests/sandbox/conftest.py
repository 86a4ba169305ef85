"""Fixtures for the sandbox tests: an in-process sandbox and a small API driver whose every
answer is validated against the official spec."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from epay_desktop.sandbox import Sandbox, SandboxConfig, create_app
from tests.sandbox.openapi_check import SpecChecker
from tests.support.sandbox_server import DEMO_CREDENTIALS

BASE_URL = "http://sandbox.epay.local"
NOK_MSN = "123456"
_keys = itertools.count(1)


def new_key() -> str:
    return f"test-key-{next(_keys)}"


class Api:
    """Speaks the real API like a merchant's client would; keeps the token."""

    def __init__(self, client: httpx.AsyncClient, msn: str = NOK_MSN) -> None:
        self.client = client
        self.msn = msn
        self.token = ""

    async def fetch_token(self) -> str:
        response = await self.client.post("/accesstoken/get", headers=DEMO_CREDENTIALS)
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        return self.token

    def headers(self, key: str | None = None, msn: str | None = None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Ocp-Apim-Subscription-Key": DEMO_CREDENTIALS["Ocp-Apim-Subscription-Key"],
            "Merchant-Serial-Number": msn or self.msn,
        }
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    async def create(
        self,
        reference: Any,
        value: int = 1000,
        currency: str = "NOK",
        *,
        key: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        body = {
            "amount": {"currency": currency, "value": value},
            "paymentMethod": {"type": "WALLET"},
            "reference": reference,
            "userFlow": "WEB_REDIRECT",
            "returnUrl": "https://fjordkaffe.example/return",
            "paymentDescription": "2x Espresso, 1x Kanelbolle",
        } | extra
        return await self.client.post(
            "/epayment/v1/payments", headers=self.headers(key or new_key()), json=body
        )

    async def get(self, reference: str, msn: str | None = None) -> httpx.Response:
        return await self.client.get(f"/epayment/v1/payments/{reference}", headers=self.headers(msn=msn))

    async def events(self, reference: str) -> httpx.Response:
        return await self.client.get(f"/epayment/v1/payments/{reference}/events", headers=self.headers())

    async def cancel(self, reference: str, *, key: str | None = None, body: Any = None) -> httpx.Response:
        content = None if body is None else json.dumps(body).encode()
        headers = self.headers(key or new_key())
        if content is not None:
            headers["Content-Type"] = "application/json"
        return await self.client.post(
            f"/epayment/v1/payments/{reference}/cancel", headers=headers, content=content
        )

    async def capture(self, reference: str, value: int, *, key: str | None = None, currency: str = "NOK"):
        return await self._modify("capture", reference, value, key, currency)

    async def refund(self, reference: str, value: int, *, key: str | None = None, currency: str = "NOK"):
        return await self._modify("refund", reference, value, key, currency)

    async def _modify(
        self, op: str, reference: str, value: int, key: str | None, currency: str
    ) -> httpx.Response:
        return await self.client.post(
            f"/epayment/v1/payments/{reference}/{op}",
            headers=self.headers(key or new_key()),
            json={"modificationAmount": {"currency": currency, "value": value}},
        )

    async def approve(self, reference: str) -> httpx.Response:
        return await self.client.post(
            f"/epayment/v1/test/payments/{reference}/approve", headers=self.headers()
        )

    async def customer(self, reference: str, action: str) -> httpx.Response:
        return await self.client.post(
            f"/sandbox/v1/payments/{reference}/customer/{action}",
            headers={"Merchant-Serial-Number": self.msn},
        )

    async def authorized(self, reference: str, value: int = 1000) -> dict[str, Any]:
        assert (await self.create(reference, value)).status_code == 201
        assert (await self.approve(reference)).status_code == 200
        response = await self.get(reference)
        assert response.json()["state"] == "AUTHORIZED"
        return response.json()


def sandbox_of(app: Starlette) -> Sandbox:
    sandbox: Sandbox = app.state.sandbox
    return sandbox


@pytest.fixture
def checker() -> SpecChecker:
    return SpecChecker()


@pytest.fixture
def config() -> SandboxConfig:
    return SandboxConfig(data="empty", rate_limits=False, frozen_clock=True)


@pytest.fixture
def app(config: SandboxConfig) -> Starlette:
    return create_app(config)


@pytest.fixture
async def client(app: Starlette, checker: SpecChecker) -> AsyncIterator[httpx.AsyncClient]:
    async def validate(response: httpx.Response) -> None:
        await response.aread()
        checker.check(response)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, event_hooks={"response": [validate]}
    ) as client:
        yield client


@pytest.fixture
async def api(client: httpx.AsyncClient) -> Api:
    api = Api(client)
    await api.fetch_token()
    return api
