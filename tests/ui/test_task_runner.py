"""The one runner of UI-started operations: busy widgets, replacement by name, errors to one presenter."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from PySide6.QtWidgets import QPushButton

from epay_desktop.ui.aio import TaskRunner


async def wait_for(event: asyncio.Event) -> None:
    await event.wait()


def test_a_replaced_tasks_busy_widgets_are_enabled_again(qt_loop: asyncio.AbstractEventLoop) -> None:
    async def scenario() -> None:
        runner = TaskRunner(lambda name, error: errors.append((name, error)))
        first_button, second_button = QPushButton(), QPushButton()
        go = asyncio.Event()
        first = runner.start("refresh", wait_for(go), busy=[first_button])
        assert first is not None
        assert not first_button.isEnabled()
        second = runner.start("refresh", wait_for(go), busy=[second_button])  # the latest wins
        assert second is not None
        assert not second_button.isEnabled()
        await asyncio.gather(first, return_exceptions=True)
        assert first.cancelled()
        assert first_button.isEnabled()  # only the replaced task claimed it
        assert not second_button.isEnabled()  # its successor still runs
        go.set()
        await second
        assert second_button.isEnabled()
        assert not runner.running()

    errors: list[tuple[str, BaseException]] = []
    qt_loop.run_until_complete(scenario())
    assert not errors


def test_a_widget_stays_disabled_while_any_task_claims_it(qt_loop: asyncio.AbstractEventLoop) -> None:
    async def scenario() -> None:
        runner = TaskRunner(lambda _name, _error: None)
        shared = QPushButton()
        go = asyncio.Event()
        replaced = runner.start("refresh", wait_for(go), busy=[shared])
        successor = runner.start("refresh", wait_for(go), busy=[shared])
        assert replaced is not None
        assert successor is not None
        await asyncio.gather(replaced, return_exceptions=True)
        assert not shared.isEnabled()  # the replaced one ended, the successor still runs
        go.set()
        await successor
        assert shared.isEnabled()

    qt_loop.run_until_complete(scenario())


def test_errors_go_to_the_presenter_and_busy_ends(qt_loop: asyncio.AbstractEventLoop) -> None:
    async def fail() -> None:
        raise ValueError("no")

    async def scenario() -> None:
        runner = TaskRunner(lambda name, error: seen.append((name, error)))
        busy: list[tuple[str, bool]] = []
        runner.busy_changed.connect(lambda name, on: busy.append((name, on)))
        button = QPushButton()
        task = runner.start("cancel:order-1", fail(), busy=[button])
        assert task is not None
        await asyncio.gather(task, return_exceptions=True)
        assert button.isEnabled()
        assert busy == [("cancel:order-1", True), ("cancel:order-1", False)]

    seen: list[tuple[str, Any]] = []
    qt_loop.run_until_complete(scenario())
    assert [(name, str(error)) for name, error in seen] == [("cancel:order-1", "no")]


def test_a_second_start_of_a_running_operation_is_ignored(qt_loop: asyncio.AbstractEventLoop) -> None:
    async def scenario() -> None:
        runner = TaskRunner(lambda _name, _error: None)
        go = asyncio.Event()
        first = runner.start("cancel:order-1", wait_for(go), replace=False)
        assert runner.start("cancel:order-1", wait_for(go), replace=False) is None
        assert first is not None
        assert runner.running() == [first]
        go.set()
        await first

    qt_loop.run_until_complete(scenario())


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


def test_an_expected_refusal_is_one_log_line_and_a_bug_keeps_its_traceback(
    qt_loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    from epay_desktop.api import ApiError

    async def refused() -> None:
        raise ApiError(400, "Capture failed", "please try again later", error_code="6280")

    async def bug() -> None:
        raise ValueError("a bug")

    async def scenario() -> None:
        runner = TaskRunner(lambda _name, _error: None)
        for name, work in (("capture:order-1", refused()), ("capture:order-2", bug())):
            task = runner.start(name, work)
            assert task is not None
            await asyncio.gather(task, return_exceptions=True)

    with caplog.at_level(logging.WARNING, logger="epay_desktop.ui.aio"):
        qt_loop.run_until_complete(scenario())
    refusal, failure = caplog.records
    assert refusal.exc_info is None
    assert "6280" in refusal.getMessage()
    assert "\n" not in refusal.getMessage()
    assert failure.exc_info is not None
