"""Garbage is collected on the GUI thread only: automatic collection is off while the collector runs,
a worker thread that passes the thresholds collects nothing, and the timer collects here."""

from __future__ import annotations

import gc
import threading
from typing import Any

from epay_desktop.ui.gc_guard import GarbageCollector


def test_collections_happen_on_the_gui_thread_when_thresholds_pass(qtbot: Any) -> None:
    gui = threading.get_ident()
    threads: list[int] = []

    def watch(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            threads.append(threading.get_ident())

    gc.enable()  # as a fresh interpreter starts (the test fixture turned it off)
    collector = GarbageCollector(interval_ms=5)
    gc.callbacks.append(watch)
    try:
        collector.start()
        assert not gc.isenabled()

        def churn() -> None:  # far past generation 0's threshold, all of it cycles
            for _ in range(gc.get_threshold()[0] * 20):
                cycle: list[Any] = []
                cycle.append(cycle)

        worker = threading.Thread(target=churn)
        worker.start()
        worker.join()
        assert threads == []  # nothing was collected in the worker
        assert gc.get_count()[0] > collector.threshold[0]
        qtbot.waitUntil(lambda: collector.collections > 0, timeout=2000)
        assert collector.last_thread == gui
        assert threads
        assert set(threads) == {gui}
        assert gc.get_count()[0] <= collector.threshold[0]
    finally:
        collector.stop()
        gc.callbacks.remove(watch)
    assert gc.isenabled()  # restored as it was before start()
    gc.disable()  # back to the fixture's state; its own stop() restores it after the test


def test_below_the_threshold_nothing_is_collected(qtbot: Any) -> None:
    collector = GarbageCollector(interval_ms=5)
    gc.collect()
    collector.check()
    assert collector.collections == 0
    assert collector.last_thread is None
