"""``--state FILE``: the sandbox's state in SQLite (stdlib sqlite3), so it survives a restart.

One row per kind of state, written as JSON after every request that changed something; small enough
for a sandbox (hundreds of payments), and atomic because SQLite commits the row or nothing.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

SCHEMA = "CREATE TABLE IF NOT EXISTS sandbox_state (name TEXT PRIMARY KEY, value BLOB NOT NULL)"


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=10)
    connection.execute(SCHEMA)
    return connection


def save_state(path: Path, snapshot: dict[str, Any], secret: bytes) -> None:
    with contextlib.closing(_connect(path)) as connection, connection:
        connection.executemany(
            "INSERT OR REPLACE INTO sandbox_state (name, value) VALUES (?, ?)",
            [("engine", json.dumps(snapshot, ensure_ascii=False)), ("token_secret", secret)],
        )


def load_state(path: Path) -> tuple[dict[str, Any], bytes] | None:
    """The saved engine snapshot and token secret, or ``None`` for a new or empty file."""
    if not path.exists():
        return None
    with contextlib.closing(_connect(path)) as connection:
        rows = dict(connection.execute("SELECT name, value FROM sandbox_state").fetchall())
    if "engine" not in rows or "token_secret" not in rows:
        return None
    snapshot: dict[str, Any] = json.loads(rows["engine"])
    return snapshot, bytes(rows["token_secret"])
