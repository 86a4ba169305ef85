"""The token cache on its own: one shared refresh, early refresh, failures shared, cancellation."""

from __future__ import annotations

import asyncio

import pytest

from epay_desktop.api.parse import TokenInfo
from epay_desktop.api.token import TokenCache
from tests.api.fakes import FakeClock

pytestmark = pytest.mark.anyio


class Issuer:
    def __init__(self, lifetime: float | None = 3600, fail: bool = False) -> None:
        self.calls = 0
        self.lifetime = lifetime
        self.fail = fail
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self) -> TokenInfo:
        self.calls += 1
        await self.gate.wait()
        if self.fail:
            raise RuntimeError("token endpoint down")
        return TokenInfo(f"token-{self.calls}", self.lifetime)


async def test_one_refresh_shared_by_all_waiters() -> None:
    issuer = Issuer()
    issuer.gate.clear()
    cache = TokenCache(issuer)
    waiters = [asyncio.ensure_future(cache.get()) for _ in range(100)]
    await asyncio.sleep(0)
    issuer.gate.set()
    tokens = await asyncio.gather(*waiters)
    assert set(tokens) == {"token-1"}
    assert issuer.calls == 1 == cache.refreshes


async def test_a_failed_refresh_fails_every_waiter_once_and_the_next_call_tries_again() -> None:
    issuer = Issuer(fail=True)
    cache = TokenCache(issuer)
    results = await asyncio.gather(*(cache.get() for _ in range(10)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert issuer.calls == 1
    issuer.fail = False
    assert await cache.get() == "token-2"


async def test_a_cancelled_waiter_does_not_cancel_the_shared_refresh() -> None:
    issuer = Issuer()
    issuer.gate.clear()
    cache = TokenCache(issuer)
    first = asyncio.ensure_future(cache.get())
    second = asyncio.ensure_future(cache.get())
    await asyncio.sleep(0)
    first.cancel()
    issuer.gate.set()
    assert await second == "token-1"
    assert first.cancelled()


async def test_refresh_two_minutes_early_and_invalidate_only_the_stale_token() -> None:
    clock = FakeClock()
    issuer = Issuer(lifetime=3600)
    cache = TokenCache(issuer, clock=clock)
    assert await cache.get() == "token-1"
    clock.now += 3600 - 120
    assert await cache.get() == "token-2"
    cache.invalidate("token-1")  # an old token failing does not throw away the new one
    assert cache.peek() == "token-2"
    cache.invalidate("token-2")
    assert cache.peek() is None


async def test_short_and_missing_lifetimes() -> None:
    clock = FakeClock()
    issuer = Issuer(lifetime=10)
    cache = TokenCache(issuer, clock=clock)
    await cache.get()
    clock.now += 4.9
    assert cache.peek() == "token-1"
    clock.now += 0.2
    assert cache.peek() is None
    issuer.lifetime = None  # unknown lifetime: assume five minutes
    await cache.get()
    clock.now += 100
    assert cache.peek() == "token-2"
    clock.now += 100
    assert cache.peek() is None
    await cache.aclose()
