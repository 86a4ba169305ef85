"""What only the SQLite register does; everything both stores do is in ``test_contract.py``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from epay_desktop.domain import (
    Aggregate,
    Currency,
    Money,
    Payment,
    State,
)
from epay_desktop.store import NewEntry, Store

MSN = "123456"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def nok(value: int) -> Money:
    return Money(value, Currency.NOK)


def payment(reference: str, state: State = State.AUTHORIZED, cancelled: int = 0) -> Payment:
    return Payment(
        reference=reference,
        amount=nok(10000),
        state=state,
        aggregate=Aggregate(nok(10000), nok(0), nok(cancelled), nok(0)),
        psp_reference="psp-1",
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "register.sqlite3") as s:
        yield s


def test_an_unreadable_snapshot_shows_as_not_fetched_instead_of_crashing(store: Store) -> None:
    store.register.add(MSN, [NewEntry("ref-00001"), NewEntry("ref-00002")])
    store.register.save_snapshot(MSN, payment("ref-00001"), [])
    store.db.write(
        "test",
        lambda c: c.execute("UPDATE payments SET payment_json = '{broken' WHERE reference = 'ref-00001'"),
    )
    by_ref = {t.reference: t for t in store.register.all(MSN)}
    assert by_ref["ref-00001"].payment is None
    assert "could not be read" in by_ref["ref-00001"].fetch_error
    assert by_ref["ref-00002"].payment is None


def test_the_journal_write_is_durable(store: Store) -> None:
    # The intent is committed with synchronous=FULL and the connection is back to NORMAL afterwards.
    seen: list[int] = []

    def spy(conn: sqlite3.Connection) -> None:
        seen.append(conn.execute("PRAGMA synchronous").fetchone()[0])

    store.db.write("spy", spy, durable=True)
    store.db.write("spy", spy)
    assert seen == [2, 1]  # FULL, NORMAL
