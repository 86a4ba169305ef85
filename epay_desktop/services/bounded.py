"""Work on many items, a few at a time, handed back as each piece finishes: the refreshes of a whole list.

``as_they_finish`` keeps at most ``limit`` tasks alive and starts the next as one finishes: a task per
item up front (10,000 of them, each with its callbacks) stalled the loop for a few hundred ms. It starts
one task per pass of the loop: starting one runs its work up to its first wait (building and sending a
request, about a millisecond), and eight started in one pass kept the GUI thread's timers waiting a
frame. Stopping the iteration (or cancelling the task that iterates) cancels what still runs; close it
with ``contextlib.aclosing`` so that happens at once, not when the generator is collected.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from typing import TypeVar

__all__ = ["as_they_finish"]

T = TypeVar("T")
R = TypeVar("R")


async def as_they_finish(
    items: Iterable[T], work: Callable[[T], Awaitable[R]], limit: int
) -> AsyncGenerator[asyncio.Task[R], None]:
    """``work(item)`` for each of ``items``, at most ``limit`` at a time; each finished task is yielded
    (its ``result()`` gives the value or raises what the work raised)."""
    waiting = iter(items)
    running: set[asyncio.Task[R]] = set()
    # Finished, and not yet taken back from the caller (the one at its head is being handed over): when
    # the caller stops (at an error of one, say), their results are taken here, so no error is left
    # "never retrieved".
    unseen: deque[asyncio.Task[R]] = deque()

    async def start_more() -> None:
        for item in itertools.islice(waiting, max(1, limit) - len(running)):
            running.add(asyncio.ensure_future(work(item)))
            await asyncio.sleep(0)  # one start per pass of the loop

    try:
        await start_more()
        while running:
            finished, _pending = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            running.difference_update(finished)
            unseen.extend(finished)
            await start_more()
            while unseen:
                yield unseen[0]
                unseen.popleft()
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, *unseen, return_exceptions=True)
