"""The rows' records (``RowRecords``): kept as they came, or built from the list's columns when asked for
and kept a while, by row; built again once their row changed or the rows moved."""

from __future__ import annotations

from epay_desktop.domain.listed import ListedPayments
from epay_desktop.ui.table.records import BUILT_KEPT, RowRecords
from tests.ui.factories import tracked


def listed_of(count: int) -> ListedPayments:
    rows = [tracked(f"order-{n:06d}", f"Item {n}", amount=1_000 + n) for n in range(count)]
    return ListedPayments.of(rows[0].merchant_serial_number, rows)


def test_a_row_without_a_kept_record_gets_one_built_from_the_list_once() -> None:
    listed = listed_of(3)
    records = RowRecords()
    built = records.at(listed, 1)
    assert built.reference == "order-000001"
    assert built.description == "Item 1"
    assert records.at(listed, 1) is built
    assert records.kept("order-000001") is None
    assert not records.any_kept


def test_a_kept_record_is_shown_as_it_came_until_forgotten() -> None:
    listed = listed_of(3)
    records = RowRecords()
    came = tracked("order-000002", "Item 2", amount=1_002)
    records.keep([came])
    assert records.any_kept
    assert records.kept("order-000002") is came
    assert records.at(listed, 2) is came
    records.forget("order-000002")
    assert records.kept("order-000002") is None
    assert records.at(listed, 2) is not came
    assert records.at(listed, 2).reference == "order-000002"
    records.forget("never-kept")  # nothing to forget: nothing happens


def test_a_changed_row_and_moved_rows_are_built_again() -> None:
    listed = listed_of(3)
    records = RowRecords()
    first, second = records.at(listed, 0), records.at(listed, 1)
    records.row_changed(0)
    assert records.at(listed, 0) is not first
    assert records.at(listed, 1) is second
    records.rows_moved()
    assert records.at(listed, 1) is not second


def test_clear_forgets_kept_and_built_records() -> None:
    listed = listed_of(2)
    records = RowRecords()
    came = tracked("order-000000", "Item 0", amount=1_000)
    records.keep([came])
    built = records.at(listed, 1)
    records.clear()
    assert not records.any_kept
    assert records.at(listed, 0) is not came
    assert records.at(listed, 1) is not built


def test_only_so_many_built_records_are_kept() -> None:
    listed = listed_of(BUILT_KEPT + 1)
    records = RowRecords()
    first = records.at(listed, 0)
    for row in range(1, BUILT_KEPT):
        records.at(listed, row)
    assert records.at(listed, 0) is first  # as many as are kept: still there
    records.at(listed, BUILT_KEPT)  # one more: the kept ones are let go
    assert records.at(listed, 0) is not first
