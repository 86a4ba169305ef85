"""Fixtures of the main-window tests (explicit only: nothing here is autouse)."""

from __future__ import annotations

import asyncio
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
