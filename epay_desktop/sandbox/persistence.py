"""``--state FILE``: the sandbox's state in SQLite (stdlib sqlite3), so it survives a restart.

One row per payment and one per stored idempotent answer, written as JSON. A request's changes are
committed (``synchronous=FULL``) *before* its answer goes out, as the real API does: a sandbox killed
right after a 200 still knows what it confirmed. A save writes only the rows that changed, so a change
costs the same at 100 or 100,000 payments; a reset rewrites everything once.

State files written by earlier versions (the whole engine as one JSON row) are read and converted.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from epay_desktop.sandbox.engine import Engine

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS sandbox_state (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sandbox_payment ("
    " msn TEXT NOT NULL, reference TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (msn, reference))",
    "CREATE TABLE IF NOT EXISTS sandbox_answer ("
    " msn TEXT NOT NULL, reference TEXT NOT NULL, operation TEXT NOT NULL, key TEXT NOT NULL,"
    " value TEXT NOT NULL, PRIMARY KEY (msn, reference, operation, key))",
)


class StateFileError(Exception):
    """The state file cannot be used (damaged, not a sandbox state file, unreadable)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"the sandbox state file {path} cannot be used: {reason}. "
            "Move it away (or start without --state) to begin with a fresh sandbox."
        )
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Stored:
    engine: dict[str, Any]
    token_secret: bytes
    legacy: bool  # written by an earlier version as one row: the first save rewrites it as rows


class StateFile:
    """One open state file; ``save(engine)`` writes what changed since the last save."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Used from whichever thread serves the request; ``_lock`` keeps it to one at a time.
            self._db = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
            tables = {
                str(row[0])
                for row in self._db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
            }
            if tables and "sandbox_state" not in tables:  # another program's database: leave it alone
                self._db.close()
                raise StateFileError(path, "it is a SQLite database of another program (left as it was)")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            for statement in SCHEMA:
                self._db.execute(statement)
        except (sqlite3.Error, OSError) as exc:
            raise StateFileError(path, str(exc)) from exc
        self.rows_written = 0  # payments and answers written by saves (a measure of a save's cost)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- loading ------------------------------------------------------------------------------------
    def load(self) -> Stored | None:
        """The saved engine state and token secret, or ``None`` for a new or empty file."""
        try:
            with self._lock:
                names = dict(self._db.execute("SELECT name, value FROM sandbox_state").fetchall())
                payments = [json.loads(v) for (v,) in self._db.execute("SELECT value FROM sandbox_payment")]
                answers = [json.loads(v) for (v,) in self._db.execute("SELECT value FROM sandbox_answer")]
        except (sqlite3.Error, ValueError) as exc:
            raise StateFileError(self.path, str(exc)) from exc
        secret = names.get("token_secret")
        if secret is None:
            return None
        if "engine" in names:  # an earlier version's single-row snapshot
            try:
                old = json.loads(names["engine"])
            except ValueError as exc:
                raise StateFileError(self.path, str(exc)) from exc
            if not isinstance(old, dict):
                raise StateFileError(self.path, "the saved engine state is not an object")
            return Stored(old, bytes(secret), legacy=True)
        return Stored({"payments": payments, "answers": answers}, bytes(secret), legacy=False)

    # -- saving -------------------------------------------------------------------------------------
    def save(self, engine: Engine, secret: bytes) -> None:
        """Commit what changed in ``engine`` (durably) before returning."""
        with engine.lock, self._lock:
            cleared = engine.cleared
            payments = list(engine.changed_payments)
            answers = list(engine.changed_answers)
            if not (cleared or payments or answers):
                return
            if cleared:
                payments = list(engine.payments)
                answers = engine.answers.scopes()
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                if cleared:
                    db.execute("DELETE FROM sandbox_payment")
                    db.execute("DELETE FROM sandbox_answer")
                    db.execute("DELETE FROM sandbox_state WHERE name = 'engine'")
                db.execute(
                    "INSERT OR REPLACE INTO sandbox_state (name, value) VALUES ('token_secret', ?)", (secret,)
                )
                for key in payments:
                    record = engine.payments.get(key)
                    if record is None:
                        db.execute("DELETE FROM sandbox_payment WHERE msn = ? AND reference = ?", key)
                    else:
                        db.execute(
                            "INSERT OR REPLACE INTO sandbox_payment (msn, reference, value) VALUES (?, ?, ?)",
                            (*key, json.dumps(record.to_state(), ensure_ascii=False)),
                        )
                for scope in answers:
                    state = engine.answers.scope_state(scope)
                    if state is None:
                        db.execute(
                            "DELETE FROM sandbox_answer WHERE msn = ? AND reference = ? AND operation = ?"
                            " AND key = ?",
                            scope,
                        )
                    else:
                        db.execute(
                            "INSERT OR REPLACE INTO sandbox_answer (msn, reference, operation, key, value)"
                            " VALUES (?, ?, ?, ?, ?)",
                            (*scope, json.dumps(state, ensure_ascii=False)),
                        )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self.rows_written += len(payments) + len(answers)
            engine.cleared = False
            engine.changed_payments.clear()
            engine.changed_answers.clear()
