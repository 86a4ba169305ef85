"""Fixtures of the main-window tests (explicit only: nothing here is autouse)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest


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
def collect_garbage_on_the_gui_thread() -> Iterator[None]:
    """Free each test's garbage here, on the GUI thread. Left to chance, Python's collector can run in a
    worker thread (asyncio.to_thread, qasync's executor, uvicorn) and destroy a Python-owned QObject
    there; its timers then stay registered and a later test segfaults in QTimerInfoList::activateTimers."""
    yield
    gc.collect()
