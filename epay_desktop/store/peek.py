"""A quick read-only look into another register or journal file: the intents on one payment that have
no outcome yet, and the ones whose success the API confirmed lately.

Not an open of the file as a register: no migration, no integrity check (a full check of a large
register takes seconds), nothing written. Another program may hold the file: the look waits for it at
most ``timeout`` seconds. A file that is missing has nothing pending; one that cannot be read raises
``PeekError`` with the reason, and the caller decides what that means.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from epay_desktop.store.dialect import SQLITE
from epay_desktop.store.journal import Intent, Operation, confirmed_in

T = TypeVar("T")


class PeekError(Exception):
    """The file exists but its journal could not be read (locked, damaged, not a register)."""


@dataclass(frozen=True, slots=True)
class PendingIntent:
    """An intent without an outcome, as another file keeps it."""

    operation: Operation
    profile: str
    msn: str
    reference: str
    created_at: datetime
    idempotency_key: str


def pending_in(
    path: Path, *, msn: str | None = None, reference: str | None = None, timeout: float = 2.0
) -> list[PendingIntent]:
    """The pending intents kept in the file at ``path``: on payment (``msn``, ``reference``), or all of
    them when those are None."""
    where = "status = 'pending'"
    params: tuple[str, ...] = ()
    if msn is not None and reference is not None:
        where += " AND msn = ? AND reference = ?"
        params = (msn, reference)
    return _look(path, timeout, lambda conn: _pending(conn, where, params)) or []


def on_payment(
    path: Path, *, msn: str, reference: str, operation: Operation, since: datetime, timeout: float = 2.0
) -> tuple[list[PendingIntent], list[Intent]]:
    """``pending_in`` and ``confirmed_since`` on one payment, with the file opened once: the intents
    without an outcome, and those of ``operation`` confirmed at or after ``since`` (newest first)."""
    found = _look(
        path,
        timeout,
        lambda conn: (
            _pending(conn, "status = 'pending' AND msn = ? AND reference = ?", (msn, reference)),
            confirmed_in(conn, SQLITE, msn, reference, operation, since),
        ),
    )
    return found or ([], [])


def _pending(conn: sqlite3.Connection, where: str, params: tuple[str, ...]) -> list[PendingIntent]:
    rows = conn.execute(
        "SELECT operation, profile, msn, reference, created_at, idempotency_key FROM intents "
        f"WHERE {where} ORDER BY id",
        params,
    ).fetchall()
    found: list[PendingIntent] = []
    for operation, profile, row_msn, row_reference, created_at, key in rows:
        try:
            found.append(
                PendingIntent(
                    Operation(operation),
                    str(profile),
                    str(row_msn),
                    str(row_reference),
                    datetime.fromisoformat(str(created_at)),
                    str(key),
                )
            )
        except ValueError as error:
            raise PeekError(f"an unreadable intent row ({error})") from error
    return found


def confirmed_since(
    path: Path, *, msn: str, reference: str, operation: Operation, since: datetime, timeout: float = 2.0
) -> list[Intent]:
    """The intents of ``operation`` on payment (``msn``, ``reference``) in the file at ``path`` whose
    success the API confirmed at or after ``since``, newest first (every profile the file serves)."""
    found = _look(path, timeout, lambda conn: confirmed_in(conn, SQLITE, msn, reference, operation, since))
    return found or []


def _look(path: Path, timeout: float, read: Callable[[sqlite3.Connection], T]) -> T | None:
    """``read`` on the file at ``path`` opened read-only; None when it has no journal (missing, or a
    register made before its first intent)."""
    path = Path(path)
    if not path.exists():
        return None
    with _read_only(path, timeout) as conn:
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "intents" not in tables:
                return None
            return read(conn)
        except sqlite3.Error as error:
            raise PeekError(str(error)) from error


@contextmanager
def _read_only(path: Path, timeout: float) -> Iterator[sqlite3.Connection]:
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout, check_same_thread=False
        )
    except sqlite3.Error as error:
        raise PeekError(str(error)) from error
    try:
        yield conn
    finally:
        conn.close()
