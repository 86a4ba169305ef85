"""Python's garbage collector runs on the GUI thread only (pyqtgraph's ``GarbageCollector`` recipe).

Left automatic, a collection starts in whichever thread happens to allocate when a threshold is
passed: a worker of ``asyncio.to_thread``, qasync's executor, uvicorn in tests. A Python-owned QObject
in a reference cycle is then destroyed in that thread, its timers stay registered with the GUI thread's
dispatcher, and Qt later crashes in ``QTimerInfoList::activateTimers``. So automatic collection is
turned off and a ``QTimer`` on the GUI thread checks ``gc.get_count()`` against the thresholds and
collects the generations that are due, there. Reference counting still frees everything without
cycles at once; only cycles wait for the next tick.

Only the young generations (0 and 1) are collected from the timer: a full collection walks every
object the app holds (with 100,000 payments loaded, a few hundred milliseconds: dropped frames and a
stalled loop), and the young ones take well under a frame. What the app keeps for its whole life
(modules, the window, Qt wrappers) is moved out of the collector's sight once started (``freeze``, after
start-up), so it is never walked again; and so is a register once loaded (``register_loaded``, with
``freeze_loads``): its payments would otherwise be walked once more, all of them, by the next collection
of generation 1 after the load (a stall that grows with the register). The young generations are kept
small (``YOUNG_THRESHOLDS``, checked more often while there is garbage), so each collection is short.
Cycles that survive into the old generation are rare here (reference counting frees the rest); they
wait for the process to end, where no collection runs either: the operating system frees the memory at
once.

Started by the composition root before the loop runs and stopped on quit (``stop`` restores automatic
collection as it was, without collecting). Python itself collects at exit: a full collection while it
finalizes, when automatic collection is on, and one more as it clears the modules, whatever the setting
(half a second and more with a large register loaded, after the window has closed). So once started,
the process leaves through ``_quiet_exit`` (``atexit``): collection off and everything frozen, so
neither walks anything. Reference counting still frees what it frees; the rest is the operating
system's to reclaim, at once, as with any process that ends.
"""

from __future__ import annotations

import atexit
import gc
import logging
import threading

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MS = 100  # between checks while there is nothing to collect (few wake-ups when idle)
BUSY_INTERVAL_MS = 25  # between checks after a collection: while the app allocates, collect in small steps
# Generation 0 is collected past 300 allocations (Python's own threshold is 700), generation 1 every
# fifth time (Python: eleventh). Each collection walks fewer objects: in batch_loop_stall.py's busy
# window, the longest generation-1 collection went from 4-8 ms to 2-3 ms. What survives is handed on
# to the old generation a little sooner; this app makes few cycles (an answer no longer is one).
YOUNG_THRESHOLDS = (300, 4)


class GarbageCollector(QObject):
    """Collects garbage on the thread that owns it (the GUI thread), from a timer."""

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        interval_ms: int = DEFAULT_INTERVAL_MS,
        freeze_loads: bool = False,
    ) -> None:
        super().__init__(parent)
        self.freeze_loads = freeze_loads  # freeze again on ``register_loaded`` (the app; not tests)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.threshold = YOUNG_THRESHOLDS
        self.interval_ms = interval_ms
        self.busy_interval_ms = min(interval_ms, BUSY_INTERVAL_MS)
        self.collections = 0  # how many collections ran from check() (tests and the log)
        self.last_thread: int | None = None  # the thread of the last one (always the GUI thread)
        self._was_enabled = gc.isenabled()
        self.running = False

    def start(self) -> None:
        """Turn off automatic collection and collect from the timer instead."""
        self._was_enabled = gc.isenabled()
        gc.disable()
        _leave_quietly()
        self.running = True
        _running.append(self)
        self.timer.start()
        log.info("automatic garbage collection off; collecting on the GUI thread")

    @staticmethod
    def freeze() -> int:
        """Move every object alive now out of the collector's reach (``gc.freeze``): call once start-up
        is done, so collections never walk the modules, the window and the other objects that live as
        long as the app. Returns how many objects were frozen."""
        gc.freeze()
        return gc.get_freeze_count()

    def stop(self) -> None:
        """Stop the timer and restore automatic collection as it was. No collection: at quit the
        process is about to end, and a full collection then only delays it."""
        self.timer.stop()
        if not self.running:
            return
        self.running = False
        _running.remove(self)
        if self._was_enabled:
            gc.enable()

    def check(self) -> None:
        """Collect the young generations whose thresholds have been passed: generation 0, or 1 when it
        is due too (as the automatic collector would, without ever going on to the old generation)."""
        count0, count1, _count2 = gc.get_count()
        if count0 <= self.threshold[0]:
            self.timer.setInterval(self.interval_ms)
            return
        gc.collect(1 if count1 > self.threshold[1] else 0)
        self.collections += 1
        self.last_thread = threading.get_ident()
        self.timer.setInterval(self.busy_interval_ms)


_registered: list[bool] = []
_running: list[GarbageCollector] = []  # started and not stopped, oldest first


def register_loaded() -> bool:
    """A register's payments have just been loaded and live on: freeze them (``gc.freeze``, which only
    moves lists, whatever their length) when the running collector was made with ``freeze_loads``.
    Whatever cyclic garbage is young at this moment stays too (a few cycles at most): collecting first
    would be the very walk of every loaded object this avoids. Returns whether anything was frozen."""
    if not any(collector.freeze_loads for collector in _running):
        return False
    gc.freeze()
    return True


def _leave_quietly() -> None:
    """Register ``_quiet_exit`` once per process."""
    if not _registered:
        _registered.append(True)
        atexit.register(_quiet_exit)


def _quiet_exit() -> None:
    """At exit (before Python's own collections): nothing left for a collection to walk."""
    gc.disable()
    gc.freeze()


__all__ = [
    "BUSY_INTERVAL_MS",
    "DEFAULT_INTERVAL_MS",
    "YOUNG_THRESHOLDS",
    "GarbageCollector",
    "register_loaded",
]
