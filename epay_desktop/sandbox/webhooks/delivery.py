"""Delivering webhooks the way the Webhooks API does, on the sandbox clock.

- Asynchronous: an event is queued when it happens; a task per queue sends it.
- In order: one queue per registration and payment. A delivery that fails blocks the later events of
  that payment for that registration until it succeeds or is dropped (the API guide: "your server needs
  to accept all preceding requests for a given payment, before any new notifications can be received
  for the same payment"); other payments keep flowing.
- 2xx within ``timeout`` (10 s) is success; any other status, a timeout or a refused connection is a
  failure, retried after ``retry_delay(attempts)``: about every 2 s for the first four attempts, then
  60 s, then 120 s, then hourly through attempt 29, then daily, and dropped once 7 days have passed
  since the first attempt. The waits run on the sandbox clock, so advancing it runs days in seconds;
  ``x-ms-date`` is the wall time of each attempt (what a receiver's own clock can check).
- Faults on demand: ``delayMs`` holds each delivery before its first attempt (real time), and
  ``duplicateRate`` sends a delivered notification once more (the API may deliver twice).
- In-process targets: ``attach(authority, asgi_app)`` sends what is addressed to that host to an ASGI
  app through ``httpx.ASGITransport`` (no port), for Demo mode and tests.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.types import ASGIApp

from epay_desktop.sandbox.clock import Clock, iso
from epay_desktop.sandbox.problems import ProblemError
from epay_desktop.sandbox.webhooks.registry import Registration, Registry
from epay_desktop.sandbox.webhooks.signing import authority, signed_headers

log = logging.getLogger(__name__)

TIMEOUT = 10.0
GIVE_UP_AFTER = timedelta(days=7)
KEPT_DELIVERIES = 2000  # the control lists the newest ones
PENDING, DELIVERED, DROPPED = "pending", "delivered", "dropped"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after ``attempts`` failed attempts (the documented schedule)."""
    if attempts < 4:
        return timedelta(seconds=2)
    if attempts == 4:
        return timedelta(seconds=60)
    if attempts == 5:
        return timedelta(seconds=120)
    if attempts < 29:
        return timedelta(hours=1)
    return timedelta(days=1)


@dataclass
class WebhookFaults:
    delay_ms: int = 0
    duplicate_rate: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"delayMs": self.delay_ms, "duplicateRate": self.duplicate_rate}

    @classmethod
    def from_json(cls, data: Any) -> WebhookFaults:
        if not isinstance(data, dict):
            raise ProblemError.invalid("body", "a JSON object is required")
        delay = data.get("delayMs", 0)
        rate = data.get("duplicateRate", 0.0)
        if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= 600_000:
            raise ProblemError.invalid("delayMs", "must be an integer from 0 to 600000")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
            raise ProblemError.invalid("duplicateRate", "must be a number from 0 to 1")
        return cls(delay, float(rate))


@dataclass
class Attempt:
    number: int
    at: datetime
    status: int | None
    error: str = ""
    duplicate: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "at": iso(self.at),
            "status": self.status,
            "error": self.error or None,
            "duplicate": self.duplicate,
        }


@dataclass
class Delivery:
    id: int
    registration: Registration
    event: str
    msn: str
    reference: str
    body: bytes
    created_at: datetime
    state: str = PENDING
    attempts: list[Attempt] = field(default_factory=list)
    next_attempt_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "registrationId": self.registration.id,
            "url": self.registration.url,
            "eventType": self.event,
            "msn": self.msn,
            "reference": self.reference,
            "state": self.state,
            "createdAt": iso(self.created_at),
            "nextAttemptAt": iso(self.next_attempt_at) if self.next_attempt_at else None,
            "attempts": [a.to_json() for a in self.attempts],
            "payload": json.loads(self.body),
        }


Key = tuple[str, str, str]  # registration id, msn, reference


class Dispatcher:
    """Queues, sends, retries and records the deliveries of one sandbox."""

    def __init__(self, registry: Registry, clock: Clock, *, seed: int = 0) -> None:
        self.registry = registry
        self.clock = clock
        self.faults = WebhookFaults()
        self.timeout = TIMEOUT
        self.rng = random.Random(seed)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._queues: dict[Key, collections.deque[Delivery]] = {}
        self._workers: dict[Key, asyncio.Task[None]] = {}
        self._sending: set[Key] = set()
        self._recent: collections.deque[Delivery] = collections.deque(maxlen=KEPT_DELIVERIES)
        self._targets: dict[str, ASGIApp] = {}
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._moved = asyncio.Event()
        self._closed = False
        clock.add_listener(self._clock_moved)

    # -- targets -----------------------------------------------------------------------------------
    def attach(self, authority: str, app: ASGIApp) -> None:
        """Send what is addressed to ``authority`` (``host`` or ``host:port``) to ``app`` in-process."""
        self._targets[authority.lower()] = app

    def detach(self, authority: str) -> None:
        self._targets.pop(authority.lower(), None)

    # -- queueing (called by the engine, under its lock, never awaiting) ----------------------------
    def publish(self, msn: str, reference: str, event: str, body: bytes) -> None:
        registrations = self.registry.listeners(msn, event)
        if not registrations:
            return
        now = self.clock.now()
        with self._lock:
            for registration in registrations:
                delivery = Delivery(next(self._ids), registration, event, msn, reference, body, now)
                delivery.next_attempt_at = now
                self._recent.append(delivery)
                self._queues.setdefault((registration.id, msn, reference), collections.deque()).append(
                    delivery
                )
        self._wake()

    def _wake(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            # Published from another thread: hand the start to the loop that runs the deliveries.
            known = self._loop
            if known is not None and not known.is_closed():
                known.call_soon_threadsafe(self._start_workers)
            return
        self._start_workers()

    def _start_workers(self) -> None:
        if self._closed:  # shutting down: what is queued stays queued
            return
        with self._lock:
            keys = [k for k, q in self._queues.items() if q and k not in self._workers]
            for key in keys:
                self._workers[key] = asyncio.get_running_loop().create_task(self._work(key))

    # -- the clock ---------------------------------------------------------------------------------
    def _clock_moved(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
            loop.call_soon_threadsafe(self._tick)

    def _tick(self) -> None:
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def _sleep_until(self, due: datetime) -> None:
        while True:
            moved = self._moved
            left = (due - self.clock.now()).total_seconds()
            if left <= 0:
                return
            # Wake when the clock is advanced by hand, or at the latest when real time gets there.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(moved.wait(), timeout=min(left, 1.0))

    # -- sending -----------------------------------------------------------------------------------
    async def _work(self, key: Key) -> None:
        try:
            while True:
                with self._lock:
                    queue = self._queues.get(key)
                    if not queue:
                        self._queues.pop(key, None)
                        return
                    delivery = queue[0]
                if not delivery.attempts and self.faults.delay_ms:
                    await asyncio.sleep(self.faults.delay_ms / 1000)
                assert delivery.next_attempt_at is not None
                await self._sleep_until(delivery.next_attempt_at)
                if self.registry.get(delivery.registration.id) is None:
                    self._finish(key, delivery, DROPPED)  # deleted meanwhile: nothing more is sent
                    continue
                self._sending.add(key)
                try:
                    ok = await self._attempt(delivery)
                    if ok and self.rng.random() < self.faults.duplicate_rate:
                        await self._attempt(delivery, duplicate=True)
                finally:
                    self._sending.discard(key)
                if ok:
                    self._finish(key, delivery, DELIVERED)
                    continue
                first = delivery.attempts[0].at
                due = self.clock.now() + retry_delay(len(delivery.attempts))
                if due - first > GIVE_UP_AFTER:
                    self._finish(key, delivery, DROPPED)
                else:
                    delivery.next_attempt_at = due
        finally:
            with self._lock:
                self._workers.pop(key, None)
                queue = self._queues.get(key)
                again = bool(queue)
            if again:  # published while the worker was leaving
                self._start_workers()

    def _finish(self, key: Key, delivery: Delivery, state: str) -> None:
        with self._lock:
            delivery.state = state
            delivery.next_attempt_at = None
            queue = self._queues.get(key)
            if queue and queue[0] is delivery:
                queue.popleft()

    def _in_process(self, url: str) -> httpx.AsyncClient | None:
        """The client of an attached ASGI target (kept: it holds no sockets), else None."""
        host = authority(url).lower()
        app = self._targets.get(host)
        if app is None:
            return None
        client = self._clients.get(host)
        if client is None:
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), timeout=self.timeout, follow_redirects=False
            )
            self._clients[host] = client
        return client

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        client = self._in_process(url)
        if client is not None:
            return await client.post(url, content=body, headers=headers)
        # A connection per attempt over the network: nothing is left open when the sandbox stops
        # (it runs without a lifespan to close a shared pool).
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False) as client:
            return await client.post(url, content=body, headers=headers)

    async def _attempt(self, delivery: Delivery, *, duplicate: bool = False) -> bool:
        url = delivery.registration.url
        now = self.clock.now()
        # x-ms-date is the wall time of sending, not the sandbox clock: a receiver checks it against
        # its own clock, and a sandbox clock moved days ahead must not make every delivery look forged.
        headers = signed_headers(delivery.registration.secret, url, delivery.body, datetime.now(UTC))
        attempt = Attempt(len(delivery.attempts) + 1, now, None, duplicate=duplicate)
        delivery.attempts.append(attempt)
        started = time.monotonic()
        try:
            # The whole answer within the timeout, also from an in-process target (ASGITransport has no
            # timeouts of its own).
            response = await asyncio.wait_for(self._post(url, delivery.body, headers), self.timeout)
        except (httpx.TimeoutException, TimeoutError):
            attempt.error = f"no answer within {self.timeout:g} s"
            return False
        except httpx.HTTPError as exc:
            attempt.error = f"{type(exc).__name__}: {exc}"
            return False
        except Exception as exc:  # an in-process target that raised: as a 500 would be
            log.warning("in-process webhook target raised %r", exc)
            attempt.error = f"the target raised {type(exc).__name__}"
            return False
        attempt.status = response.status_code
        log.debug(
            "webhook %s -> %s: %d in %.3f s",
            delivery.event,
            url,
            response.status_code,
            time.monotonic() - started,
        )
        return 200 <= response.status_code < 300

    # -- reading -----------------------------------------------------------------------------------
    def deliveries(
        self, *, registration_id: str | None = None, reference: str | None = None
    ) -> list[Delivery]:
        with self._lock:
            return [
                d
                for d in self._recent
                if (registration_id is None or d.registration.id == registration_id)
                and (reference is None or d.reference == reference)
            ]

    def busy(self) -> bool:
        """Something is being sent, or is due now and waiting for its worker."""
        now = self.clock.now()
        with self._lock:
            if self._sending:
                return True
            return any(
                q and q[0].next_attempt_at is not None and q[0].next_attempt_at <= now
                for q in self._queues.values()
            )

    async def idle(self, within: float = 10.0) -> None:
        """Wait (real time, at most ``within`` seconds) until nothing is being sent or due now."""
        deadline = time.monotonic() + within
        while self.busy():
            if time.monotonic() > deadline:
                raise TimeoutError("webhook deliveries still running")
            await asyncio.sleep(0.005)

    async def aclose(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        for task in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
