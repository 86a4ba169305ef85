"""Waiting for a condition inside a running loop (GUI tests): polls, never blocks the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def wait_until(
    predicate: Callable[[], object],
    limit: float = 5.0,
    *,
    every: float = 0.005,
    what: Callable[[], object] | None = None,
) -> None:
    """Poll ``predicate`` until it holds, for at most ``limit`` seconds; ``what`` says what was seen
    instead when it never did (in the failure's message)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not predicate():
        if loop.time() > deadline:
            seen = f": {what()!r}" if what is not None else ""
            raise AssertionError(f"condition not reached in time{seen}")
        await asyncio.sleep(every)
