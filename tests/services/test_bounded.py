"""``services/bounded.as_they_finish``: a few at a time, and nothing left behind when the caller stops."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from typing import Any

import pytest

from epay_desktop.services.bounded import as_they_finish

pytestmark = pytest.mark.anyio


async def test_a_caller_that_stops_at_an_error_leaves_no_error_unretrieved() -> None:
    # Four fail in the same pass of the loop; the caller stops at the first: the other three errors
    # must not be logged as "Task exception was never retrieved" (the team desk's refresh stopped so,
    # when the server went out of reach, and the loop reported them).
    class RefusedError(Exception):
        pass

    async def fail(item: int) -> int:
        await asyncio.sleep(0.01)
        raise RefusedError(item)

    async def take_all() -> None:
        async with contextlib.aclosing(as_they_finish(range(4), fail, 4)) as finished:
            async for task in finished:
                task.result()

    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        with pytest.raises(RefusedError):
            await take_all()
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert reported == []


async def test_at_most_limit_run_at_once_and_every_item_comes_back() -> None:
    running = 0
    most = 0

    async def work(item: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.001 * (item % 3))
        running -= 1
        return item * 2

    async with contextlib.aclosing(as_they_finish(range(20), work, 3)) as finished:
        results = sorted([task.result() async for task in finished])
    assert results == [item * 2 for item in range(20)]
    assert most == 3
