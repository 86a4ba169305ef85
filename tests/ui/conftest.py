"""Fixtures of the main-window tests (explicit only: nothing here is autouse)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest
import shiboken6

from epay_desktop.ui.gc_guard import GarbageCollector


@pytest.fixture
def ui_loop(qapp: Any, qt_loop: asyncio.AbstractEventLoop) -> Iterator[asyncio.AbstractEventLoop]:
    """``qt_loop``, with Qt told not to quit when a test's last window (often a dialog) closes: that
    quit would stop the qasync loop under a running coroutine."""
    before = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    try:
        yield qt_loop
    finally:
        qapp.setQuitOnLastWindowClosed(before)


@pytest.fixture(autouse=True)
def collect_garbage_on_the_gui_thread(qapp: Any) -> Iterator[None]:
    """The app's own ``GarbageCollector`` for each test: automatic collection off, collections on the
    GUI thread from a timer, and a full one here when the test ends (the app's ``stop`` does not
    collect). Left to chance, Python's collector can run
    in a worker thread (asyncio.to_thread, qasync's executor, uvicorn) and destroy a Python-owned QObject
    there; its timers then stay registered and a later test segfaults in QTimerInfoList::activateTimers."""
    collector = GarbageCollector()
    collector.start()
    try:
        yield
    finally:
        collector.stop()
        gc.collect()
        shiboken6.delete(collector)
