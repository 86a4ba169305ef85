"""The table over a register's list kept column by column (real SQLite registers, real Qt offscreen):
what a row shows, how it sorts and filters, and what its record is, are what they are for the same
payments given as records; a loaded list arrives in one step; an update touches its row only; a damaged
row is shown with its reason."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QLocale, QModelIndex, Qt

from epay_desktop.domain import Money, State
from epay_desktop.services.changes import ChangeFeed, ListLoaded, PaymentChanged
from epay_desktop.store import Store
from epay_desktop.ui.table.cells import sort_key
from epay_desktop.ui.table.changes import ChangesAdapter
from epay_desktop.ui.table.model import Column, PaymentRoles, PaymentsModel
from epay_desktop.ui.table.proxy import PaymentsFilterModel
from epay_desktop.ui.table.view import RegisterView
from tests.support.registers import MSN, T0, from_snapshot, varied

ROLES = (
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.ToolTipRole,
    Qt.ItemDataRole.AccessibleTextRole,
    PaymentRoles.STATE,
    PaymentRoles.BUSINESS_STATE,
    PaymentRoles.STALE,
    PaymentRoles.REFERENCE,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "register.sqlite3") as s:
        yield s


def cells(model: PaymentsModel) -> list[list[Any]]:
    # ``model.data`` itself: an empty answer read through ``QModelIndex.data`` costs PySide6 a
    # reference to None (see ``PaymentRoles``).
    return [
        [
            model.data(model.index(row, column), role)
            for column in range(model.columnCount())
            for role in ROLES
        ]
        for row in range(model.rowCount())
    ]


def test_a_listed_register_shows_what_its_records_show(store: Store, qtmodeltester: Any) -> None:
    varied(store, mixed=False)
    listed = store.register.listed(MSN)
    by_columns = PaymentsModel(locale=QLocale.c())
    by_columns.set_listed(listed)
    by_records = PaymentsModel(locale=QLocale.c())
    by_records.set_payments(store.register.all(MSN))
    now = T0 + timedelta(hours=3)
    by_columns.set_now(now)
    by_records.set_now(now)
    qtmodeltester.check(by_columns)
    assert cells(by_columns) == cells(by_records)
    for row, reference in enumerate(by_columns.references()):
        assert by_columns.tracked_at(row) == from_snapshot(store, reference)
        assert by_columns.index(row, 0).data(PaymentRoles.TRACKED) == from_snapshot(store, reference)


@pytest.mark.parametrize("column", list(Column))
@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
def test_sorting_the_columns_orders_as_the_records_keys_do(
    store: Store, column: Column, order: Qt.SortOrder
) -> None:
    varied(store, mixed=False)
    model = PaymentsModel(locale=QLocale.c())
    model.set_listed(store.register.listed(MSN))
    records = list(model.payments())
    model.sort(column, order)
    expected = sorted(
        records, key=lambda t: sort_key(t, column), reverse=order == Qt.SortOrder.DescendingOrder
    )
    assert model.references() == [t.reference for t in expected]
    assert [model.row_of(t.reference) for t in expected] == list(range(len(expected)))


def test_search_and_the_state_filter_read_the_columns(store: Store) -> None:
    varied(store, mixed=False)
    model = PaymentsModel(locale=QLocale.c())
    model.set_listed(store.register.listed(MSN))
    proxy = PaymentsFilterModel()
    proxy.setSourceModel(model)

    def shown() -> set[str]:
        return {proxy.index(row, 0).data(PaymentRoles.REFERENCE) for row in range(proxy.rowCount())}

    proxy.set_text("psp-3")  # the pspReference
    assert shown() == {"p-partly"}
    proxy.set_text("100,00")  # an amount as people type it
    assert shown() == {"p-reserved", "p-partly"}
    proxy.set_text("")
    proxy.set_states({State.CREATED, None})
    assert shown() == {"p-created", "p-never"}


def test_a_loaded_list_arrives_in_one_reset_and_again_changes_nothing(store: Store) -> None:
    varied(store, mixed=False)
    feed = ChangeFeed()
    model = PaymentsModel(locale=QLocale.c())
    ChangesAdapter(model).attach(feed)
    signals: list[str] = []
    model.modelReset.connect(lambda: signals.append("reset"))
    model.rowsInserted.connect(lambda *_a: signals.append("inserted"))
    model.dataChanged.connect(lambda *_a: signals.append("changed"))
    listed = store.register.listed(MSN)
    feed.publish(ListLoaded(listed))
    assert signals == ["reset"]
    assert model.shows(listed)
    feed.publish(ListLoaded(listed))  # the very rows shown
    assert signals == ["reset"]


def test_an_update_for_one_payment_changes_that_row_only(store: Store) -> None:
    varied(store, mixed=False)
    feed = ChangeFeed()
    model = PaymentsModel(locale=QLocale.c())
    ChangesAdapter(model).attach(feed)
    feed.publish(ListLoaded(store.register.listed(MSN)))
    before = cells(model)
    changed: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles=None: changed.append(
            (top.row(), top.column(), bottom.row(), bottom.column())
        )
    )
    inserted: list[Any] = []
    model.rowsInserted.connect(lambda *a: inserted.append(a))
    row = model.row_of("p-reserved")
    assert row is not None
    old = model.tracked_at(row)
    assert old.payment is not None
    aggregate = replace(old.payment.aggregate, captured=Money(4000, old.payment.currency))
    at = T0 + timedelta(hours=9)
    captured = replace(old, payment=replace(old.payment, aggregate=aggregate), fetched_at=at)
    feed.publish(PaymentChanged(captured, T0 + timedelta(hours=9), "operation"))
    assert changed == [(row, 0, row, model.columnCount() - 1)]
    assert not inserted
    after = cells(model)
    assert [r for r in range(len(before)) if before[r] != after[r]] == [row]
    assert model.tracked("p-reserved") is captured
    assert model.index(row, Column.STATE).data(PaymentRoles.BUSINESS_STATE) == "partly captured"


def test_a_read_older_than_the_loaded_snapshot_is_not_shown(store: Store) -> None:
    varied(store, mixed=False)
    feed = ChangeFeed()
    model = PaymentsModel(locale=QLocale.c())
    ChangesAdapter(model).attach(feed)
    feed.publish(ListLoaded(store.register.listed(MSN)))
    row = model.row_of("p-reserved")
    assert row is not None
    loaded = model.tracked_at(row)
    assert loaded.fetched_at is not None
    stale = replace(loaded, description="asked for before the snapshot shown was read")
    feed.publish(PaymentChanged(stale, loaded.fetched_at - timedelta(seconds=1), "refresh"))
    assert model.tracked("p-reserved") == loaded


def test_a_list_read_again_updates_the_known_rows_and_adds_the_new_ones(store: Store) -> None:
    varied(store, mixed=False)
    feed = ChangeFeed()
    model = PaymentsModel(locale=QLocale.c())
    ChangesAdapter(model).attach(feed)
    first = store.register.listed(MSN, first=3)
    feed.publish(ListLoaded(first))
    store.db.write(
        "test",
        lambda c: c.execute(
            "UPDATE payments SET description = 'Renamed' WHERE reference = ?", (first.references[0],)
        ),
    )
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _p, a, b: inserted.append((a, b)))
    again = store.register.listed(MSN)
    feed.publish(ListLoaded(again))
    assert inserted == [(3, len(again) - 1)]
    assert model.references() == again.references
    assert model.tracked_at(0).description == "Renamed"


@pytest.mark.parametrize(
    "cells_sql",
    [
        "amount = 'many', payment_json = 'not json'",
        "created_at = 'yesterday'",
        "currency = 'XYZ', payment_json = '{\"reference\": 1}'",
    ],
)
def test_a_damaged_row_is_shown_with_its_reason_beside_the_others(
    store: Store, qtbot: Any, cells_sql: str
) -> None:
    references = varied(store, mixed=False)
    store.db.write(
        "test", lambda c: c.execute(f"UPDATE payments SET {cells_sql} WHERE reference = 'p-reserved'")
    )
    model = PaymentsModel(locale=QLocale.c())
    model.set_listed(store.register.listed(MSN))
    assert sorted(model.references()) == sorted(references)
    row = model.row_of("p-reserved")
    assert row is not None
    tip = model.data(model.index(row, Column.UPDATED), Qt.ItemDataRole.ToolTipRole)
    assert "could not be read" in tip
    assert model.index(row, 0).data(PaymentRoles.STALE)  # drawn as possibly out of date
    view = RegisterView("Loading…")
    qtbot.addWidget(view)
    view.show_model(model)
    view.show_table()
    view.resize(1200, 400)
    view.show()
    assert not view.grab().isNull()  # every row painted, the damaged one too
    assert view.table is not None
    for other in references:
        if other != "p-reserved":
            other_row = model.row_of(other)
            assert other_row is not None
            assert model.tracked_at(other_row) == from_snapshot(store, other)


def test_rows_of_the_model_never_take_a_row_index_from_before_a_removal(store: Store) -> None:
    varied(store, mixed=False)
    model = PaymentsModel(locale=QLocale.c())
    model.set_listed(store.register.listed(MSN))
    shown = [model.index(r, 0).data() for r in range(model.rowCount())]
    model.remove_payments([model.references()[1]])
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == shown[:1] + shown[2:]
    assert model.index(0, 0).parent() == QModelIndex()
