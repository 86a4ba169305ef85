"""What reading the list costs, row by row, and what compact rows save (issue 12 item 3).

The list is read from the register's plain columns (schema 5) column by column
(``Register.listed``: ``domain.listed.ListedPayments``); a row's full record (``TrackedPayment`` with its
``Payment``, ``Aggregate`` and ``Money``) is built only when asked for. This benchmark reads the same
register of N payments in several ways and prints, for each, the time (best of the rounds, the ways
alternating so noise hits them alike) and the memory the result keeps per payment (``tracemalloc``),
with the time as a ratio of the plain SQL fetch of the same columns measured in the same run (the
floor any Python reading of them stands on):

- ``fetch``: ``fetchall`` of the list's columns (sqlite3's own tuples; the baseline).
- ``listed``: ``Register.listed`` (what the window does): the packed rows beside the register
  (``store.list_cache``, schema 7), one text per payment decoded a batch at a time.
- ``listed from payments``: the same list read from the register's own columns (``store.listing``,
  what ``listed`` did before schema 7, and does while the packed rows are stale).
- ``fetch packed``: ``fetchall`` of the packed rows alone (the floor under ``listed``).
- ``records``: ``Register.all``: a record for every row (what the window did before).
- ``tuples``: one compact tuple per row: reference, description, times as integer microseconds since
  the epoch, a state code and a currency index (small ints, shared objects), amounts in minor units.
- ``columns``: the same values kept column by column (``array`` for the numbers, lists of the strings).
- ``columns, times by SQLite``: the same with the times turned into whole seconds by SQLite.
- ``publish``: what the desk's first load adds after ``listed``: one ``ListLoaded`` change, applied to a
  table model by the changes adapter (the model takes the columns over and computes each row's
  business state).

Asserts nothing; prints a table.

    uv run python benchmarks/list_rows.py [--payments 10000 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from array import array
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

MSN = "123456"  # startup.bench_profile's serial number
_NO_TIME = -(2**62)


def _micros(text: object) -> int:
    if not isinstance(text, str) or not text:
        return _NO_TIME
    moment = datetime.fromisoformat(text)
    return int(moment.timestamp() * 1_000_000)


def _codes(values: list[str]) -> Callable[[object], int]:
    index = {value: i for i, value in enumerate(values)}

    def code(value: object) -> int:
        if not isinstance(value, str):
            return -1
        found = index.get(value)
        if found is None:
            found = index[value] = len(index)
        return found

    return code


def _readers(conn: sqlite3.Connection) -> dict[str, Callable[[], Any]]:
    from epay_desktop.domain import Currency, State
    from epay_desktop.store.register import SUMMARY_COLUMNS

    # The list's plain columns, as the register keeps them (what ``Register.listed`` reads).
    sql = (
        "SELECT reference, msn, description, created_at, fetched_at, fetch_error, last_event_at, "
        f"payment_json IS NOT NULL, {', '.join(SUMMARY_COLUMNS)}, coalesce(created_at, added_at) "
        "FROM payments WHERE msn = ?"
    )
    state_code = _codes([s.value for s in State])
    currency_code = _codes([c.value for c in Currency])

    def fetch() -> Any:
        return conn.execute(sql, (MSN,)).fetchall()

    def tuples() -> Any:
        out = []
        for r in conn.execute(sql, (MSN,)):
            amount = r[10]
            out.append(
                (
                    r[0],
                    r[2] or "",
                    _micros(r[3]),
                    _micros(r[4]),
                    r[5] or "",
                    _micros(r[6]),
                    state_code(r[8]),
                    currency_code(r[11]),
                    amount,
                    # most parts are the whole amount or nothing: keep the shared object
                    amount if r[12] == amount else r[12],
                    amount if r[13] == amount else r[13],
                    amount if r[14] == amount else r[14],
                    amount if r[15] == amount else r[15],
                )
            )
        return out

    def columns() -> Any:
        references: list[str] = []
        descriptions: list[str] = []
        errors: list[str] = []
        times = array("q")
        states = array("b")
        currencies = array("b")
        amounts = array("q")
        for r in conn.execute(sql, (MSN,)):
            references.append(r[0])
            descriptions.append(r[2] or "")
            errors.append(r[5] or "")
            times.extend((_micros(r[3]), _micros(r[4]), _micros(r[6])))
            states.append(state_code(r[8]))
            currencies.append(currency_code(r[11]))
            amounts.extend(v if isinstance(v, int) else 0 for v in r[10:11] + r[12:16])
        return references, descriptions, errors, times, states, currencies, amounts

    # The times as whole seconds, converted by SQLite (``unixepoch``, SQLite 3.38+): enough for the
    # list's minutes and its five-minute stale mark; a full record is read from its row when needed.
    seconds_sql = (
        "SELECT reference, description, unixepoch(created_at), unixepoch(fetched_at), fetch_error, "
        "unixepoch(last_event_at), state, currency, amount, authorized, captured, cancelled, refunded "
        "FROM payments WHERE msn = ?"
    )

    def columns_sql() -> Any:
        references: list[str] = []
        descriptions: list[str] = []
        errors: list[str] = []
        times = array("q")
        states = array("b")
        currencies = array("b")
        amounts = array("q")
        for r in conn.execute(seconds_sql, (MSN,)):
            references.append(r[0])
            descriptions.append(r[1] or "")
            errors.append(r[4] or "")
            times.extend(v if v is not None else _NO_TIME for v in (r[2], r[3], r[5]))
            states.append(state_code(r[6]))
            currencies.append(currency_code(r[7]))
            amounts.extend(v if isinstance(v, int) else 0 for v in r[8:13])
        return references, descriptions, errors, times, states, currencies, amounts

    return {"fetch": fetch, "tuples": tuples, "columns": columns, "columns, times by SQLite": columns_sql}


def measure(count: int, rounds: int) -> list[tuple[str, float, float]]:
    import startup

    with tempfile.TemporaryDirectory(prefix="epay-list-rows-") as home:
        return _measure(startup.build_register(Path(home), count), count, rounds)


def _measure(path: Path, count: int, rounds: int) -> list[tuple[str, float, float]]:
    from PySide6.QtWidgets import QApplication

    from epay_desktop.services.changes import ListLoaded
    from epay_desktop.store import Store
    from epay_desktop.ui.table.changes import ChangesAdapter
    from epay_desktop.ui.table.model import PaymentsModel

    app = QApplication.instance() or QApplication([])
    started = time.perf_counter()
    store = Store(path)
    opened = time.perf_counter() - started
    conn = sqlite3.connect(path)
    readers = _readers(conn)
    from epay_desktop.store import list_cache
    from epay_desktop.store.listing import read_listed

    readers["listed"] = lambda: store.register.listed(MSN)
    readers["listed from payments"] = lambda: store.db.read("bench", lambda c: read_listed(c, MSN))
    packed_sql = f"SELECT packed FROM {list_cache.TABLE} WHERE msn = ? ORDER BY key DESC, reference"
    readers["fetch packed"] = lambda: conn.execute(packed_sql, (MSN,)).fetchall()
    readers["records"] = lambda: store.register.all(MSN)

    def publish() -> Any:
        model = PaymentsModel()
        adapter = ChangesAdapter(model)
        adapter.apply([ListLoaded(store.register.listed(MSN))])
        return model, adapter

    readers["listed + publish"] = publish
    best = {name: float("inf") for name in readers}
    for _ in range(rounds):
        for name, read in readers.items():
            gc.collect()
            started = time.perf_counter()
            result = read()
            best[name] = min(best[name], time.perf_counter() - started)
            del result
    kept: dict[str, float] = {}
    for name, read in readers.items():
        gc.collect()
        tracemalloc.start()
        result = read()
        kept[name] = tracemalloc.get_traced_memory()[0] / count
        tracemalloc.stop()
        del result
    conn.close()
    store.close()
    del app
    rows = [(name, best[name], kept[name]) for name in readers]
    rows.append(("open (Store, incl. checks)", opened, 0.0))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("(PYTHONDONTWRITEBYTECODE is set; everything here runs in this process)")
    for count in args.payments:
        rows = measure(count, args.rounds)
        floor = next(seconds for name, seconds, _ in rows if name == "fetch")
        print(f"\n{count:,} payments (best of {args.rounds}; ratio: to 'fetch')")
        print(f"{'way':28s} {'ms':>9s} {'ratio':>7s} {'kept B/payment':>15s}")
        for name, seconds, per_row in rows:
            print(f"{name:28s} {seconds * 1000:9.1f} {seconds / floor:7.2f} {per_row:15.0f}")


if __name__ == "__main__":
    main()
