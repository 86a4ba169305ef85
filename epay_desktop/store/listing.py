"""Reading a SQLite register's list column by column (``domain.listed.ListedPayments``).

SQLite does the per-row work in C: times become microseconds since the epoch, the state and the
currency small codes, missing values empty text or zero; Python then only extends its columns with
each batch of rows (``fetchmany`` and ``zip``: no object per row survives, and the raw rows of a large
register never all exist at once). A row is looked at by itself only when a value in it cannot be read
that way: a time in another form than the register writes (parsed by Python), or a payment the plain
columns cannot make (read from its saved JSON). A row whose saved payment cannot be read at all is
still listed, without its payment, with the reason as its fetch error; a time that cannot be read is
left out of the row, with the reason too. One bad cell never takes the list, or its row, with it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from epay_desktop.domain import Payment
from epay_desktop.domain.listed import (
    CURRENCIES,
    NO_SNAPSHOT,
    NO_TIME,
    STATES,
    ListedPayments,
    micros,
)
from epay_desktop.store.codec import SnapshotError, load_payment

log = logging.getLogger(__name__)

# Read from the JSON (the columns cannot make the payment): a code of the query only, never kept.
FROM_JSON = -3
_BATCH = 4096


def _micros_sql(column: str) -> str:
    """``column``'s time in microseconds since the epoch when it is in the form the register writes
    (``datetime.isoformat()`` of an aware time: ``2026-01-01T10:00:00[.123456]+00:00``, 32 or 25
    characters); ``NO_TIME`` when there is none; NULL for anything else (Python reads that one).
    SQLite's ``unixepoch`` keeps milliseconds, rounded: from .9995 s on it says the next second, which
    the microseconds read from the text take back."""
    c = column
    fraction = f"CAST(substr({c}, 21, 6) AS INTEGER)"
    return (
        f"CASE coalesce(length({c}), 0) WHEN 32 THEN unixepoch({c}) * 1000000 + {fraction} "
        f"- 1000000 * ({fraction} >= 999500) WHEN 25 THEN unixepoch({c}) * 1000000 "
        f"WHEN 0 THEN {NO_TIME} END"
    )


_AMOUNTS = ("amount", "authorized", "captured", "cancelled", "refunded")
# Whether the plain columns can make the payment is checked in Python, a batch at a time (an amount
# that is not an integer, a currency this app does not know): SQLite's checks per row cost more.
_STATE_SQL = (
    f"CASE WHEN payment_json IS NULL THEN {NO_SNAPSHOT} ELSE CASE state "
    + " ".join(f"WHEN '{state.value}' THEN {code}" for code, state in enumerate(STATES))
    + f" ELSE {FROM_JSON} END END"
)
NO_CURRENCY = -1
_CURRENCY_SQL = (
    "CASE currency "
    + " ".join(f"WHEN '{c.value}' THEN {code}" for code, c in enumerate(CURRENCIES))
    + f" ELSE {NO_CURRENCY} END"
)
_TIMES = ("created_at", "fetched_at", "last_event_at", "guaranteed_until")
# A row's values as SQL over ``payments``, in the order of ``ListedPayments``' columns: the texts
# (metadata's JSON last), then the numbers (the times, the state and currency codes, the amounts).
LIST_TEXTS = (
    "CAST(reference AS TEXT)",
    "CAST(description AS TEXT)",
    "CAST(fetch_error AS TEXT)",
    "coalesce(psp_reference, '')",
    "coalesce(payment_description, '')",
    "coalesce(payment_method, '')",
    "payment_redirect_url",
    "coalesce(raw_state, '')",
    "metadata_json",
)
LIST_NUMBERS = (*(_micros_sql(column) for column in _TIMES), _STATE_SQL, _CURRENCY_SQL, *_AMOUNTS)
# The select's columns: the rowid, then the row's values.
LIST_SELECT = ", ".join(["rowid", *LIST_TEXTS, *LIST_NUMBERS])
# Newest first (as ``register.NEWEST_FIRST``), through the date index (schema 2): the first rows are read
# at once whatever the size (SQLite's own choice, the key's index, sorts every row first), and the
# whole list is sorted only where two rows share a time.
_NEWEST_FIRST = (
    "FROM payments INDEXED BY payments_newest WHERE msn = ? "
    "ORDER BY coalesce(created_at, added_at) DESC, reference"
)

# Where each value lands in a selected row (after the rowid).
_TIME_AT = {column: 10 + i for i, column in enumerate(_TIMES)}
_TIME_FIELDS = {"created_at": "created", "fetched_at": "fetched", "last_event_at": "last_event",
                "guaranteed_until": "guaranteed"}  # fmt: skip
_STATE_AT = 14


def read_listed(
    conn: sqlite3.Connection,
    msn: str,
    *,
    first: int | None = None,
    rows: Iterable[Sequence[Any]] | None = None,
) -> ListedPayments:
    """``msn``'s list, newest first (only the ``first`` newest when given). ``rows``: rows of
    ``LIST_SELECT`` read already (a damaged register's salvage), instead of the query."""
    listed = ListedPayments(msn)
    if rows is None:
        if first is None:
            cursor = conn.execute(f"SELECT {LIST_SELECT} {_NEWEST_FIRST}", (msn,))
        else:
            cursor = conn.execute(f"SELECT {LIST_SELECT} {_NEWEST_FIRST} LIMIT ?", (msn, first))
        batches: Iterable[Sequence[Sequence[Any]]] = iter(lambda: cursor.fetchmany(_BATCH), [])
    else:
        found = list(rows)
        batches = [found[i : i + _BATCH] for i in range(0, len(found), _BATCH)]
    for batch in batches:
        _extend(conn, listed, batch)
    return listed


def _extend(conn: sqlite3.Connection, listed: ListedPayments, batch: Sequence[Sequence[Any]]) -> None:
    extend_columns(conn, listed, tuple(zip(*batch, strict=True))[1:], batch.__getitem__)


def extend_columns(
    conn: sqlite3.Connection,
    listed: ListedPayments,
    columns: Sequence[Sequence[Any]],
    row_at: Callable[[int], Sequence[Any]],
) -> None:
    """Add a batch of rows to ``listed``, given as ``columns`` (the values of ``LIST_TEXTS`` and
    ``LIST_NUMBERS``, one sequence each); ``row_at(i)``: the batch's row ``i`` as ``LIST_SELECT``
    gives it, for a row that needs a look of its own."""
    start = len(listed)
    (references, descriptions, errors, psps, payment_descriptions, methods, redirects, raw_states,
     _metadata, created, fetched, last_event, guaranteed, states, currencies, amounts, authorized, captured,
     cancelled, refunded) = columns  # fmt: skip
    count = len(references)
    listed.references.extend(references)
    listed.descriptions.extend(descriptions)
    listed.errors.extend(errors)
    listed.psp_references.extend(psps)
    # The payment's own description is most often the one the register keeps: one copy of it.
    listed.payment_descriptions.extend(
        [kept if own == kept else own for own, kept in zip(payment_descriptions, descriptions, strict=True)]
    )
    # A handful of distinct values over the whole register: one shared copy of each.
    listed.methods.extend(map(sys.intern, methods))
    listed.redirect_urls.extend(redirects)
    listed.raw_states.extend(map(sys.intern, raw_states))
    listed.metadata.extend([None] * count)
    # An array is extended from an array of its own type at once, from anything else value by value:
    # each column becomes an array first (twice as quick at 100,000 rows).
    for name, values in (("created", created), ("fetched", fetched), ("last_event", last_event),
                         ("guaranteed", guaranteed)):  # fmt: skip
        column = getattr(listed, name)
        if None in values:
            column.extend(array(column.typecode, [NO_TIME if v is None else v for v in values]))
        else:
            column.extend(array(column.typecode, values))
    listed.states.extend(array(listed.states.typecode, states))
    listed.currencies.extend(array(listed.currencies.typecode, currencies))
    unfit: set[int] = set()  # offsets of the rows whose payment the columns cannot make
    for name, values in (("amounts", amounts), ("authorized", authorized), ("captured", captured),
                         ("cancelled", cancelled), ("refunded", refunded)):  # fmt: skip
        try:
            numbers = array("q", values)  # whole or not at all (``extend`` would keep a part)
        except (TypeError, OverflowError):  # not fetched (NULL), or a cell that is not an integer
            numbers = array("q", [v if type(v) is int and -(2**63) <= v < 2**63 else 0 for v in values])
            unfit.update(i for i, v in enumerate(values) if type(v) is not int)
        getattr(listed, name).extend(numbers)
    if NO_CURRENCY in currencies:
        unfit.update(i for i, code in enumerate(currencies) if code == NO_CURRENCY)
    # The rows that need a look of their own (rare): a time in another form, metadata, or a payment
    # the columns cannot make.
    look = {i for i in unfit if states[i] >= 0}
    if FROM_JSON in states:
        look.update(i for i, code in enumerate(states) if code == FROM_JSON)
    if _metadata.count(None) != count:
        look.update(i for i, text in enumerate(_metadata) if text is not None)
    for values in (created, fetched, last_event, guaranteed):
        if None in values:
            look.update(i for i, v in enumerate(values) if v is None)
    for offset in sorted(look):
        row = row_at(offset)
        if offset in unfit and states[offset] >= 0:
            listed.states[start + offset] = FROM_JSON
            row = (*row[:_STATE_AT], FROM_JSON, *row[_STATE_AT + 1 :])
        _mend(conn, listed, start + offset, row)


def _mend(conn: sqlite3.Connection, listed: ListedPayments, at: int, row: Sequence[Any]) -> None:
    reference = listed.references[at]
    problems: list[str] = []
    if None in row[10:14]:
        texts = conn.execute(
            "SELECT "
            + ", ".join(f"CAST({column} AS TEXT)" for column in _TIMES)
            + " FROM payments WHERE rowid = ?",
            (row[0],),
        ).fetchone()
        for column, text in zip(_TIMES, texts or (None,) * len(_TIMES), strict=True):
            if row[_TIME_AT[column]] is not None:
                continue
            value = NO_TIME
            try:
                value = micros(datetime.fromisoformat(text)) if text else NO_TIME
            except (ValueError, TypeError) as error:
                if column in ("created_at", "fetched_at"):  # the others were never shown when unreadable
                    problems.append(f"{column}: {error}")
            getattr(listed, _TIME_FIELDS[column])[at] = value
    code = row[_STATE_AT]
    if code >= 0 and row[9] is not None:
        try:
            data = json.loads(row[9])
            listed.metadata[at] = {str(k): str(v) for k, v in data.items()}
        except (ValueError, AttributeError):
            code = FROM_JSON
    if code == FROM_JSON:
        text = conn.execute("SELECT payment_json FROM payments WHERE rowid = ?", (row[0],)).fetchone()
        try:
            payment = load_payment(str(text[0]) if text and text[0] else "", reference)
        except SnapshotError as problem:
            log.warning("unreadable snapshot for %s: %s", reference, problem)
            listed.states[at] = NO_SNAPSHOT
            listed.errors[at] = f"The saved snapshot could not be read ({problem}); refresh it."
        else:
            _put_payment(listed, at, payment)
    if problems:
        log.warning("unreadable times in the register row %s: %s", reference, "; ".join(problems))
        listed.errors[at] = f"A saved time could not be read ({'; '.join(problems)}); refresh it."


def _put_payment(listed: ListedPayments, at: int, payment: Payment) -> None:
    """Row ``at`` with ``payment`` read from its JSON (its other values as read already)."""
    listed.set_record(at, replace(listed.record(at), payment=payment))


__all__ = [
    "FROM_JSON",
    "LIST_NUMBERS",
    "LIST_SELECT",
    "LIST_TEXTS",
    "NO_CURRENCY",
    "extend_columns",
    "read_listed",
]
