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
from collections.abc import Iterable, Sequence
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
_FROM_JSON = -3
_BATCH = 4096


def _micros_sql(column: str) -> str:
    """``column``'s time in microseconds since the epoch when it is in the form the register writes
    (``datetime.isoformat()`` of a UTC time: ``2026-01-01T10:00:00[.123456]+00:00``); ``NO_TIME`` when
    there is none; NULL otherwise (Python reads that one)."""
    c = column
    return (
        f"CASE WHEN {c} IS NULL OR {c} = '' THEN {NO_TIME} "
        f"WHEN substr({c}, -6) = '+00:00' AND (length({c}) = 25 OR (length({c}) = 32 "
        f"AND substr({c}, 20, 1) = '.' AND substr({c}, 21, 6) GLOB '[0-9][0-9][0-9][0-9][0-9][0-9]')) "
        f"THEN unixepoch(substr({c}, 1, 19)) * 1000000 "
        f"+ CASE WHEN length({c}) = 32 THEN CAST(substr({c}, 21, 6) AS INTEGER) ELSE 0 END END"
    )


def _integer_sql(column: str) -> str:
    return f"CASE WHEN typeof({column}) = 'integer' THEN {column} ELSE 0 END"


_AMOUNTS = ("amount", "authorized", "captured", "cancelled", "refunded")
_PAYMENT_FITS = " AND ".join(
    [f"typeof({column}) = 'integer'" for column in _AMOUNTS]
    + [
        "currency IN (" + ", ".join(f"'{c.value}'" for c in CURRENCIES) + ")",
        "(metadata_json IS NULL OR json_valid(metadata_json))",
    ]
)
_STATE_SQL = (
    f"CASE WHEN payment_json IS NULL THEN {NO_SNAPSHOT} WHEN {_PAYMENT_FITS} THEN CASE state "
    + " ".join(f"WHEN '{state.value}' THEN {code}" for code, state in enumerate(STATES))
    + f" ELSE {_FROM_JSON} END ELSE {_FROM_JSON} END"
)
_CURRENCY_SQL = (
    "CASE currency "
    + " ".join(f"WHEN '{c.value}' THEN {code}" for code, c in enumerate(CURRENCIES))
    + " ELSE 0 END"
)
_TIMES = ("created_at", "fetched_at", "last_event_at", "guaranteed_until")
# The select's columns, in the order of ``ListedPayments``' columns (after the rowid).
LIST_SELECT = ", ".join(
    [
        "rowid",
        "CAST(reference AS TEXT)",
        "CAST(coalesce(description, '') AS TEXT)",
        "CAST(coalesce(fetch_error, '') AS TEXT)",
        "CAST(coalesce(psp_reference, '') AS TEXT)",
        "CAST(coalesce(payment_description, '') AS TEXT)",
        "CAST(coalesce(payment_method, '') AS TEXT)",
        "CAST(payment_redirect_url AS TEXT)",
        "CAST(coalesce(raw_state, '') AS TEXT)",
        "metadata_json",
        *(_micros_sql(column) for column in _TIMES),
        _STATE_SQL,
        _CURRENCY_SQL,
        *(_integer_sql(column) for column in _AMOUNTS),
    ]
)
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
    start = len(listed)
    (_rowids, references, descriptions, errors, psps, payment_descriptions, methods, redirects, raw_states,
     _metadata, created, fetched, last_event, guaranteed, states, currencies, amounts, authorized, captured,
     cancelled, refunded) = zip(*batch, strict=True)  # fmt: skip
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
    listed.metadata.extend([None] * len(batch))
    for name, values in (("created", created), ("fetched", fetched), ("last_event", last_event),
                         ("guaranteed", guaranteed)):  # fmt: skip
        column = getattr(listed, name)
        if None in values:
            column.extend([NO_TIME if v is None else v for v in values])
        else:
            column.extend(values)
    listed.states.extend(states)
    listed.currencies.extend(currencies)
    listed.amounts.extend(amounts)
    listed.authorized.extend(authorized)
    listed.captured.extend(captured)
    listed.cancelled.extend(cancelled)
    listed.refunded.extend(refunded)
    # The rows that need a look of their own (rare): a time in another form, metadata, or a payment
    # the columns cannot make.
    for offset, row in enumerate(batch):
        if row[_STATE_AT] == _FROM_JSON or row[9] is not None or None in row[10:14]:
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
            code = _FROM_JSON
    if code == _FROM_JSON:
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


__all__ = ["LIST_SELECT", "read_listed"]
