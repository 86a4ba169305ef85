"""The register's list read column by column (``Register.listed``): each row's record, built when asked
for, is the record the saved snapshot itself decodes to; a damaged cell is listed with its reason."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from epay_desktop.domain import (
    Aggregate,
    BusinessState,
    Payment,
    State,
    TrackedPayment,
    business_state,
)
from epay_desktop.domain.listed import ListedPayments
from epay_desktop.store import NewEntry, Store
from tests.support.registers import MSN, T0, from_snapshot, money, varied


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "register.sqlite3") as s:
        yield s


def test_each_row_built_on_demand_is_the_record_its_snapshot_decodes_to(store: Store) -> None:
    references = varied(store)
    listed = store.register.listed(MSN)
    assert sorted(listed.references) == sorted(references)
    for row, reference in enumerate(listed.references):
        built = listed.record(row)
        assert built == from_snapshot(store, reference), reference
        if reference == "p-mixed":  # no business state fits an aggregate in two currencies
            assert listed.kind_at(row) is BusinessState.UNKNOWN
        else:
            assert listed.kind_at(row) == (
                business_state(built.payment) if built.payment is not None else None
            ), reference
    # ``all`` is the same rows as records, newest first (created, else added; then reference).
    assert store.register.all(MSN) == list(listed)
    created = [t.created_at for t in listed]
    assert created == sorted(created, reverse=True)


def test_the_first_rows_are_the_newest_and_the_same_records(store: Store) -> None:
    varied(store)
    whole = store.register.listed(MSN)
    first = store.register.listed(MSN, first=3)
    assert first.references == whole.references[:3]
    assert list(first) == whole[:3]


def test_a_time_in_another_form_is_read_exactly(store: Store) -> None:
    store.register.add(MSN, [NewEntry("p-1"), NewEntry("p-2")])
    odd = datetime(2025, 5, 6, 7, 8, 9, 10, tzinfo=timezone(timedelta(hours=2)))
    store.db.write(
        "test",
        lambda c: c.execute(
            "UPDATE payments SET created_at = ?, fetched_at = '2025-05-06 05:08:09' WHERE reference = 'p-1'",
            (odd.isoformat(),),
        ),
    )
    listed = store.register.listed(MSN)
    row = listed.references.index("p-1")
    assert listed.record(row).created_at == odd
    assert listed.record(row).fetched_at == datetime(2025, 5, 6, 5, 8, 9, tzinfo=UTC)  # no offset: UTC
    assert not listed.record(row).fetch_error


@pytest.mark.parametrize(
    ("cells", "says"),
    [
        ("created_at = 'yesterday'", "created_at"),
        ("fetched_at = 'soon'", "fetched_at"),
        ("amount = 'many', payment_json = 'not json'", "could not be read"),
        ("currency = 'XYZ', payment_json = '{\"reference\": 1}'", "could not be read"),
        ("metadata_json = '[1, 2]', payment_json = NULL", ""),
    ],
)
def test_a_damaged_row_is_listed_with_its_reason_and_the_others_are_whole(
    store: Store, cells: str, says: str
) -> None:
    references = varied(store)
    store.db.write("test", lambda c: c.execute(f"UPDATE payments SET {cells} WHERE reference = 'p-reserved'"))
    listed = store.register.listed(MSN)
    assert sorted(listed.references) == sorted(references)  # nothing dropped
    damaged = listed.record(listed.references.index("p-reserved"))
    if says:
        assert says in damaged.fetch_error
    for row, reference in enumerate(listed.references):
        if reference != "p-reserved":
            assert listed.record(row) == from_snapshot(store, reference), reference


def test_a_payment_the_columns_cannot_make_is_read_from_its_saved_json(store: Store) -> None:
    varied(store)
    # As a schema-4 register left it: the snapshot in JSON only.
    store.db.write(
        "test", lambda c: c.execute("UPDATE payments SET state = NULL WHERE reference = 'p-reserved'")
    )
    listed = store.register.listed(MSN)
    row = listed.references.index("p-reserved")
    assert listed.record(row) == from_snapshot(store, "p-reserved")
    assert listed.kind_at(row) is BusinessState.RESERVED


def test_a_list_sequence_writes_and_moves_rows_by_position() -> None:
    base = TrackedPayment("r-1", MSN, None, None, "One", T0)
    paid = Payment("r-2", money(100), State.AUTHORIZED, Aggregate(money(100), money(100), money(0), money(0)))
    listed = ListedPayments.of(MSN, [base, TrackedPayment("r-2", MSN, paid, None, "Two", T0, T0)])
    assert listed.kinds() == [None, BusinessState.CAPTURED]
    listed.reorder([1, 0])
    assert listed.references == ["r-2", "r-1"]
    assert listed.kinds() == [BusinessState.CAPTURED, None]
    listed.set_record(1, replace(base, description="Uno"))
    assert listed[1] == replace(base, description="Uno")
    listed.delete(0, 0)
    assert list(listed) == [replace(base, description="Uno")]
