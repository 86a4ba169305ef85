"""A quick read-only look into another register or journal file for intents on one payment that have
no outcome yet.

Not an open of the file as a register: no migration, no integrity check (a full check of a large
register takes seconds), nothing written. Another program may hold the file: the look waits for it at
most ``timeout`` seconds. A file that is missing has nothing pending; one that cannot be read raises
``PeekError`` with the reason, and the caller decides what that means.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from epay_desktop.store.journal import Operation


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
    path = Path(path)
    if not path.exists():
        return []
    where = "status = 'pending'"
    params: tuple[str, ...] = ()
    if msn is not None and reference is not None:
        where += " AND msn = ? AND reference = ?"
        params = (msn, reference)
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout, check_same_thread=False
        )
    except sqlite3.Error as error:
        raise PeekError(str(error)) from error
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "intents" not in tables:
            return []  # a register made before its first intent, or still empty
        rows = conn.execute(
            "SELECT operation, profile, msn, reference, created_at, idempotency_key FROM intents "
            f"WHERE {where} ORDER BY id",
            params,
        ).fetchall()
    except sqlite3.Error as error:
        raise PeekError(str(error)) from error
    finally:
        conn.close()
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
