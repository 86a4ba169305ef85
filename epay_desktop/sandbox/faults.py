"""The front door of the sandbox: path fixes, counters, faults on demand, and saving state.

A pure ASGI middleware so it can do what a route cannot: delay an answer, replace it with a 5xx/429,
or let a money-moving call commit and then drop its answer (the client sees a broken connection).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from epay_desktop.sandbox.problems import ProblemError

MONEY_MOVING = re.compile(r"^/epayment/v1/payments/[^/]+/(cancel|capture|refund)$")
FAULT_STATUSES = ("500", "503", "429")


class AnswerDropped(httpx.ReadError):
    """Raised in-process when a fault drops an answer after its effect was committed.

    Through ``httpx.ASGITransport`` it reaches the client as a transport ``ReadError``; under uvicorn
    the connection is closed after the status line, so a client sees a protocol/read error."""


@dataclass
class Faults:
    """``processing_ms``: how long a cancel/capture/refund holds its payment (a second one for the same
    payment meanwhile gets 423 "Order processing", 6160); ``capture_failures`` / ``funds_unavailable``:
    the next N captures are refused with 6280 "Capture failed, please try again later" / 6260 "Funds
    unavailable" without effect (errors.md), so a retry with the same key can then succeed."""

    latency_ms: int = 0
    error_rates: dict[str, float] = field(default_factory=lambda: dict.fromkeys(FAULT_STATUSES, 0.0))
    drop_after_commit: int = 0
    processing_ms: int = 0
    capture_failures: int = 0
    funds_unavailable: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "latencyMs": self.latency_ms,
            "errorRates": dict(self.error_rates),
            "dropAfterCommit": self.drop_after_commit,
            "processingMs": self.processing_ms,
            "captureFailures": self.capture_failures,
            "fundsUnavailable": self.funds_unavailable,
        }

    def take_capture_refusal(self) -> str | None:
        """The error code the next capture gets from these faults (and use it up), or None."""
        if self.funds_unavailable > 0:
            self.funds_unavailable -= 1
            return "6260"
        if self.capture_failures > 0:
            self.capture_failures -= 1
            return "6280"
        return None

    @classmethod
    def from_json(cls, data: Any) -> Faults:
        if not isinstance(data, dict):
            raise ProblemError.invalid("body", "a JSON object is required")
        latency = data.get("latencyMs", 0)
        drop = data.get("dropAfterCommit", 0)
        processing = data.get("processingMs", 0)
        failures = data.get("captureFailures", 0)
        unavailable = data.get("fundsUnavailable", 0)
        rates = data.get("errorRates") or {}
        for name, value in (
            ("latencyMs", latency),
            ("dropAfterCommit", drop),
            ("processingMs", processing),
            ("captureFailures", failures),
            ("fundsUnavailable", unavailable),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 600_000:
                raise ProblemError.invalid(name, "must be an integer from 0 to 600000")
        if not isinstance(rates, dict):
            raise ProblemError.invalid("errorRates", 'an object like {"500": 0.1} is required')
        clean = dict.fromkeys(FAULT_STATUSES, 0.0)
        for status, rate in rates.items():
            if status not in clean:
                raise ProblemError.invalid("errorRates", f"only {', '.join(FAULT_STATUSES)} can be injected")
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
                raise ProblemError.invalid(f"errorRates.{status}", "must be a number from 0 to 1")
            clean[status] = float(rate)
        if sum(clean.values()) > 1.0:
            raise ProblemError.invalid("errorRates", "the rates add up to more than 1")
        return cls(latency, clean, drop, processing, failures, unavailable)


@dataclass
class Counters:
    token_requests: int = 0
    requests: int = 0


class FrontDoor:
    """Outermost of our middleware (inside Starlette's error middleware)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        faults: Faults,
        counters: Counters,
        seed: int,
        commit: Callable[[], None],
    ) -> None:
        self.app = app
        self.faults = faults
        self.counters = counters
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.commit = commit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.lower().rstrip("/") == "/accesstoken/get":
            # Postman and the quick start write /accessToken/get: match it case-insensitively.
            scope = dict(scope, path="/accesstoken/get", raw_path=b"/accesstoken/get")
            path = "/accesstoken/get"
        send = self._committing(send)
        if path.startswith("/sandbox/"):
            try:
                await self.app(scope, receive, send)
            finally:
                self.commit()
            return
        with self.lock:
            self.counters.requests += 1
            if path == "/accesstoken/get":
                self.counters.token_requests += 1
        if path.startswith("/epayment/") and await self._injected(scope, send):
            return
        try:
            if scope["method"] == "POST" and MONEY_MOVING.match(path) and self.faults.drop_after_commit > 0:
                await self._maybe_drop(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            self.commit()  # also when no answer went out (an error answered by an outer layer)

    def _committing(self, send: Send) -> Send:
        """``send`` that commits the request's changes before the answer's status line leaves: an
        answer is only given for what is saved (a sandbox killed right after a 200 still has it)."""

        async def committed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.commit()
            await send(message)

        return committed_send

    async def _injected(self, scope: Scope, send: Send) -> bool:
        faults = self.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        with self.lock:
            roll = self.rng.random()
        chosen = None
        for status in FAULT_STATUSES:
            rate = faults.error_rates.get(status, 0.0)
            if roll < rate:
                chosen = int(status)
                break
            roll -= rate
        if chosen is None:
            return False
        titles = {500: "Internal Server Error", 503: "Service Unavailable", 429: "Too Many Requests"}
        problem = ProblemError(
            chosen, titles[chosen], "Injected by the sandbox's faults (/sandbox/v1/faults)."
        )
        if chosen == 500:
            problem.code = "3010"
        headers = [(b"content-type", b"application/problem+json")]
        if chosen in (503, 429):
            headers.append((b"retry-after", b"1"))
        body = problem.body(scope["path"])
        if chosen == 500:
            body["extraDetails"] = [{"name": "ErrorCode", "reason": "3010"}]
        raw = json.dumps(body).encode()
        headers.append((b"content-length", str(len(raw)).encode()))
        await send({"type": "http.response.start", "status": chosen, "headers": headers})
        await send({"type": "http.response.body", "body": raw})
        return True

    async def _maybe_drop(self, scope: Scope, receive: Receive, send: Send) -> None:
        dropped = False

        async def guarded_send(message: Message) -> None:
            nonlocal dropped
            if message["type"] == "http.response.start" and 200 <= message["status"] < 300:
                with self.lock:
                    if self.faults.drop_after_commit > 0:
                        self.faults.drop_after_commit -= 1
                        dropped = True
            if dropped:
                if message["type"] == "http.response.start":
                    await send(message)  # the status line goes out, the body never does
                return
            await send(message)

        await self.app(scope, receive, guarded_send)
        if dropped:
            raise AnswerDropped("the sandbox dropped the answer after committing the effect (fault)")
