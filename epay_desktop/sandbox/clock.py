"""The sandbox's clock: wall time plus an offset that controls and tests can advance.

Expiry and rate-limit windows read this clock, so tests move time forward instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class Clock:
    """``now()`` = the wall time when started + real time elapsed + everything advanced by hand.

    ``frozen=True`` stops the real-time part (for deterministic tests: only ``advance`` moves it)."""

    def __init__(self, start: datetime | None = None, *, frozen: bool = False) -> None:
        self._start = start or datetime.now(UTC)
        self._started_at = time.monotonic()
        self._offset = 0.0
        self._frozen = frozen
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Called (on the advancing thread) after every ``advance``: waits on this clock re-check."""
        self._listeners.append(listener)

    @property
    def start(self) -> datetime:
        return self._start

    @property
    def offset(self) -> float:
        return self._offset

    def now(self) -> datetime:
        real = 0.0 if self._frozen else time.monotonic() - self._started_at
        return self._start + timedelta(seconds=real + self._offset)

    def timestamp(self) -> float:
        return self.now().timestamp()

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        for listener in list(self._listeners):
            listener()
        return self.now()

    def restart(self, start: datetime | None = None) -> None:
        with self._lock:
            self._start = start or datetime.now(UTC)
            self._started_at = time.monotonic()
            self._offset = 0.0


def iso(moment: datetime) -> str:
    """RFC 3339 with milliseconds and ``Z``, as the API writes timestamps."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
