"""The table's rows column by column (``TableRows``): what is derived from each row (its business state,
its search text, its row by reference) stays in step with the list through every change of the rows
and of their order, whether or not it was built before the change."""

from __future__ import annotations

from collections import Counter

import pytest

from epay_desktop.domain import State
from epay_desktop.domain.listed import ListedPayments
from epay_desktop.ui.table.cells import Column
from epay_desktop.ui.table.rows import TableRows, haystack, moved
from tests.ui.factories import tracked


def sample() -> list:
    return [
        tracked("order-000001", "Coffee beans", amount=10_000, minutes=3),
        tracked("order-000002", "Espresso machine", amount=250_000, captured=250_000, minutes=1),
        tracked("order-000003", "Mugs", amount=5_000, state=State.CREATED, minutes=2),
        tracked("order-000004", "Filter papers", fetched=False),
        tracked("order-000005", "Grinder", amount=99_00, state=State.TERMINATED, minutes=4),
    ]


def listed_of(records: list) -> ListedPayments:
    return ListedPayments.of(records[0].merchant_serial_number, records)


def shown(records: list, *, derived: bool) -> TableRows:
    rows = TableRows()
    rows.reset(listed_of(records))
    if derived:  # search texts and the index by reference built before the change
        rows.haystack_at(0)
        rows.row_of(records[0].reference)
    return rows


def assert_in_step(rows: TableRows) -> None:
    listed = rows.listed
    for row, reference in enumerate(listed.references):
        assert rows.kind_at(row) is listed.kind_at(row)
        assert rows.state_at(row) is listed.state_at(row)
        assert rows.haystack_at(row) == haystack(listed, row)
        assert rows.row_of(reference) == row
    assert rows.kind_counts() == Counter(listed.kind_at(row) for row in range(len(listed)))


BOTH = pytest.mark.parametrize("derived", [False, True], ids=["derived-later", "derived-before"])


@BOTH
def test_rows_reset_and_extended(derived: bool) -> None:
    rows = shown(sample()[:3], derived=derived)
    assert_in_step(rows)
    rows.extend(listed_of(sample()[3:]))
    assert rows.listed.references == [t.reference for t in sample()]
    assert_in_step(rows)
    assert rows.row_of("never-listed") is None


@BOTH
def test_rows_taken_over_from_a_longer_list(derived: bool) -> None:
    rows = shown(sample()[:2], derived=derived)
    longer = listed_of(sample())
    assert rows.listed.same_rows(longer, 2)
    rows.take_over(longer, 2)
    assert rows.listed is longer
    assert_in_step(rows)


@BOTH
def test_rows_sorted_moved_and_deleted(derived: bool) -> None:
    rows = shown(sample(), derived=derived)
    order = rows.order_by(Column.AMOUNT, descending=True)
    rows.reorder(order)
    amounts = [rows.listed.amounts[row] for row in range(len(order)) if rows.listed.states[row] >= 0]
    assert amounts == sorted(amounts, reverse=True)
    assert_in_step(rows)
    last = rows.listed.references[-1]
    rows.move(len(order) - 1, 0)
    assert rows.listed.references[0] == last
    assert_in_step(rows)
    gone = rows.listed.references[1:3]
    rows.delete(1, 2)
    assert not set(gone) & set(rows.listed.references)
    assert_in_step(rows)


@BOTH
def test_a_row_taking_other_values_is_searched_and_counted_by_them(derived: bool) -> None:
    rows = shown(sample(), derived=derived)
    rows.set_record(0, tracked("order-000001", "Tea leaves", amount=10_000, state=State.TERMINATED))
    assert "tea leaves" in rows.haystack_at(0)
    assert rows.kind_at(0) is rows.listed.kind_at(0)
    again = listed_of([tracked("order-000003", "Big mugs", amount=6_000)])
    rows.copy_row(2, again, 0)
    assert "big mugs" in rows.haystack_at(2)
    assert rows.state_at(2) is State.AUTHORIZED
    assert_in_step(rows)


def test_queries_over_the_rows() -> None:
    records = sample()
    rows = shown(records, derived=False)
    assert rows.rows_in_states({State.CREATED, None}) == [2, 3]
    assert rows.kind_counts([0, 3]) == Counter([records[0].kind, None])
    assert rows.references_that_can_change() == [t.reference for t in records if t.can_still_change()]
    assert rows.newest_fetch() == max(t.fetched_at for t in records if t.fetched_at is not None)
    assert not rows.unknown_to_api_at(0)


def test_nothing_listed() -> None:
    rows = TableRows()
    assert rows.newest_fetch() is None
    assert rows.kind_counts() == Counter()
    assert rows.order_by(Column.REFERENCE, descending=False) == []


def test_where_a_row_is_after_another_moved() -> None:
    # Row 1 to row 3: rows 2 and 3 shift up, the others stay.
    assert [moved(r, 1, 3) for r in range(5)] == [0, 3, 1, 2, 4]
    # Row 3 to row 1: rows 1 and 2 shift down.
    assert [moved(r, 3, 1) for r in range(5)] == [0, 2, 3, 1, 4]
    assert [moved(r, 2, 2) for r in range(5)] == [0, 1, 2, 3, 4]
