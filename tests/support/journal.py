"""For the store's journal tests: an intent begun in a register's journal (a capture of 40.00 NOK on one
payment of merchant 123456, counted as attempted, as the desk begins one right before sending it), and
the register connection's commits as they happen."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from epay_desktop.domain import Currency, Money
from epay_desktop.store import Operation, Store
from epay_desktop.store.db import Database


def begin(
    store: Store, key: str, reference: str = "order-12345678", *, attempting: bool = True, **more: Any
) -> int:
    """The new intent's id; ``more``: further arguments of ``Journal.begin`` (``now``, ``repeat_since``)."""
    return store.journal.begin(
        operation=Operation.CAPTURE,
        profile="Shop",
        msn="123456",
        reference=reference,
        amount=Money(4000, Currency.NOK),
        idempotency_key=key,
        os_user="u",
        attempting=attempting,
        **more,
    ).id


class Commits:
    """The register's commits (on any of its connections), each with the ``synchronous`` level it ran
    under."""

    def __init__(self, store: Store) -> None:
        self.levels: list[str] = []
        self._level = "NORMAL"
        store.db.on_each_connection(lambda conn: conn.set_trace_callback(self._saw))

    def _saw(self, statement: str) -> None:
        text = " ".join(statement.split()).upper()
        if text.startswith("PRAGMA SYNCHRONOUS = "):
            self._level = text.removeprefix("PRAGMA SYNCHRONOUS = ")
        elif text == "COMMIT":
            self.levels.append(self._level)

    def take(self) -> list[str]:
        seen, self.levels = self.levels, []
        return seen


@contextmanager
def connection_held(db: Database) -> Iterator[None]:
    """Inside: another thread holds ``db``'s connection in a write of its own, until the block ends."""
    release, holding = threading.Event(), threading.Event()

    def hold(_conn: sqlite3.Connection) -> None:
        holding.set()
        release.wait(30)

    thread = threading.Thread(target=db.write, args=("holding", hold))
    thread.start()
    try:
        assert holding.wait(30)
        yield
    finally:
        release.set()
        thread.join(30)
