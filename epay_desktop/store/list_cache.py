"""The list's rows kept packed beside the register: one short text per payment, read in bulk.

Reading the list from ``payments`` (``store.listing``) walks the register's wide rows (the saved
snapshots, about a kilobyte each) and has sqlite3 make some twenty Python values per row: at 100,000
payments that was most of a second. ``list_rows`` keeps, per payment and keyed by the list's order
(oldest first, read backwards: no sort), the values the list shows as one text: the texts separated by
``SEPARATOR``, then the numbers (times as microseconds, the state and currency codes, the amounts) as
fixed-width hexadecimal. A batch of rows is then one ``join`` and ``split`` of texts and one
``bytes.fromhex`` into an array (``read_packed``): one value per row from sqlite3, and the rest done
in C.

Kept true by SQLite itself: triggers on ``payments`` write a payment's packed row in the very
statement that changes the payment, whoever writes (this app, a migration, a benchmark's plain SQL).
The values are the same SQL expressions ``store.listing`` reads (``LIST_SELECT``). A row whose values
need a look of their own there (a time in another form, metadata, a payment the plain columns cannot
make, a text holding the separator) is packed as a mark naming the payment (its reference, in
hexadecimal) instead: it is read from ``payments`` by ``store.listing``'s own code, so the list is what
the full read gives, row for row. The mark names the reference, not the rowid, because ``VACUUM`` (by
any SQLite tool) may renumber the rowids of ``payments`` without firing a trigger.

Stale or missing (a register made before this table, its triggers dropped by another tool, or made by
a version whose packing differs: the stored ``CREATE`` statements differ from these), the list is
read from ``payments`` as before and the table is built again at the next writable use
(``rebuild``).
"""

from __future__ import annotations

import sqlite3
import sys
from array import array
from collections.abc import Iterator, Sequence
from typing import Any

from epay_desktop.domain.listed import ListedPayments
from epay_desktop.store.listing import (
    FROM_JSON,
    LIST_NUMBERS,
    LIST_SELECT,
    LIST_TEXTS,
    NO_CURRENCY,
    extend_columns,
)

# Between the values of a row, and between rows when a batch is joined (a text holding it makes its
# row one read from ``payments``).
SEPARATOR = "\x1f"
_TEXTS = len(LIST_TEXTS)
_NUMBERS = len(LIST_NUMBERS)
_FIELDS = 1 + _TEXTS + 1  # the mark, the texts, the numbers
_REDIRECT = LIST_TEXTS.index("payment_redirect_url")
_METADATA = LIST_TEXTS.index("metadata_json")
_BATCH = 4096

TABLE = "list_rows"


class PackedRowsError(Exception):
    """A packed row cannot be read (written by something else than the triggers): the list is read
    from ``payments`` and the rows are made again."""


TRIGGERS = ("list_rows_insert", "list_rows_update", "list_rows_delete")


def _packed_sql() -> str:
    """``msn``, the list's key, ``reference`` and the packed row of the ``payments`` row at rowid
    ``NEW.rowid``, from ``store.listing``'s values."""
    texts = [f"t{i}" for i in range(_TEXTS)]
    numbers = [f"n{i}" for i in range(_NUMBERS)]
    values = ", ".join(
        f"{sql} AS {name}" for sql, name in zip((*LIST_TEXTS, *LIST_NUMBERS), (*texts, *numbers), strict=True)
    )
    times, state, currency, amounts = numbers[:4], numbers[4], numbers[5], numbers[6:]
    # The rows ``store.listing`` looks at by themselves, and a text holding the separator.
    look = " OR ".join(
        [
            *(f"{n} IS NULL" for n in times),
            *(f"{t} IS NULL" for t in texts[:3]),  # never (NOT NULL columns): a NULL would void the row
            f"{state} = {FROM_JSON}",
            f"{texts[_METADATA]} IS NOT NULL",
            f"({state} >= 0 AND ({currency} = {NO_CURRENCY} OR "
            + " OR ".join(f"typeof({a}) != 'integer'" for a in amounts)
            + "))",
            *(f"instr({t}, char(31)) > 0" for t in texts),
        ]
    )
    packed_texts = []
    for i, t in enumerate(texts):
        if i == _REDIRECT:  # may be missing (None), which an empty text would not say: "=" before one
            packed_texts.append(f"CASE WHEN {t} IS NULL THEN '' ELSE '=' || {t} END")
        elif i == _METADATA:  # always None here (a row with metadata is read from ``payments``)
            packed_texts.append("''")
        else:
            packed_texts.append(t)
    # Each number as 16 hexadecimal digits: a 64-bit integer, two's complement, big-endian (an amount
    # of a payment not fetched yet, NULL, is 0 as ``store.listing`` reads it).
    hexes = (
        f"printf('{'%016x' * _NUMBERS}', "
        + ", ".join(f"CASE WHEN typeof({n}) = 'integer' THEN {n} ELSE 0 END" for n in numbers)
        + ")"
    )
    separators = ", ".join(["31"] * (_TEXTS + 1))
    marked = f"'r' || hex(reference) || char({separators}) || '{'0' * 16 * _NUMBERS}'"
    packed = " || char(31) || ".join(["''", *packed_texts, hexes])
    return (
        f"SELECT msn, key, reference, CASE WHEN {look} THEN {marked} ELSE {packed} END "
        f"FROM (SELECT rowid, msn, coalesce(created_at, added_at) AS key, reference, {values} "
        "FROM payments WHERE rowid = NEW.rowid)"
    )


_PACKED = _packed_sql()
_OLD_KEY = "msn = OLD.msn AND key = coalesce(OLD.created_at, OLD.added_at) AND reference = OLD.reference"
STATEMENTS = (
    f"CREATE TABLE {TABLE} (msn TEXT NOT NULL, key, reference TEXT NOT NULL, packed TEXT NOT NULL, "
    "PRIMARY KEY (msn, key, reference DESC)) WITHOUT ROWID",
    f"CREATE TRIGGER {TRIGGERS[0]} AFTER INSERT ON payments BEGIN "
    f"INSERT INTO {TABLE} (msn, key, reference, packed) {_PACKED}; END",
    f"CREATE TRIGGER {TRIGGERS[1]} AFTER UPDATE ON payments BEGIN "
    f"DELETE FROM {TABLE} WHERE {_OLD_KEY}; "
    f"INSERT INTO {TABLE} (msn, key, reference, packed) {_PACKED}; END",
    f"CREATE TRIGGER {TRIGGERS[2]} AFTER DELETE ON payments BEGIN DELETE FROM {TABLE} WHERE {_OLD_KEY}; END",
)
# Every payment's row, in the table's order, into a new table (the triggers keep it from then on).
FILL = f"INSERT INTO {TABLE} (msn, key, reference, packed) " + _PACKED.replace(
    " WHERE rowid = NEW.rowid)", ") ORDER BY msn, key, reference DESC"
)
# What adds the table to a register (``db.MIGRATIONS``).
MIGRATION = "".join(f"{statement};\n" for statement in (*STATEMENTS, FILL))


def is_current(conn: sqlite3.Connection) -> bool:
    """The table and its triggers are there, exactly as this version makes them."""
    names = (TABLE, *TRIGGERS)
    stored = dict(
        conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE name IN ({', '.join('?' * len(names))})", names
        ).fetchall()
    )
    return [stored.get(name) for name in names] == list(STATEMENTS)


def rebuild(conn: sqlite3.Connection) -> None:
    """Drop the table and its triggers (whatever made them) and make them again, filled from
    ``payments``; in the caller's write transaction."""
    for name in TRIGGERS:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    for statement in (*STATEMENTS, FILL):
        conn.execute(statement)


def read_packed(conn: sqlite3.Connection, msn: str, *, first: int | None = None) -> ListedPayments:
    """``msn``'s list from the packed rows (``is_current`` must hold), newest first; only the ``first``
    newest when given. The same list ``listing.read_listed`` reads from ``payments``.
    ``PackedRowsError`` when a row cannot be read."""
    sql = f"SELECT packed FROM {TABLE} WHERE msn = ? ORDER BY key DESC, reference"
    cursor = conn.execute(sql, (msn,)) if first is None else conn.execute(sql + " LIMIT ?", (msn, first))
    listed = ListedPayments(msn)
    batches: Iterator[list[tuple[str]]] = iter(lambda: cursor.fetchmany(_BATCH), [])
    for batch in batches:
        start = len(listed)
        marked, columns = _unpack([row[0] for row in batch])
        extend_columns(conn, listed, columns, _no_look)
        for offset, reference in marked:
            _read_row(conn, listed, start + offset, reference)
    return listed


def _unpack(packed: Sequence[str]) -> tuple[list[tuple[int, str]], tuple[Sequence[Any], ...]]:
    """Packed rows as ``extend_columns``' columns, and the rows to read from ``payments`` (their offset
    and reference; their columns hold blanks)."""
    flat = SEPARATOR.join(packed).split(SEPARATOR)
    if len(flat) != _FIELDS * len(packed):
        raise PackedRowsError("a packed list row has the wrong number of values")
    marks = flat[0::_FIELDS]
    texts: list[Sequence[Any]] = [flat[1 + i :: _FIELDS] for i in range(_TEXTS)]
    numbers = array("q")
    try:
        numbers.frombytes(bytes.fromhex("".join(flat[_FIELDS - 1 :: _FIELDS])))
    except ValueError as error:
        raise PackedRowsError(f"a packed list row has an unreadable number ({error})") from error
    if len(numbers) != _NUMBERS * len(packed):
        raise PackedRowsError("a packed list row has the wrong number of numbers")
    if sys.byteorder == "little":
        numbers.byteswap()
    texts[_REDIRECT] = [url[1:] if url else None for url in texts[_REDIRECT]]
    texts[_METADATA] = [None] * len(packed)
    try:
        marked = (
            [(offset, _marked_reference(mark)) for offset, mark in enumerate(marks) if mark]
            if any(marks)
            else []
        )
    except (ValueError, UnicodeDecodeError) as error:
        raise PackedRowsError(f"a packed list row has an unreadable mark ({error})") from error
    return marked, (*texts, *(numbers[i::_NUMBERS] for i in range(_NUMBERS)))


def _marked_reference(mark: str) -> str:
    if not mark.startswith("r"):
        raise ValueError(f"{mark[:20]!r} is not a mark")
    return bytes.fromhex(mark[1:]).decode()


def _no_look(offset: int) -> Sequence[Any]:
    raise AssertionError("a packed row needs no look of its own")


def _read_row(conn: sqlite3.Connection, listed: ListedPayments, at: int, reference: str) -> None:
    """Row ``at`` as ``store.listing`` reads ``listed.msn``'s payment ``reference``."""
    from epay_desktop.store.listing import read_listed

    row = conn.execute(
        f"SELECT {LIST_SELECT} FROM payments WHERE msn = ? AND reference = ?", (listed.msn, reference)
    ).fetchone()
    if row is None:
        raise PackedRowsError(f"a packed list row names a payment that is not there ({reference!r})")
    listed.copy_row(at, read_listed(conn, listed.msn, rows=[row]), 0)


__all__ = [
    "MIGRATION",
    "STATEMENTS",
    "TABLE",
    "TRIGGERS",
    "PackedRowsError",
    "is_current",
    "read_packed",
    "rebuild",
]
