"""Rate limits of the sandbox, per endpoint as documented (agent-toolkit epayment_references_operations.md
and errors.md "Rate limits"): create, capture, cancel and refund 5 a minute each per (reference, MSN);
get payment and get event log 120 a minute each per (reference, subscription key); force approve none.
Sliding windows; over the limit is a 429 with ``Retry-After``."""

from __future__ import annotations

import threading
from collections import deque
from math import ceil

from epay_desktop.sandbox.clock import Clock
from epay_desktop.sandbox.problems import ProblemError

WRITE_LIMIT, READ_LIMIT, WINDOW = 5, 120, 60.0
LIMITS = {
    "create": WRITE_LIMIT,
    "capture": WRITE_LIMIT,
    "cancel": WRITE_LIMIT,
    "refund": WRITE_LIMIT,
    "get": READ_LIMIT,
    "events": READ_LIMIT,
}


class RateLimiter:
    """Sliding windows of request times. ``lock``: the engine's, so a check sees one change at a time."""

    def __init__(self, clock: Clock, lock: threading.RLock, *, enabled: bool = True) -> None:
        self.clock = clock
        self.lock = lock
        self.enabled = enabled
        self._windows: dict[tuple[str, ...], deque[float]] = {}

    def check(self, operation: str, msn: str, reference: str, subscription_key: str) -> None:
        """Count one request to ``operation`` (a key of ``LIMITS``), or raise the 429 when its window
        is full."""
        if not self.enabled:
            return
        limit = LIMITS[operation]
        counted_by = msn if limit == WRITE_LIMIT else subscription_key
        key = (operation, counted_by, reference)
        now = self.clock.timestamp()
        with self.lock:
            window = self._windows.setdefault(key, deque())
            while window and window[0] <= now - WINDOW:
                window.popleft()
            if len(window) >= limit:
                retry_after = max(1, ceil(window[0] + WINDOW - now))
                raise ProblemError(
                    429,
                    "Too Many Requests",
                    f"Rate limit of {limit} per minute for this reference exceeded; "
                    f"retry in {retry_after} s.",
                    headers={"Retry-After": str(retry_after)},
                )
            window.append(now)

    def clear(self) -> None:
        with self.lock:
            self._windows.clear()
