"""Fake servers (``httpx.MockTransport``) and a fake clock for the client's unit tests: the answers a
real server or a proxy in front of it can give, without a network."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from epay_desktop.api import Credentials, Environment, EPaymentClient, RetryPolicy

CREDENTIALS = Credentials("demo-client", "demo-secret-value", "demo-subscription-key", "123456")
REF = "order-12345678"

Handler = Callable[[httpx.Request], httpx.Response]


def money(value: int, currency: str = "NOK") -> dict[str, Any]:
    return {"currency": currency, "value": value}


def payment_body(
    reference: str = REF,
    *,
    state: str = "AUTHORIZED",
    amount: int = 1000,
    authorized: int = 1000,
    captured: int = 0,
    cancelled: int = 0,
    refunded: int = 0,
    currency: str = "NOK",
) -> dict[str, Any]:
    return {
        "reference": reference,
        "pspReference": "37c34d8c-2649-448e-864b-060d5d93e4c4",
        "state": state,
        "amount": money(amount, currency),
        "aggregate": {
            "authorizedAmount": money(authorized, currency),
            "capturedAmount": money(captured, currency),
            "cancelledAmount": money(cancelled, currency),
            "refundedAmount": money(refunded, currency),
        },
        "paymentMethod": {"type": "WALLET"},
        "profile": {},
    }


def problem(status: int, title: str, code: str | None = None, detail: str = "") -> httpx.Response:
    body: dict[str, Any] = {
        "type": f"https://httpstatuses.io/{status}",
        "title": title,
        "status": status,
        "detail": detail,
        "traceId": "00-trace-01",
    }
    if code:
        body["extraDetails"] = [{"name": "ErrorCode", "reason": code}]
    return httpx.Response(status, json=body, headers={"Content-Type": "application/problem+json"})


@dataclass
class FakeClock:
    """Monotonic time that moves only when something sleeps: waits are recorded, never spent."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class FakeServer:
    """Answers the token endpoint itself; every other request goes to ``api`` (a list of answers or a
    function). Records every request."""

    api: Handler | list[httpx.Response | Exception]
    token_lifetime: str = "3600"
    token_answer: httpx.Response | None = None
    requests: list[httpx.Request] = field(default_factory=list)
    token_requests: int = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.lower() == "/accesstoken/get":
            self.token_requests += 1
            if self.token_answer is not None:
                return self.token_answer
            return httpx.Response(
                200,
                json={
                    "token_type": "Bearer",
                    "expires_in": self.token_lifetime,
                    "access_token": f"eyJhbGciOi.token{self.token_requests}.sig",
                },
            )
        if callable(self.api):
            return self.api(request)
        answer = self.api.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.lower() != "/accesstoken/get"]

    def client(
        self,
        *,
        clock: FakeClock | None = None,
        environment: Environment | None = None,
        max_attempts: int = 4,
        total_budget: float = 30.0,
    ) -> EPaymentClient:
        clock = clock or FakeClock()
        policy = RetryPolicy(
            max_attempts=max_attempts,
            total_budget=total_budget,
            sleep=clock.sleep,
            clock=clock,
            jitter=lambda: 1.0,
        )
        return EPaymentClient(
            environment or Environment.sandbox("http://fake.example"),
            CREDENTIALS,
            transport=httpx.MockTransport(self),
            retry=policy,
        )


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None
