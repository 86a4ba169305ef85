"""The one bridge between asyncio and Qt. Every qasync import lives in this module, so a later move
to ``PySide6.QtAsyncio`` touches one file.

- :func:`run_app` starts :class:`QtLoop` (qasync's ``QEventLoop`` whose timers end when cancelled)
  on the GUI thread with ``asyncio.Runner`` (``asyncio.run(loop_factory=...)`` is 3.12+).
- :class:`TaskRunner` runs every operation started from the UI: it keeps a strong reference to the
  task, marks the control busy, routes errors to one presenter, and cancels the previous task of the
  same name (the latest refresh wins). Slots stay one line: ``runner.start("refresh", coro)``.
- :func:`wait_finished` awaits a dialog opened with ``open()``: never ``exec()`` inside a coroutine.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

# qasync picks the Qt binding already imported, so it must come after PySide6.
import qasync
import shiboken6
from PySide6.QtCore import QObject, QTimerEvent, Signal
from PySide6.QtWidgets import QApplication, QDialog, QWidget

log = logging.getLogger(__name__)

ErrorPresenter = Callable[[str, BaseException], None]


def run_app(main: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run ``main()`` on a qasync loop bound to the existing QApplication; return its exit code."""
    if QApplication.instance() is None:
        raise RuntimeError("create the QApplication before run_app()")
    with asyncio.Runner(loop_factory=QtLoop) as runner:
        return runner.run(main())


def new_event_loop(app: QApplication) -> asyncio.AbstractEventLoop:
    """A :class:`QtLoop` bound to ``app`` (tests drive it with ``run_until_complete``)."""
    loop: asyncio.AbstractEventLoop = QtLoop(app)
    return loop


class QtLoop(qasync.QEventLoop):  # type: ignore[misc]
    """qasync's loop, whose scheduled callbacks are Qt timers that end when their handle is cancelled.

    qasync starts one Qt timer per ``call_later`` and keeps it after the handle is cancelled, until it
    would have fired. Every request's deadline and every read timeout is such a handle, cancelled when the
    answer comes: after a refresh of thousands of payments, thousands of dead timers stay registered, and
    each new timer (a ``call_soon`` is one too) is inserted into and removed from Qt's list of them by a
    walk over the whole list. Here each handle's timer is killed when the handle is cancelled, but only
    while that timer still belongs to it: a handle that already fired (asyncio cancels those too) has
    given its id back, and Qt hands ids out again.

    Relies on one shape of qasync (0.28, pinned in pyproject.toml): ``call_soon``, ``call_at``,
    ``call_soon_threadsafe`` and its socket notifiers all schedule through ``call_later``, the method
    replaced here (tests/ui/test_loop_timers.py fails if that changes)."""

    def __init__(self, app: QApplication | None = None) -> None:
        # Created before qasync's __init__: its base class may schedule callbacks while it starts.
        self.timers = OwnedTimers(self)
        super().__init__(app)

    def call_later(
        self,
        delay: float,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        if asyncio.iscoroutinefunction(callback):
            raise TypeError("coroutines cannot be used with call_later")
        if not callable(callback):
            raise TypeError(f"callback must be callable: {type(callback).__name__}")
        handle = OwnedTimerHandle(self.time() + delay, callback, args, self, context, self.timers)
        self.timers.start(handle, delay)
        return handle

    def close(self) -> None:
        super().close()
        self.timers.stop()


class OwnedTimerHandle(asyncio.TimerHandle):
    """A handle that stops its Qt timer when cancelled (see :class:`QtLoop`)."""

    __slots__ = ("timer_id", "timers")

    def __init__(
        self,
        when: float,
        callback: Callable[..., object],
        args: tuple[Any, ...],
        loop: asyncio.AbstractEventLoop,
        context: contextvars.Context | None,
        timers: OwnedTimers,
    ) -> None:
        super().__init__(when, callback, args, loop, context=context)
        self.timers = timers
        self.timer_id = 0  # Qt's id of this handle's timer while it is scheduled; 0 once it fired

    def cancel(self) -> None:
        if not self.cancelled():
            self.timers.forget(self)
        super().cancel()


class OwnedTimers(QObject):
    """The Qt timers of one loop's scheduled callbacks, each owned by one handle.

    Qt gives a timer id back when the timer is killed, and a later timer may get it. So the id of a
    handle is cleared when its timer fires or is killed, and a timer is killed on cancel only when its id
    still maps to that very handle: a late cancel can never stop another handle's timer."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._loop = loop
        self._handles: dict[int, OwnedTimerHandle] = {}
        self._stopped = False
        self._thread = threading.get_ident()  # Qt timers are started and killed on this thread only
        self.peak = 0  # the most timers alive at once (benchmarks)
        self.started = 0  # how many were ever started (tests: every callback comes through here)

    def __len__(self) -> int:
        """Timers alive now."""
        return len(self._handles)

    def start(self, handle: OwnedTimerHandle, delay: float) -> None:
        timer_id = self.startTimer(int(max(0.0, delay) * 1000))
        if timer_id == 0:
            raise RuntimeError("Qt could not start a timer for the event loop")
        # A live id is never handed out twice; an id here whose timer is gone would be a bug in this
        # class, and the new handle must win it (the old one's timer no longer exists).
        self._handles[timer_id] = handle
        handle.timer_id = timer_id
        self.started += 1
        self.peak = max(self.peak, len(self._handles))

    def owner(self, timer_id: int) -> OwnedTimerHandle | None:
        """The handle whose timer has this id now, if any."""
        return self._handles.get(timer_id)

    def forget(self, handle: OwnedTimerHandle) -> None:
        """``handle`` was cancelled: kill its timer if it is still its own. From another thread (not
        supported by asyncio, but harmless) the timer is left to fire and find the handle cancelled."""
        timer_id = handle.timer_id
        if not timer_id or self._handles.get(timer_id) is not handle:
            return
        if threading.get_ident() != self._thread:
            return
        del self._handles[timer_id]
        handle.timer_id = 0
        self.killTimer(timer_id)

    def timerEvent(self, event: QTimerEvent) -> None:
        timer_id = event.timerId()
        self.killTimer(timer_id)
        handle = self._handles.pop(timer_id, None)
        if handle is None or self._stopped:
            return
        handle.timer_id = 0
        if handle.cancelled():
            return
        loop = self._loop
        if not loop.get_debug():
            handle._run()
            return
        started = time.monotonic()
        handle._run()
        took = time.monotonic() - started
        if took >= loop.slow_callback_duration:
            log.warning("executing %s took %.3f seconds", handle, took)

    def stop(self) -> None:
        """The loop closed: kill every timer; nothing scheduled runs any more."""
        self._stopped = True
        for timer_id, handle in list(self._handles.items()):
            handle.timer_id = 0
            self.killTimer(timer_id)
        self._handles.clear()


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


__all__ = [
    "OwnedTimerHandle",
    "OwnedTimers",
    "QtLoop",
    "TaskRunner",
    "new_event_loop",
    "run_app",
    "wait_finished",
]
