"""Paint before the heavy parts are imported: the helpers every widget of the first paint uses.

A leaf module (it imports only Qt): the window, the table's view, the details panel and the start-up
code all use it, and it uses none of them.

The code that runs before the first paint does not touch ``PySide6.QtCore.Qt``: the first use of the Qt
namespace builds all of its enums as Python enums (93 of them, about 12 ms on Python 3.11, more than a
tenth of a bare window's start). Where that code needs one of Qt's enums it sets it by its key names
through Qt's property system (:func:`set_qt_enum`); ``tests/test_foundation.py`` checks that the first
paint leaves the namespace unbuilt.

:func:`paint_now` runs Qt's own event loop until the window has painted once (or ``limit_ms`` passed,
e.g. on a platform that shows nothing); no asyncio loop exists yet, so nothing else can run in it.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QWidget

T = TypeVar("T")


def skip_pyside_source_scan() -> bool:
    """Stop PySide6 from reading the source file of every module imported after it; True when done.

    PySide's ``__feature__`` switches (``from __feature__ import snake_case, true_property``) are chosen
    per module, so PySide's import hook asks of each newly imported module whether it "uses PySide":
    it reads the module's whole source with ``inspect.getsource`` (which also keeps it in ``linecache``)
    and looks for the word "PySide6". This app selects no feature anywhere, so the answer changes
    nothing: a module that is ignored (PySide's own -1) sees the same classes as one that uses PySide
    without a feature (0). The reading cost 23–52 ms before the window's first paint and some 100 ms
    over a start. A module that does import ``__feature__`` is still marked by PySide when it does.
    Nothing happens when the PySide in use has no such check (another version)."""
    feature = sys.modules.get("shibokensupport.feature")
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    vars(feature)["_mod_uses_pyside"] = _selects_no_feature
    return True


def _selects_no_feature(module: object) -> bool:
    return False


def set_qt_enum(target: QObject, name: str, keys: str) -> None:
    """Set ``target``'s Qt-enum property ``name`` by key names, e.g. ``set_qt_enum(label, "alignment",
    "AlignRight|AlignVCenter")``: the same value as ``Qt.AlignmentFlag.AlignRight | ...`` without
    building the Qt namespace (see the module docstring). A wrong name or key raises ``ValueError``."""
    if not target.metaObject().indexOfProperty(name) >= 0 or not target.setProperty(name, keys):
        raise ValueError(f"{type(target).__name__} has no enum property {name!r} taking {keys!r}")


class _FirstPaint(QObject):
    def __init__(self, loop: QEventLoop) -> None:
        super().__init__()
        self.loop = loop
        self.painted = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self.painted:
            self.painted = True
            # Quit after this paint is done (the filter runs before the widget paints).
            QTimer.singleShot(0, self.loop.quit)
        return False


def paint_now(window: QWidget, *, limit_ms: int = 2000) -> bool:
    """Show ``window`` and spin Qt's event loop until it painted once; True when it did."""
    loop = QEventLoop()
    watcher = _FirstPaint(loop)
    window.installEventFilter(watcher)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    try:
        window.show()
        timer.start(limit_ms)
        if not watcher.painted:
            loop.exec()
    finally:
        timer.stop()
        window.removeEventFilter(watcher)
    return watcher.painted


def wait_for(arm: Callable[[Callable[[], None]], None], *, limit_ms: int = 2000) -> bool:
    """Spin Qt's event loop until the callback handed to ``arm`` is called (``arm`` is called once, with
    the loop running soon after), or ``limit_ms`` passed; True when it was called."""
    loop = QEventLoop()
    called: list[bool] = []

    def done() -> None:
        called.append(True)
        loop.quit()

    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    try:
        arm(done)
        timer.start(limit_ms)
        if not called:
            loop.exec()
    finally:
        timer.stop()
    return bool(called)


def held_until_settled(widget: QWidget, change: Callable[[], T], *, limit_ms: int = 2000) -> T:
    """``change()`` (say, a table built and shown in ``widget``) with ``widget``'s painting held back
    until Qt's event loop has run once after it; its result. What the change sets off for right after
    it (layouts, and zero-timeout timers: a table whose columns were resized repaints them from one)
    then happens before ``widget`` paints, so the change is painted once, instead of painted and at once
    painted again. Until then the screen keeps showing ``widget`` as it was: a widget whose updates are
    off paints nothing, not even its background. Turning them back on repaints it (Qt's own update)."""
    widget.setUpdatesEnabled(False)
    try:
        result = change()
        wait_for(lambda done: QTimer.singleShot(0, done), limit_ms=limit_ms)
    finally:
        widget.setUpdatesEnabled(True)
    return result


@contextmanager
def collection_held() -> Iterator[None]:
    """Python's automatic garbage collection held off inside (and on again after, when it was on): for
    the short stretches of the start that make many objects which live on (the Qt enums, the table's
    modules, the first rows), where each young collection would only find them alive."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def while_painting(work: Callable[[], T], *, meanwhile: Callable[[], object] | None = None) -> T:
    """``work()`` on a worker thread while Qt's event loop keeps the windows painted and answering
    (no asyncio loop runs yet); its result, or its exception raised here. ``meanwhile``: called here,
    on this thread, once the worker has started (what this thread would do next anyway, done while
    the worker waits for the disk). The worker ends the loop's wait itself, the moment it is done, by
    posting an event to it (``QCoreApplication.postEvent`` may be called from any thread): no polling,
    whose interval the start would wait for. Python's automatic garbage collection is held off
    meanwhile: a collection started in the worker could destroy a QObject there (see ``gc_guard``), and
    loading many records would set off full collections for nothing."""
    outcome: list[Any] = []
    loop = QEventLoop()
    waker = _Waker(loop)

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as error:  # handed to the caller below
            outcome.append((False, error))
        finally:
            QCoreApplication.postEvent(waker, QEvent(_DONE))

    worker = threading.Thread(target=run, name="while-painting", daemon=True)
    with collection_held():
        worker.start()
        try:
            if meanwhile is not None:
                meanwhile()
        finally:  # the worker's result is waited for also when ``meanwhile`` raised
            if not waker.done:
                loop.exec()
            worker.join()
    done, value = outcome[0]
    if not done:
        raise value
    return value


# The event a finished worker posts to ``while_painting``'s wait.
_DONE = QEvent.Type.User


class _Waker(QObject):
    """Ends ``loop`` when the worker's event arrives (delivered on this object's thread), or at once
    when it arrived before the loop ran."""

    def __init__(self, loop: QEventLoop) -> None:
        super().__init__()
        self.loop = loop
        self.done = False

    def event(self, event: QEvent) -> bool:
        if event.type() == _DONE:
            self.done = True
            self.loop.quit()
            return True
        return super().event(event)


def build_qt_enums() -> tuple[object, ...]:
    """Build the ``Qt`` namespace's and ``QStyle``'s enums now (see the module docstring; 30–45 ms on
    Python 3.11): a table cannot paint without them (its header is asked for a ``Qt.Orientation``, its
    cells read a ``QStyle.StateFlag``). For after the first paint, while a worker reads the rows."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QStyle

    return Qt.Orientation.Horizontal, QStyle.StateFlag.State_None


__all__ = [
    "build_qt_enums",
    "collection_held",
    "held_until_settled",
    "paint_now",
    "set_qt_enum",
    "skip_pyside_source_scan",
    "wait_for",
    "while_painting",
]
