"""The UI's task runner at shutdown."""

from __future__ import annotations

import asyncio
from typing import Any

from epay_desktop.ui.aio import TaskRunner


def test_shutdown_returns_after_the_done_callbacks_of_tasks_that_just_finished(
    qtbot: Any, ui_loop: asyncio.AbstractEventLoop
) -> None:
    """A task that finished right before shutdown still has its done callback (which emits
    ``busy_changed``) pending; shutdown waits for it, so deleting the runner afterwards is safe."""
    runner = TaskRunner(lambda _name, _error: None)
    seen: list[tuple[str, bool]] = []
    runner.busy_changed.connect(lambda name, busy: seen.append((name, busy)))

    async def quick() -> int:
        return 1

    async def scenario() -> None:
        task = runner.start("quick", quick())
        assert task is not None
        await asyncio.sleep(0)  # the task ran and finished; its done callback is queued
        assert task.done()
        await runner.shutdown()
        assert seen == [("quick", True), ("quick", False)]

    ui_loop.run_until_complete(scenario())
