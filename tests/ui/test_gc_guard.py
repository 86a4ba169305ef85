"""Garbage is collected on the GUI thread only: automatic collection is off while the collector runs,
a worker thread that passes the thresholds collects nothing, and the timer collects here."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from epay_desktop.ui.gc_guard import (
    BUSY_INTERVAL_MS,
    DEFAULT_INTERVAL_MS,
    YOUNG_THRESHOLDS,
    GarbageCollector,
    register_loaded,
)


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


def test_the_timer_collects_only_the_young_generations(qtbot: Any) -> None:
    """Generation 2 stays untouched however far past its threshold: a full collection walks every
    object the app holds (hundreds of milliseconds with a large register loaded)."""
    generations: list[int] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            generations.append(info["generation"])

    collector = GarbageCollector(interval_ms=5)
    gc.callbacks.append(watch)
    try:
        collector.start()
        # Enough rounds for the automatic rule to go on to generation 2 several times over.
        young, middle, old = gc.get_threshold()
        for _ in range((middle + 1) * (old + 1) * 3):
            for _ in range(young * 2):
                cycle: list[Any] = []
                cycle.append(cycle)
            collector.check()
        assert len(generations) > (middle + 1) * (old + 1) * 2
        assert set(generations) == {0, 1}
    finally:
        collector.stop()
        gc.callbacks.remove(watch)


def test_stop_does_not_collect(qtbot: Any) -> None:
    collected: list[int] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collected.append(info["generation"])

    collector = GarbageCollector(interval_ms=5)
    collector.start()
    gc.callbacks.append(watch)
    try:
        collector.stop()
    finally:
        gc.callbacks.remove(watch)
    assert collected == []


def test_freeze_moves_what_is_alive_out_of_reach() -> None:
    try:
        assert GarbageCollector.freeze() > 0
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


EXITING = """
import gc, sys
from PySide6.QtCore import QCoreApplication
from epay_desktop.ui.gc_guard import (
    BUSY_INTERVAL_MS,
    DEFAULT_INTERVAL_MS,
    YOUNG_THRESHOLDS,
    GarbageCollector,
    register_loaded,
)

app = QCoreApplication([])
collector = GarbageCollector()
collector.start()
collector.freeze()
kept = [[i] for i in range(50_000)]  # loaded after start-up, as a register's payments are
for _ in range(1_000):
    cycle = []
    cycle.append(cycle)
collector.stop()  # automatic collection back on, as it was before start()


def seen(phase, info):
    if phase == "start":
        sys.stderr.write(f"collected generation {info['generation']}\\n")


gc.callbacks.append(seen)
print("leaving", flush=True)
"""


def test_the_process_leaves_without_a_collection(tmp_path: Path) -> None:
    """Python collects at exit when automatic collection is on (``stop`` turned it back on): with a
    large register loaded that is a full walk of it after the window closed. The collector's exit hook
    leaves nothing to collect."""
    script = tmp_path / "exiting.py"
    script.write_text(EXITING)
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "leaving\n"
    assert "collected generation" not in done.stderr


def test_a_loaded_register_is_frozen_when_the_collector_freezes_loads(qtbot: Any) -> None:
    """The app's collector (``freeze_loads``) moves a register's payments out of the young collections'
    reach once loaded: else the next collection of generation 1 walks every one of them."""
    collector = GarbageCollector(interval_ms=5, freeze_loads=True)
    collector.start()
    try:
        before = gc.get_freeze_count()
        loaded = [[i] for i in range(20_000)]  # young, as a register's payments just read
        assert register_loaded()
        assert gc.get_freeze_count() >= before + len(loaded)
        young = {id(o) for o in gc.get_objects(0)} | {id(o) for o in gc.get_objects(1)}
        assert id(loaded[-1]) not in young
    finally:
        collector.stop()
        gc.unfreeze()
    assert not register_loaded()  # stopped: nothing freezes any more


def test_without_freeze_loads_a_loaded_register_stays_young(qtbot: Any) -> None:
    """Tests' collectors (and any made without ``freeze_loads``) leave what is loaded to the collector:
    frozen objects are never collected, and a test's widgets in cycles must be."""
    collector = GarbageCollector(interval_ms=5)
    collector.start()
    try:
        before = gc.get_freeze_count()
        loaded = [[i] for i in range(1_000)]
        assert not register_loaded()
        assert gc.get_freeze_count() == before
        assert id(loaded[-1]) in {id(o) for o in gc.get_objects(0)}
    finally:
        collector.stop()


def test_the_window_freezes_the_register_it_has_loaded(
    qtbot: Any, ui_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    from epay_desktop.app import open_demo
    from epay_desktop.ui.window.main_window import MainWindow

    frozen: list[int] = []

    async def main() -> None:
        session = await open_demo(tmp_path / "register.sqlite3")
        window = MainWindow(session.desk, show_error_dialogs=False, auto_refresh_ms=3_600_000)
        qtbot.addWidget(window)
        collector = GarbageCollector(freeze_loads=True)
        collector.start()
        try:
            before = gc.get_freeze_count()
            await window.load(refresh=False)
            frozen.append(gc.get_freeze_count() - before)
            assert window.model.rowCount() > 0
        finally:
            collector.stop()
            await window.shutdown()
            window.close()
            await session.aclose()

    try:
        ui_loop.run_until_complete(main())
    finally:
        gc.unfreeze()
    assert frozen[0] > 0


def test_checks_come_sooner_while_there_is_garbage_and_seldom_when_idle(qtbot: Any) -> None:
    collector = GarbageCollector()
    collector.start()
    try:
        assert collector.timer.interval() == DEFAULT_INTERVAL_MS
        for _ in range(YOUNG_THRESHOLDS[0] * 2):
            cycle: list[Any] = []
            cycle.append(cycle)
        collector.check()
        assert collector.collections == 1
        assert collector.timer.interval() == BUSY_INTERVAL_MS
        collector.check()  # nothing new: back to the idle pace
        assert collector.timer.interval() == DEFAULT_INTERVAL_MS
    finally:
        collector.stop()
