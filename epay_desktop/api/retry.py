"""When and how long to wait before trying again: the one place that decides it.

Capped exponential backoff with full jitter (delay = random(0, min(cap, base · 2^n))), a bounded number
of attempts and a total time budget. ``Retry-After`` (seconds or an HTTP date) is honoured when the
server sends it; a wait longer than what is left of the budget ends the retries instead (retrying
before the server said would only be refused again).

The sleep, the clock and the random source (``jitter``) are fields, so tests can record the waits instead of
waiting (and can still show that a 429 with ``Retry-After: 7`` makes the client wait 7 seconds).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy", "parse_retry_after"]

# 408 timeout, 423 locked (concurrent operation), 429 rate limited, 5xx: try again with the same key.
RETRYABLE_STATUSES = frozenset({408, 423, 429, 500, 502, 503, 504})


def _is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or 500 <= status <= 599


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from now: ``"7"`` → 7.0, an HTTP date → the seconds until it
    (0 when in the past); ``None`` when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds == seconds else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How the client retries safe failures. Defaults suit an interactive app: at most 4 attempts,
    waits of up to 8 s each, and 30 s in all."""

    max_attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    total_budget: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)
    jitter: Callable[[], float] = field(default=random.random, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.total_budget < 0:
            raise ValueError("delays and the budget cannot be negative")

    @classmethod
    def none(cls) -> RetryPolicy:
        """One attempt, no retries (for tests and scripts that want to see the first failure)."""
        return cls(max_attempts=1)

    def is_retryable_status(self, status: int) -> bool:
        return _is_retryable_status(status)

    def backoff(self, retry_number: int) -> float:
        """The jittered wait before retry number ``retry_number`` (1 for the first retry)."""
        cap = min(self.max_delay, self.base_delay * (2.0 ** max(0, retry_number - 1)))
        return self.jitter() * cap

    def next_delay(self, *, attempt: int, started: float, retry_after: float | None = None) -> float | None:
        """The wait before the next attempt after attempt number ``attempt`` failed, or ``None`` when
        the retries are over (attempts used up, or the wait would go past the total budget)."""
        if attempt >= self.max_attempts:
            return None
        remaining = self.total_budget - (self.clock() - started)
        delay = retry_after if retry_after is not None else self.backoff(attempt)
        if delay > remaining:
            return None
        return max(0.0, delay)
