"""What differs between the two SQL back-ends where a query is otherwise the same, as data.

The journal and the audit log (and the register's plain queries) are written once, in SQLite's spelling
with ``?`` for a parameter; ``Dialect.sql`` gives the back-end's own text (psycopg marks a parameter
``%s``). A moment is ISO text in a SQLite file and a ``timestamptz`` in PostgreSQL: ``moment_param``
and ``moment_cell`` convert on the way in and out. What really differs (how concurrent writers are
kept apart, who writes an intent's audit lines) stays in each back-end's own module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar, cast

T = TypeVar("T")


def to_text(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def from_text(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """What the shared queries use of a connection: ``sqlite3.Connection`` and psycopg's both fit."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Cursor: ...


class SqlDatabase(Protocol):
    """A back-end's database as the shared queries run work on it: each call one transaction."""

    def read(self, doing: str, work: Callable[[Connection], T]) -> T: ...

    def write(self, doing: str, work: Callable[[Connection], T], *, durable: bool = False) -> T: ...


def _cell_from_text(cell: object) -> datetime | None:
    return from_text(str(cell)) if cell else None


def _same_moment(moment: datetime | None) -> datetime | None:
    return moment


def _native_moment(cell: object) -> datetime | None:
    if cell is None or isinstance(cell, datetime):
        return cell
    raise TypeError(f"not a moment: {cell!r:.40}")


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    placeholder: str
    moment_param: Callable[[datetime | None], object]
    moment_cell: Callable[[object], datetime | None]
    # PostgreSQL answers an insert with its new id (``RETURNING``); SQLite gained that only in 3.35,
    # and Pythons linked to older ones are still about, so it asks ``last_insert_rowid()``.
    returning: bool

    def sql(self, text: str) -> str:
        """``text`` (written with ``?`` for each parameter) in this back-end's spelling."""
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    def insert(self, conn: Connection, text: str, params: Sequence[Any]) -> int:
        """Run an INSERT of one row into a table whose key is ``id``; returns the new row's id."""
        if self.returning:
            row = conn.execute(self.sql(text) + " RETURNING id", params).fetchone()
            return int(row[0])
        # sqlite3's cursor holds the new row's id (``last_insert_rowid()``) without another statement.
        return int(cast(Any, conn.execute(self.sql(text), params)).lastrowid)


SQLITE = Dialect("sqlite", "?", to_text, _cell_from_text, returning=False)
POSTGRES = Dialect("postgresql", "%s", _same_moment, _native_moment, returning=True)


def get_meta(db: SqlDatabase, dialect: Dialect, key: str) -> str | None:
    """A small setting (the ``meta`` table), the same on either back-end."""
    row = db.read(
        "reading a setting",
        lambda c: c.execute(dialect.sql("SELECT value FROM meta WHERE key = ?"), (key,)).fetchone(),
    )
    return str(row[0]) if row else None


def set_meta(db: SqlDatabase, dialect: Dialect, key: str, value: str) -> None:
    db.write(
        "saving a setting",
        lambda c: c.execute(
            dialect.sql(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ),
            (key, value),
        ),
    )
