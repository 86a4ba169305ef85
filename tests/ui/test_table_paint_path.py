"""What a paint reads: a row's texts and looks kept per row and worked out again exactly when the row
changes; a cell's roles through the filter the same as the source's; the filter following the
source's changes (rows joining and leaving it, inserts, removals, sorting) with the selection kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QItemSelectionModel, QLocale, QPersistentModelIndex, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from epay_desktop.domain import BusinessState, State
from epay_desktop.ui.table import model as model_module
from epay_desktop.ui.table.cells import RowLooks
from epay_desktop.ui.table.model import Column, PaymentRoles, PaymentsModel
from epay_desktop.ui.table.proxy import PaymentsFilterModel
from tests.ui.factories import T0, tracked

FRESH = T0 + timedelta(minutes=3)


def rows() -> list:
    return [
        tracked("order-000001", "Coffee beans", amount=10_000, minutes=3),
        tracked("order-000002", "Espresso machine", amount=250_000, captured=250_000, minutes=1),
        tracked("order-000003", "Mugs", amount=5_000, state=State.CREATED, minutes=2),
        tracked("order-000004", "Filter papers", fetched=False),
        tracked("order-000005", "Coffee grinder", amount=9_900, minutes=4),
        tracked("order-000006", "Cups", amount=1_000, state=State.TERMINATED, minutes=5),
    ]


@pytest.fixture
def models(qapp: Any) -> tuple[PaymentsModel, PaymentsFilterModel]:
    model = PaymentsModel(locale=QLocale.c())
    model.set_payments(rows())
    model.set_now(FRESH)
    proxy = PaymentsFilterModel()
    proxy.setSourceModel(model)
    return model, proxy


def looks(model: Any, row: int) -> RowLooks:
    value = model.index(row, Column.STATE).data(PaymentRoles.LOOKS)
    assert isinstance(value, RowLooks)
    return value


def shown(proxy: PaymentsFilterModel) -> list[str]:
    return [proxy.index(r, Column.REFERENCE).data() for r in range(proxy.rowCount())]


def test_a_rows_looks_and_texts_are_worked_out_again_when_the_row_changes(models: tuple) -> None:
    model, _ = models
    row = model.row_of("order-000001")
    before = looks(model, row)
    assert (before.kind, before.busy, before.stale) == (BusinessState.RESERVED.value, False, False)
    assert [name for name, _start, _width in before.shares] == ["reserved"]
    assert model.index(row, Column.AGGREGATE).data() == "100% reserved"
    assert looks(model, row) is before  # kept: read again without being worked out
    old = model.tracked("order-000001")
    model.update_payment(replace(old, payment=replace(old.payment, state=State.TERMINATED)))
    after = looks(model, row)
    assert after.state == State.TERMINATED.value
    assert after is not before
    espresso = model.row_of("order-000002")
    assert [name for name, _start, _width in looks(model, espresso).shares] == ["captured"]
    assert model.index(espresso, Column.AGGREGATE).data() == "100% captured"
    model.update_payment(tracked("order-000002", "Espresso machine", amount=250_000, minutes=1))
    bar = looks(model, espresso)
    assert [name for name, _start, _width in bar.shares] == ["reserved"]
    assert model.index(model.row_of("order-000002"), Column.AGGREGATE).data() == "100% reserved"


def test_a_busy_mark_changes_the_state_cell_and_badge_without_rebuilding_the_rows_texts(
    models: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, _ = models
    references = ["order-000001", "order-000005"]
    texts = {r: [model.index(model.row_of(r), c).data() for c in Column] for r in references}
    built: list[str] = []
    real = model_module.display_row
    monkeypatch.setattr(
        model_module, "display_row", lambda t, *a, **k: built.append(t.reference) or real(t, *a, **k)
    )
    model.set_busy_many(references, True)
    for reference in references:
        row = model.row_of(reference)
        assert looks(model, row).busy
        assert model.index(row, Column.STATE).data() == "Reserved (working…)"
        assert model.index(row, Column.AMOUNT).data() == texts[reference][Column.AMOUNT]
    model.set_pending({"order-000005": "cancel"})
    assert model.index(model.row_of("order-000005"), Column.STATE).data() == (
        "Cancel pending: outcome unknown (working…)"
    )
    model.set_busy_many(references, False)
    model.set_pending({})
    assert [model.index(model.row_of("order-000001"), c).data() for c in Column] == texts["order-000001"]
    assert not looks(model, model.row_of("order-000001")).busy
    assert built == []


def test_the_lapse_warning_and_stale_mark_follow_the_models_now(models: tuple) -> None:
    model, _ = models
    assert not looks(model, 0).stale
    model.set_now(T0 + timedelta(hours=3))
    assert looks(model, 0).stale
    model.set_now(FRESH)
    assert not looks(model, 0).stale


def paint_option(
    model: Any, row: int, column: int, delegate: QStyledItemDelegate | None = None
) -> tuple[Any, ...]:
    option = QStyleOptionViewItem()
    (delegate or QStyledItemDelegate()).initStyleOption(option, model.index(row, column))
    return (
        option.text,
        option.font.italic(),
        int(option.displayAlignment),
        option.palette.color(QPalette.ColorRole.Text).name(),
        option.icon.isNull(),
    )


def test_a_cells_roles_through_the_filter_are_the_sources_in_any_order_of_cells(models: tuple) -> None:
    model, proxy = models
    model.set_now(T0 + timedelta(hours=3))  # some rows stale: italic and muted, the others not
    cells = [(row, column) for row in range(model.rowCount()) for column in Column]
    expected = {cell: paint_option(model, *cell) for cell in cells}
    assert any(e[1] for e in expected.values())
    assert not all(e[1] for e in expected.values())
    # One cell's roles never leak into the next one's (a stale cell, then a fresh one, and back), as
    # when one delegate paints cell after cell.
    delegate = QStyledItemDelegate()
    for cell in [*cells, *reversed(cells)]:
        assert paint_option(proxy, *cell, delegate) == expected[cell]
        assert paint_option(model, *cell, delegate) == expected[cell]


def test_the_filter_follows_the_rows_as_they_change(qtmodeltester: Any, models: tuple) -> None:
    model, proxy = models
    qtmodeltester.check(proxy)
    proxy.set_states({State.AUTHORIZED})
    assert shown(proxy) == ["order-000001", "order-000002", "order-000005"]
    old = model.tracked("order-000002")
    model.update_payment(replace(old, payment=replace(old.payment, state=State.TERMINATED)))
    assert shown(proxy) == ["order-000001", "order-000005"]
    model.update_payment(old)
    assert shown(proxy) == ["order-000001", "order-000002", "order-000005"]
    model.update_payments(
        [tracked("order-000007", "Saucers", amount=3_000), tracked("order-000008", "Tea", fetched=False)]
    )
    assert shown(proxy) == ["order-000001", "order-000002", "order-000005", "order-000007"]
    model.remove_payments(["order-000002", "order-000003"])
    assert shown(proxy) == ["order-000001", "order-000005", "order-000007"]
    proxy.sort(Column.REFERENCE, Qt.SortOrder.DescendingOrder)
    assert shown(proxy) == ["order-000007", "order-000005", "order-000001"]
    proxy.set_text("coffee")
    assert shown(proxy) == ["order-000005", "order-000001"]
    proxy.set_states(None)
    proxy.set_text("")
    assert shown(proxy) == [f"order-00000{n}" for n in (8, 7, 6, 5, 4, 1)]
    assert proxy.proxy_row_of("order-000004") == 4
    assert proxy.tracked_at(4).reference == "order-000004"


def test_the_selection_stays_on_its_rows_through_filtering_sorting_and_changes(models: tuple) -> None:
    model, proxy = models
    selection = QItemSelectionModel(proxy)
    for reference in ("order-000001", "order-000005"):
        selection.select(
            proxy.index(proxy.proxy_row_of(reference), 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
    current = QPersistentModelIndex(proxy.index(proxy.proxy_row_of("order-000005"), 0))

    def selected() -> list[str]:
        return sorted(i.data() for i in selection.selectedRows())

    proxy.set_text("coffee")
    assert selected() == ["order-000001", "order-000005"]
    proxy.sort(Column.AMOUNT, Qt.SortOrder.AscendingOrder)
    assert selected() == ["order-000001", "order-000005"]
    proxy.set_text("grinder")
    assert selected() == ["order-000005"]
    model.update_payment(replace(model.tracked("order-000005"), description="Coffee grinder, burr"))
    proxy.set_text("")
    assert selected() == ["order-000005"]
    assert current.isValid()
    assert current.data() == "order-000005"
    assert current.row() == proxy.proxy_row_of("order-000005")


def test_clearing_a_search_inserts_the_hidden_rows_in_runs(qapp: Any) -> None:
    model = PaymentsModel(locale=QLocale.c())
    words = ["Tea"] * 1_000 + ["Coffee"] * 1_000 + ["Tea"] * 10 + ["Coffee"] * 5
    model.set_payments([tracked(f"order-{i:06d}", word) for i, word in enumerate(words)])
    proxy = PaymentsFilterModel()
    proxy.setSourceModel(model)
    proxy.set_text("coffee")
    assert proxy.rowCount() == 1_005
    inserts: list[tuple[int, int]] = []
    proxy.rowsInserted.connect(lambda _p, first, last: inserts.append((first, last)))
    proxy.set_text("")
    assert proxy.rowCount() == 2_015
    assert inserts == [(0, 999), (2_000, 2_009)]
    assert shown(proxy) == [f"order-{i:06d}" for i in range(2_015)]


def test_the_cells_text_and_looks_read_directly_are_what_their_roles_say(models: tuple) -> None:
    """The delegates and the kept pixels read a cell's text and looks from the proxy in one call (no
    ``data()`` round trip): the same values as the roles, through a filter and with a busy mark."""
    model, proxy = models
    proxy.set_text("coffee")
    model.set_busy("order-000005", True)
    assert proxy.rowCount() == 2
    for row in range(proxy.rowCount()):
        for column in (Column.REFERENCE, Column.STATE, Column.AGGREGATE):
            index = proxy.index(row, column)
            text, direct = proxy.text_and_looks_at(row, column)
            assert text == index.data(Qt.ItemDataRole.DisplayRole)
            assert direct == index.data(PaymentRoles.LOOKS) == proxy.looks_at(row)
    busy_row = proxy.proxy_row_of("order-000005")
    assert busy_row is not None
    assert proxy.looks_at(busy_row).busy


def test_reading_a_rows_looks_directly_tells_that_the_rows_are_painted(models: tuple) -> None:
    """The start-up waits for the table to paint its rows (``when_painted``): a paint that only copies
    kept pixels reads the looks directly, and that read tells it too."""
    model, proxy = models
    told: list[bool] = []
    model.when_painted(lambda: told.append(True))
    proxy.looks_at(0)
    QCoreApplication.processEvents()
    assert told == [True]
