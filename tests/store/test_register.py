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
    EventName,
    Money,
    Payment,
    PaymentEvent,
    State,
)
from epay_desktop.store import NewEntry, Operation, RegisterError, SnapshotError, Store

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


def event(reference: str, name: EventName) -> PaymentEvent:
    return PaymentEvent(reference, "psp-1", name, nok(10000), T0, None, True)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "register.sqlite3") as s:
        yield s


@pytest.mark.parametrize(
    "cells", ["state = 'NOT A STATE'", "currency = 'XYZ'", "amount = 'many'", "state = NULL"]
)
def test_an_unreadable_snapshot_shows_as_not_fetched_instead_of_crashing(store: Store, cells: str) -> None:
    # The list reads the payment's columns; where they cannot make a payment it reads the JSON.
    store.register.add(MSN, [NewEntry("ref-00001"), NewEntry("ref-00002")])
    store.register.save_snapshot(MSN, payment("ref-00001"), [])
    store.db.write(
        "test",
        lambda c: c.execute(
            f"UPDATE payments SET payment_json = '{{broken', {cells} WHERE reference = 'ref-00001'"
        ),
    )
    by_ref = {t.reference: t for t in store.register.all(MSN)}
    assert by_ref["ref-00001"].payment is None
    assert "could not be read" in by_ref["ref-00001"].fetch_error
    assert by_ref["ref-00002"].payment is None


@pytest.mark.parametrize(
    "damage",
    ["{broken", '"just text"', '{"an": "object"}', '[1, "two", {"timestamp": 5}, {"timestamp": "soon"}]'],
)
def test_a_damaged_event_log_still_lists_and_says_so_when_read(store: Store, damage: str) -> None:
    # Only SQLite can hold such a text: the PostgreSQL register keeps the log as jsonb of the codec.
    store.register.add(MSN, [NewEntry("ref-00001", created_at=T0), NewEntry("ref-00002")])
    store.register.save_snapshot(MSN, payment("ref-00001"), [event("ref-00001", EventName.CREATED)])
    store.db.write(
        "test",
        lambda c: c.execute("UPDATE payments SET events_json = ? WHERE reference = 'ref-00001'", (damage,)),
    )
    by_ref = {t.reference: t for t in store.register.all(MSN)}
    assert by_ref["ref-00001"].payment == payment("ref-00001")
    assert by_ref["ref-00001"].updated_at == T0
    with pytest.raises(SnapshotError):
        store.register.events_of(MSN, "ref-00001")


def test_the_journal_write_is_durable(store: Store) -> None:
    # The intent is committed with synchronous=FULL and the connection is back to NORMAL afterwards.
    seen: list[int] = []

    def spy(conn: sqlite3.Connection) -> None:
        seen.append(conn.execute("PRAGMA synchronous").fetchone()[0])

    store.db.write("spy", spy, durable=True)
    store.db.write("spy", spy)
    assert seen == [2, 1]  # FULL, NORMAL


@pytest.mark.parametrize(
    ("column", "bad"),
    [("created_at", "not a date"), ("fetched_at", "2025-13-45"), ("payment_json", "{")],
)
def test_one_bad_cell_skips_and_reports_its_row_not_the_list(store: Store, column: str, bad: str) -> None:
    store.register.add(MSN, [NewEntry(f"good-{n:05d}", created_at=T0) for n in range(3)])
    store.register.add(MSN, [NewEntry("bad-000001", created_at=T0)])
    store.db.write(
        "test",
        lambda c: c.execute(f"UPDATE payments SET {column} = ? WHERE reference = 'bad-000001'", (bad,)),
    )
    tracked = store.register.all(MSN)
    references = [t.reference for t in tracked]
    assert set(references) >= {"good-00000", "good-00001", "good-00002"}
    if "bad-000001" not in references:  # skipped: then it is said which and why
        assert len(store.register.skipped_rows) == 1
        assert "bad-000001" in store.register.skipped_rows[0]
    else:  # kept (an unreadable snapshot is shown as "not fetched", with the reason)
        (bad_row,) = [t for t in tracked if t.reference == "bad-000001"]
        assert bad_row.payment is None
        assert bad_row.fetch_error
    assert store.register.skipped_rows == [] or "bad-000001" not in references


def test_one_bad_cell_in_the_journal_skips_that_entry_not_the_others(store: Store) -> None:
    for n in range(3):
        store.journal.begin(
            operation=Operation.CAPTURE,
            profile="Demo",
            msn=MSN,
            reference=f"pend-{n:05d}",
            amount=nok(100),
            idempotency_key=f"key-{n}",
            os_user="tester",
        )
    store.db.write(
        "test", lambda c: c.execute("UPDATE intents SET currency = 'XYZ' WHERE reference = 'pend-00001'")
    )
    pending = store.journal.pending(profile="Demo")
    assert [i.reference for i in pending] == ["pend-00000", "pend-00002"]
    (skipped,) = store.journal.skipped
    assert "pend-00001" in skipped
    assert "cannot be read" in skipped
    assert len(store.journal.all()) == 2
    # A new operation on the payment whose pending entry cannot be read is refused, with the reason.
    with pytest.raises(RegisterError, match=r"pend-00001.*nothing was sent"):
        store.journal.begin(
            operation=Operation.REFUND,
            profile="Demo",
            msn=MSN,
            reference="pend-00001",
            amount=nok(100),
            idempotency_key="key-new",
            os_user="tester",
        )


def test_a_change_through_one_transaction_moves_the_newest_events_time(store: Store) -> None:
    # What a received webhook does: the list's "Updated" column follows the log it writes.
    store.register.add(MSN, [NewEntry("ref-00001", created_at=T0)])
    later = PaymentEvent(
        "ref-00001", "psp-1", EventName.AUTHORIZED, nok(10000), T0.replace(hour=13), None, True
    )

    def append(before: object) -> tuple[None, list[PaymentEvent]]:
        return None, [event("ref-00001", EventName.CREATED), later]

    after, written = store.register.change(MSN, "ref-00001", append, at=T0, source="webhook")
    assert written
    assert after is not None
    assert after.last_event_at == later.timestamp
    assert store.register.all(MSN)[0].last_event_at == later.timestamp


def test_the_list_reads_each_saved_payment_from_its_columns_as_it_was_saved(store: Store) -> None:
    full = Payment(
        "ref-00001",
        nok(12_500),
        State.UNKNOWN,
        Aggregate(nok(12_500), nok(2_500), nok(0), nok(500)),
        psp_reference="psp-full",
        description="Kanelbolle",
        payment_method="WALLET",
        redirect_url="https://shop.example/back",
        raw_state="ON_HOLD",
        metadata={"order": "17", "ø": "æ"},
        capture_guaranteed_until=datetime(2025, 3, 8, 12, 0, tzinfo=UTC),
    )
    mixed = Payment(
        "ref-00002",
        nok(100),
        State.AUTHORIZED,
        Aggregate(Money(100, Currency.DKK), nok(0), nok(0), nok(0)),
    )
    store.register.add(MSN, [NewEntry("ref-00003")])
    store.register.save_snapshot(MSN, full, [event("ref-00001", EventName.CREATED)])
    store.register.save_snapshot(MSN, mixed, None)
    cells = dict(store.db.read("x", lambda c: c.execute("SELECT reference, state FROM payments").fetchall()))
    listed = {t.reference: t for t in store.register.all(MSN)}
    assert cells == {"ref-00001": "UNKNOWN", "ref-00002": None, "ref-00003": None}
    assert listed["ref-00001"].payment == full == store.register.get(MSN, "ref-00001").payment  # type: ignore[union-attr]
    assert listed["ref-00002"].payment == mixed
    assert listed["ref-00003"].payment is None


def test_a_webhook_change_keeps_the_list_columns_and_the_log_length(store: Store) -> None:
    store.register.add(MSN, [NewEntry("ref-00001")])
    store.register.save_snapshot(
        MSN, payment("ref-00001"), [event("ref-00001", EventName.CREATED)], fetched_at=T0
    )
    cancelled = payment("ref-00001", cancelled=10000)
    log = [event("ref-00001", EventName.CREATED), event("ref-00001", EventName.CANCELLED)]
    store.register.change(MSN, "ref-00001", lambda before: (cancelled, log), at=T0, source="webhook")
    (listed,) = store.register.all(MSN)
    assert listed.payment == cancelled
    assert store.register.change_marks(MSN)["ref-00001"][1] == 2
    # A change that brings events only leaves the payment's columns as they were.
    store.register.change(MSN, "ref-00001", lambda before: (None, [*log, log[0]]), at=T0, source="webhook")
    assert store.register.all(MSN)[0].payment == cancelled
    assert store.register.change_marks(MSN)["ref-00001"][1] == 3
