"""The access-token cache: one token reused until shortly before it expires, one refresh shared by
every caller that needs a token while it runs (100 calls on a cold cache → 1 token request)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from epay_desktop.api.parse import TokenInfo

__all__ = ["DEFAULT_LIFETIME", "REFRESH_EARLY", "TokenCache"]

REFRESH_EARLY = 120.0  # seconds: refresh at least two minutes before the token expires
DEFAULT_LIFETIME = 300.0  # when the answer does not say (expires_in missing): assume a short life


@dataclass(frozen=True, slots=True)
class _Cached:
    token: str
    refresh_at: float


class TokenCache:
    """Caches the token from ``fetch`` and shares one in-flight refresh among all waiters.

    A failed refresh fails every caller that waited for it, and the next call starts a new one. A caller
    that is cancelled while waiting does not cancel the shared refresh (others still wait for it)."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[TokenInfo]],
        *,
        clock: Callable[[], float] = time.monotonic,
        refresh_early: float = REFRESH_EARLY,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._refresh_early = refresh_early
        self._cached: _Cached | None = None
        self._inflight: asyncio.Task[str] | None = None
        self.refreshes = 0  # how many token requests this cache started (for tests and stats)

    def _valid(self) -> str | None:
        cached = self._cached
        if cached is not None and self._clock() < cached.refresh_at:
            return cached.token
        return None

    async def get(self) -> str:
        token = self._valid()
        if token is not None:
            return token
        task = self._inflight
        if task is None or task.done():
            task = asyncio.ensure_future(self._refresh())
            # Someone always retrieves the outcome, even when every waiter was cancelled.
            task.add_done_callback(_retrieve)
            self._inflight = task
        return await asyncio.shield(task)

    async def _refresh(self) -> str:
        self.refreshes += 1
        started = self._clock()
        info = await self._fetch()
        lifetime = info.expires_in if info.expires_in is not None else DEFAULT_LIFETIME
        # Two minutes early; a token living under four minutes (only in tests) is refreshed at half life.
        early = min(self._refresh_early, lifetime / 2)
        self._cached = _Cached(info.access_token, started + lifetime - early)
        return info.access_token

    def invalidate(self, token: str | None = None) -> None:
        """Forget the cached token (after a 401). With ``token``, only when it is still the cached one,
        so many calls failing with the same old token cause one refresh, not many."""
        if self._cached is not None and (token is None or self._cached.token == token):
            self._cached = None

    def peek(self) -> str | None:
        """The cached token if still fresh, without refreshing."""
        return self._valid()

    async def aclose(self) -> None:
        task = self._inflight
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _retrieve(task: asyncio.Task[str]) -> None:
    if not task.cancelled():
        task.exception()
