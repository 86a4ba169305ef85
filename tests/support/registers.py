"""A SQLite register with rows of every kind a list meets (store and table tests share it)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from epay_desktop.domain import (
    Aggregate,
    Currency,
    EventName,
    Money,
    Payment,
    PaymentEvent,
    State,
    TrackedPayment,
)
from epay_desktop.store import NewEntry, Store

MSN = "123456"
T0 = datetime(2025, 3, 1, 12, 0, 5, 123456, tzinfo=UTC)


def money(value: int, currency: Currency = Currency.NOK) -> Money:
    return Money(value, currency)


def event(reference: str, name: EventName, at: datetime) -> PaymentEvent:
    return PaymentEvent(reference, "psp-x", name, money(10000), at, None, True)


def varied(store: Store, *, mixed: bool = True) -> list[str]:
    """Rows of every kind the list meets: never fetched, each state, metadata, a link, a capture
    guarantee, a time without microseconds, a fetch error, and (``mixed``) an aggregate in another
    currency than the amount (which the table's cells cannot show: business_state and breakdown raise)."""
    nok = Currency.NOK
    payments = [
        Payment("p-created", money(5000), State.CREATED, Aggregate.zero(nok), "psp-1", "Mugs", "WALLET"),
        Payment(
            "p-reserved",
            money(10000),
            State.AUTHORIZED,
            Aggregate(money(10000), money(0), money(0), money(0)),
            "psp-2",
            "Beans",
            "CARD",
            "https://shop.example/return",
            "AUTHORIZED",
            {"orderId": "42", "note": "æøå"},
            T0 + timedelta(days=7),
        ),
        Payment(
            "p-partly",
            money(10000),
            State.AUTHORIZED,
            Aggregate(money(10000), money(2500), money(0), money(1000)),
            "psp-3",
        ),
        Payment("p-new-state", money(700), State.UNKNOWN, Aggregate.zero(nok), "psp-4", raw_state="PAUSED"),
        Payment("p-terminated", money(900, Currency.EUR), State.TERMINATED, Aggregate.zero(Currency.EUR)),
        Payment(
            "p-mixed",
            money(10000),
            State.AUTHORIZED,
            Aggregate(money(10000), money(0), money(0), money(0, Currency.DKK)),
            "psp-6",
        ),
    ]
    if not mixed:
        payments = [p for p in payments if p.reference != "p-mixed"]
    store.register.add(
        MSN,
        [NewEntry("p-never", "Not read yet", T0 - timedelta(hours=1))]
        + [
            NewEntry(p.reference, f"Ours: {p.reference}", T0 + timedelta(minutes=n))
            for n, p in enumerate(payments)
        ],
    )
    for n, p in enumerate(payments):
        events = [event(p.reference, EventName.CREATED, T0 + timedelta(minutes=n, seconds=1))]
        at = T0.replace(microsecond=0) + timedelta(hours=n) if n % 2 else T0 + timedelta(hours=n)
        store.register.save_snapshot(MSN, p, events if n != 2 else None, fetched_at=at)
    store.register.save_fetch_error(MSN, "p-partly", "HTTP 503: try again")
    return ["p-never", *(p.reference for p in payments)]


def from_snapshot(store: Store, reference: str) -> TrackedPayment:
    """The record the saved row itself decodes to (its JSON, its event log), without the log."""
    whole = store.register.get(MSN, reference)
    assert whole is not None
    return replace(whole, events=None, last_event_at=whole.last_event_at)


def damage_a_page_the_list_never_reads(path: Path) -> None:
    """Damage the register at ``path`` where its list does not look: a table of its own written last
    (its pages at the end of the file), one of its pages scribbled over. The payments read fine; only
    a walk of the whole file (``PRAGMA quick_check``) finds it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE filler (x TEXT)")
    conn.executemany("INSERT INTO filler VALUES (?)", [("f" * 900,)] * 200)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    page = 4096
    at = len(data) - 3 * page
    data[at + 8 : at + 600] = b"\xa5" * 592  # the page's cell pointers and first cells
    path.write_bytes(bytes(data))


def leaf_page(data: bytes | bytearray, *, kind: int, holding: bytes, after: int = 20) -> int:
    """The offset (in 4,096-byte pages) of the first page after ``after`` that is a b-tree leaf of
    ``kind`` (13: a table's, as ``payments``; 10: an index's, as ``list_rows``, a WITHOUT ROWID table)
    holding ``holding``."""
    for page in range(after, len(data) // 4096):
        content = bytes(data[page * 4096 : (page + 1) * 4096])
        if content[0] == kind and holding in content:
            return page
    raise AssertionError("no such page")
