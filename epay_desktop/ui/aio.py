"""The one bridge between asyncio and Qt. Every qasync import lives in this module, so a later move
to ``PySide6.QtAsyncio`` touches one file.

- :func:`run_app` starts qasync's ``QEventLoop`` on the GUI thread with ``asyncio.Runner``
  (``asyncio.run(loop_factory=...)`` is 3.12+).
- :class:`TaskRunner` runs every operation started from the UI: it keeps a strong reference to the
  task, marks the control busy, routes errors to one presenter, and cancels the previous task of the
  same name (the latest refresh wins). Slots stay one line: ``runner.start("refresh", coro)``.
- :func:`wait_finished` awaits a dialog opened with ``open()``: never ``exec()`` inside a coroutine.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

# qasync picks the Qt binding already imported, so it must come after PySide6.
import qasync
import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QDialog, QWidget

log = logging.getLogger(__name__)

ErrorPresenter = Callable[[str, BaseException], None]


def run_app(main: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run ``main()`` on a qasync loop bound to the existing QApplication; return its exit code."""
    if QApplication.instance() is None:
        raise RuntimeError("create the QApplication before run_app()")
    with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
        return runner.run(main())


def new_event_loop(app: QApplication) -> asyncio.AbstractEventLoop:
    """A qasync loop bound to ``app`` (tests drive it with ``run_until_complete``)."""
    loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app)
    return loop


async def wait_finished(dialog: QDialog) -> int:
    """Open ``dialog`` window-modally and wait for its result without a nested event loop."""
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def _done(result: int) -> None:
        if not future.done():
            future.set_result(result)

    dialog.finished.connect(_done)
    dialog.open()
    try:
        return await future
    finally:
        dialog.finished.disconnect(_done)


class TaskRunner(QObject):
    """Runs UI-started coroutines by name; the latest task of a name wins.

    ``busy`` widgets are disabled while the task runs. A widget stays disabled while *any* running task
    claims it: when a task replaces another of its name, the widgets only the replaced one claimed are
    enabled again once it ended (it is cancelled, and ends a moment later)."""

    busy_changed = Signal(str, bool)

    def __init__(self, present_error: ErrorPresenter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._present_error = present_error
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._claims: dict[asyncio.Task[Any], tuple[QWidget, ...]] = {}
        self._closed = False

    def start(
        self,
        name: str,
        coro: Awaitable[Any],
        *,
        busy: list[QWidget] | None = None,
        replace: bool = True,
    ) -> asyncio.Task[Any] | None:
        if self._closed:
            # Shutting down: a late timer or click must not start work on closing resources.
            if asyncio.iscoroutine(coro):
                coro.close()
            return None
        previous = self._tasks.get(name)
        if previous is not None and not previous.done():
            if not replace:
                # An operation of this name is already running (a second click on Cancel): ignore.
                if asyncio.iscoroutine(coro):
                    coro.close()
                return None
            previous.cancel()
        task = asyncio.ensure_future(coro)
        self._tasks[name] = task
        self._claims[task] = tuple(busy or ())
        for widget in self._claims[task]:
            widget.setEnabled(False)
        self.busy_changed.emit(name, True)
        task.add_done_callback(functools.partial(self._finished, name))
        return task

    def is_running(self, name: str) -> bool:
        task = self._tasks.get(name)
        return task is not None and not task.done()

    def running(self) -> list[asyncio.Task[Any]]:
        """The tasks still running (to wait for them, e.g. before closing)."""
        return [task for task in self._tasks.values() if not task.done()]

    def cancel(self, name: str) -> None:
        task = self._tasks.get(name)
        if task is not None and not task.done():
            task.cancel()

    @property
    def closed(self) -> bool:
        return self._closed

    async def shutdown(self) -> None:
        """Cancel every running task, wait for them, and refuse new ones from now on."""
        self._closed = True
        # Also the tasks that finished but whose done callback (``_finished``, which emits
        # ``busy_changed``) has not run yet: after this returns the runner may be deleted, and a
        # signal emitted then by a deleted runner is an error in the loop.
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _finished(self, name: str, task: asyncio.Task[Any]) -> None:
        released = self._claims.pop(task, ())
        still_claimed = {id(w) for widgets in self._claims.values() for w in widgets}
        for widget in released:
            if id(widget) not in still_claimed and shiboken6.isValid(widget):
                widget.setEnabled(True)
        if self._tasks.get(name) is task:
            del self._tasks[name]
            self.busy_changed.emit(name, False)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            if _expected(error):
                # A refusal, an input problem, an unknown outcome: told to the person; one line in the
                # log (no traceback: nothing is wrong with the program).
                log.warning("operation %s: %s: %s", name, type(error).__name__, str(error).replace("\n", " "))
            else:
                log.error("operation %s failed", name, exc_info=error)
            self._present_error(name, error)


def _expected(error: BaseException) -> bool:
    """Errors the program expects and explains (the API's, the desk's, bad input)."""
    from epay_desktop.api import EPaymentError
    from epay_desktop.domain import MoneyError
    from epay_desktop.services import DeskError

    return isinstance(error, EPaymentError | DeskError | MoneyError)


__all__ = ["TaskRunner", "new_event_loop", "run_app", "wait_finished"]
