"""The payments model and its filter proxy: Qt's model tester, updates by reference, filter, sort."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from PySide6.QtCore import QLocale, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from epay_desktop.domain import State
from epay_desktop.domain.breakdown import AmountBreakdown
from epay_desktop.ui.table.marks import RUNS_ANNOUNCED
from epay_desktop.ui.table.model import (
    COLUMN_COUNT,
    NO_VALUE,
    STYLE_ROLES,
    Column,
    PaymentRoles,
    PaymentsModel,
    describe_age,
)
from epay_desktop.ui.table.proxy import PaymentsFilterModel
from tests.ui.factories import T0, tracked

C_LOCALE = QLocale.c()


def sample() -> list:
    return [
        tracked("order-000001", "Coffee beans", amount=10_000, minutes=3),
        tracked("order-000002", "Espresso machine", amount=250_000, captured=250_000, minutes=1),
        tracked("order-000003", "Mugs", amount=5_000, state=State.CREATED, minutes=2),
        tracked("order-000004", "Filter papers", fetched=False),
        tracked("order-000005", "Grinder", amount=99_00, state=State.UNKNOWN, raw_state="PAUSED", minutes=4),
        tracked("order-000006", "Cups", amount=1_000, state=State.TERMINATED, minutes=5),
    ]


@pytest.fixture
def models(qapp: Any) -> tuple[PaymentsModel, PaymentsFilterModel]:
    model = PaymentsModel(locale=C_LOCALE)
    model.set_payments(sample())
    proxy = PaymentsFilterModel()
    proxy.setSourceModel(model)
    return model, proxy


def test_model_passes_qt_model_tester(qtmodeltester: Any, models: tuple) -> None:
    model, proxy = models
    # Qt's own C++ tester: the Python one reads empty QVariants through QModelIndex.data(), which
    # PySide6 6.12 answers with an unowned None (see PaymentRoles).
    qtmodeltester.check(model)
    qtmodeltester.check(proxy)


def test_rows_are_flat_and_show_payment_columns(models: tuple) -> None:
    model, _ = models
    assert model.rowCount() == 6
    assert model.rowCount(model.index(0, 0)) == 0
    assert model.columnCount() == len(Column)
    row = [model.index(1, c).data() for c in range(len(Column))]
    assert row[Column.REFERENCE] == "order-000002"
    assert row[Column.STATE] == "Captured"  # the business state; the API says AUTHORIZED (details)
    assert row[Column.AMOUNT] == "2500.00\u00a0NOK"
    assert row[Column.AGGREGATE] == "100% captured"
    assert model.index(3, Column.STATE).data() == "Not fetched"
    assert model.index(3, Column.AMOUNT).data() == ""
    assert model.index(3, Column.AGGREGATE).data(PaymentRoles.AGGREGATE) == NO_VALUE
    assert model.index(3, Column.STATE).data(PaymentRoles.STATE) == NO_VALUE
    assert model.index(4, Column.STATE).data() == "PAUSED"
    assert model.index(4, Column.STATE).data(PaymentRoles.STATE) == State.UNKNOWN


def test_aggregate_role_and_tooltip_give_exact_figures(models: tuple) -> None:
    model, _ = models
    parts = model.index(0, Column.AGGREGATE).data(PaymentRoles.AGGREGATE)
    assert isinstance(parts, AmountBreakdown)
    assert parts.reserved.value == 10_000
    tip = model.index(0, Column.AGGREGATE).data(Qt.ItemDataRole.ToolTipRole)
    assert "Amount: 100.00\u00a0NOK" in tip
    assert "Reserved: 100.00\u00a0NOK" in tip
    assert "Captured: 0.00\u00a0NOK" in tip


def test_update_by_reference_announces_each_run_of_changed_rows(models: tuple, qtbot: Any) -> None:
    # The rows between two changed ones are not announced: their kept pixels stay good, and the view
    # does not paint them again.
    model, _ = models
    seen: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, _roles: seen.append((a.row(), b.row())))
    model.update_payments(
        [
            tracked("order-000002", "Espresso machine", amount=250_000, captured=250_000, refunded=1),
            tracked("order-000005", "Grinder", amount=99_00, state=State.TERMINATED),
            tracked("order-000004", "Filter", amount=1_500, state=State.TERMINATED),
        ]
    )
    assert seen == [(1, 1), (3, 4)]
    assert model.index(4, Column.STATE).data() == "Terminated"
    assert model.index(3, Column.STATE).data() == "Terminated"


def test_changed_rows_in_many_runs_are_announced_as_one_range(qtbot: Any) -> None:
    model = PaymentsModel()
    references = [f"order-{n:06d}" for n in range(40)]
    model.set_payments([tracked(reference, "Coffee") for reference in references])
    seen: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(lambda a, b, _roles: seen.append((a.row(), a.column(), b.row(), b.column())))
    every_other = references[::2]  # 20 runs of one row
    model.update_payments([tracked(reference, "Tea", state=State.TERMINATED) for reference in every_other])
    assert seen == [(0, 0, 38, COLUMN_COUNT - 1)]
    assert all(model.tracked(reference).description == "Tea" for reference in every_other)
    seen.clear()
    model.set_busy_many(references[: RUNS_ANNOUNCED * 2 : 2], True)  # as many runs as are announced
    state = int(Column.STATE)
    assert seen == [(row, state, row, state) for row in range(0, RUNS_ANNOUNCED * 2, 2)]


def test_update_of_an_unknown_reference_appends_a_row(models: tuple) -> None:
    model, proxy = models
    model.update_payment(tracked("order-000099", "New one"))
    assert model.rowCount() == 7
    assert proxy.rowCount() == 7
    assert model.row_of("order-000099") == 6


def test_many_unknown_references_are_appended_with_everything_the_filters_read(models: tuple) -> None:
    model, proxy = models
    proxy.set_text("coffee")  # the search's haystacks exist before the rows arrive
    model.update_payments(
        [
            tracked("order-000007", "Decaf coffee", amount=4_000, state=State.CREATED),
            tracked("order-000008", "Tea", fetched=False),
            tracked("order-000009", "Coffee filter", amount=2_000, state=State.TERMINATED),
        ]
    )
    assert model.rowCount() == 9
    assert [model.row_of(f"order-00000{n}") for n in (7, 8, 9)] == [6, 7, 8]
    assert model.tracked("order-000008") is model.tracked_at(7)
    assert {proxy.tracked_at(r).reference for r in range(proxy.rowCount())} == {
        "order-000001",
        "order-000007",
        "order-000009",
    }
    proxy.set_text("")
    proxy.set_states({None})
    assert [proxy.tracked_at(r).reference for r in range(proxy.rowCount())] == [
        "order-000004",
        "order-000008",
    ]
    assert model.rows_in_states({State.CREATED}) == [2, 6]
    assert model.kind_counts([6, 7, 8]) == Counter(model.tracked_at(r).kind for r in (6, 7, 8))
    assert model.index(8, Column.DESCRIPTION).data() == "Coffee filter"


def test_busy_marks_the_row(models: tuple) -> None:
    model, _ = models
    model.set_busy("order-000001", True)
    index = model.index(0, Column.STATE)
    assert index.data(PaymentRoles.BUSY) is True
    assert "working" in index.data()
    model.set_busy("order-000001", False)
    assert index.data(PaymentRoles.BUSY) is False
    assert index.data() == "Reserved"


def test_busy_marks_pending_and_colleagues_announce_the_state_cells_only(models: tuple) -> None:
    # What they change is the State cell (its text and its badge's outline): the view repaints those
    # cells, not whole rows of bars and badges, while a batch marks fifty rows busy and back.
    model, _ = models
    changed: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles=None: changed.append(
            (top.row(), top.column(), bottom.row(), bottom.column())
        )
    )
    references = [model.tracked_at(row).reference for row in range(model.rowCount())]
    model.set_busy_many(references[1:4], True)
    model.set_busy(references[0], True)
    model.set_pending({references[2]: "capture"})
    model.set_colleague(references[5], "kari is cancelling")
    state = int(Column.STATE)
    assert changed == [(1, state, 3, state), (0, state, 0, state), (2, state, 2, state), (5, state, 5, state)]
    assert "working" in model.index(1, Column.STATE).data()
    assert "kari is cancelling" in model.index(5, Column.STATE).data()
    model.set_busy_many(references[1:4], False)
    assert changed[-1] == (1, state, 3, state)
    assert "working" not in model.index(1, Column.STATE).data()


def test_filter_by_text_matches_reference_and_description_case_insensitively(models: tuple) -> None:
    _, proxy = models
    proxy.set_text("ESPRESSO")
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["order-000002"]
    proxy.set_text("000003")
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["order-000003"]
    proxy.set_text("")
    assert proxy.rowCount() == 6


def test_filter_by_state_includes_not_fetched_when_asked(models: tuple) -> None:
    _, proxy = models
    proxy.set_states({State.AUTHORIZED})
    assert proxy.rowCount() == 2
    proxy.set_states({None})
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["order-000004"]
    proxy.set_text("nothing matches this")
    proxy.set_states(None)
    assert proxy.rowCount() == 0


def test_filter_follows_updates(models: tuple) -> None:
    model, proxy = models
    proxy.set_states({State.TERMINATED})
    assert proxy.rowCount() == 1
    model.update_payment(tracked("order-000001", "Coffee beans", amount=10_000, state=State.TERMINATED))
    assert proxy.rowCount() == 2


def test_text_search_follows_updates_sorts_and_removals_before_and_after_the_first_search(
    models: tuple,
) -> None:
    """The search text of each row is built on the first search; every change before and after it
    is searched the same."""
    model, proxy = models
    model.update_payment(tracked("order-000001", "Decaf beans", amount=10_000))  # before any search
    model.sort(Column.AMOUNT, Qt.SortOrder.DescendingOrder)
    proxy.set_text("decaf")
    assert [proxy.tracked_at(r).reference for r in range(proxy.rowCount())] == ["order-000001"]
    model.update_payment(tracked("order-000002", "Decaf machine", amount=250_000))  # after it
    model.update_payment(tracked("order-000099", "More decaf", amount=1_000))  # a new row
    model.remove_payments(["order-000001"])
    model.sort(Column.REFERENCE, Qt.SortOrder.AscendingOrder)
    proxy.set_text("")
    proxy.set_text("decaf")
    found = sorted(proxy.tracked_at(r).reference for r in range(proxy.rowCount()))
    assert found == ["order-000002", "order-000099"]
    proxy.set_text("2500.00")  # the amount as people type it
    assert [proxy.tracked_at(r).reference for r in range(proxy.rowCount())] == ["order-000002"]


def test_rows_put_back_are_moved_to_their_places_with_what_the_filters_and_the_selection_read(
    models: tuple, qtmodeltester: Any, qtbot: Any
) -> None:
    """Undo remove: the rows come back at the end (``update_payments``) and are moved to the rows they
    were at; the filter's rows, the search text, the state counts, each row's cells and persistent
    indexes (the view's selection, of the model and of the filter) follow them."""
    model, proxy = models
    before = model.references()
    proxy.set_text("o")  # the search texts are built and must move with their rows
    held = model.payments()[1], model.payments()[3]
    model.remove_payments([held[0].reference, held[1].reference])
    selected = QPersistentModelIndex(model.index(model.row_of("order-000006"), 0))
    shown = QPersistentModelIndex(proxy.index(1, 0))
    shown_reference = proxy.tracked_at(1).reference
    model.update_payments(held)
    assert model.references()[-2:] == [held[0].reference, held[1].reference]  # at the end first
    # The view is told by the filter (its cells' kept pixels and its rows are dropped and painted anew).
    with qtbot.waitSignal(proxy.layoutChanged, timeout=1000):
        model.move_rows_to({held[1].reference: 3, held[0].reference: 1, "never-listed": 0})
    assert model.references() == before
    assert [proxy.tracked_at(r).reference for r in range(proxy.rowCount())] == before
    assert [proxy.index(r, Column.REFERENCE).data() for r in range(proxy.rowCount())] == before
    assert selected.row() == model.row_of("order-000006")
    assert proxy.tracked_at(shown.row()).reference == shown_reference
    for row, payment in enumerate(sample()):
        assert model.index(row, Column.REFERENCE).data() == payment.reference
        assert model.kind_at(row) is payment.kind
    proxy.set_text("espresso")
    assert [proxy.tracked_at(r).reference for r in range(proxy.rowCount())] == ["order-000002"]
    assert model.kind_counts() == Counter(p.kind for p in sample())
    model.move_rows_to({"order-000001": 99})  # kept within the list: the last row
    assert model.references()[-1] == "order-000001"
    qtmodeltester.check(model)


@pytest.mark.parametrize(
    ("column", "expected_first"),
    [
        (Column.AMOUNT, "order-000004"),  # not fetched: no amount sorts first
        (Column.CREATED, "order-000004"),  # created first
        (Column.REFERENCE, "order-000001"),
    ],
)
def test_sort_by_column_orders_by_sort_key(models: tuple, column: Column, expected_first: str) -> None:
    _, proxy = models
    proxy.sort(column, Qt.SortOrder.AscendingOrder)
    assert proxy.index(0, 0).data() == expected_first
    proxy.sort(column, Qt.SortOrder.DescendingOrder)
    assert proxy.index(proxy.rowCount() - 1, 0).data() == expected_first


def test_amount_sort_is_numeric_not_textual(models: tuple) -> None:
    _, proxy = models
    proxy.sort(Column.AMOUNT)
    amounts = [
        proxy.index(r, Column.AMOUNT).data(PaymentRoles.TRACKED).payment for r in range(proxy.rowCount())
    ]
    values = [p.amount.value for p in amounts if p is not None]
    assert values == sorted(values)
    assert values[0] == 1_000  # 10.00 NOK before 100.00 and 99.00 (by integer value, not by text)


def test_sort_keeps_persistent_indexes_on_their_rows(models: tuple) -> None:
    model, proxy = models
    held = QPersistentModelIndex(proxy.index(proxy.proxy_row_of("order-000005"), 0))
    proxy.sort(Column.AMOUNT, Qt.SortOrder.DescendingOrder)
    assert held.isValid()
    assert held.data() == "order-000005"
    assert model.row_of("order-000005") == held.row()


def test_kind_counts(models: tuple) -> None:
    model, proxy = models
    counts = model.kind_counts()
    assert sum(counts.values()) == model.rowCount()
    assert counts[None] == 1
    assert counts == Counter(t.kind for t in model.payments())
    # The proxy counts what it shows: the search and the state filter both narrow it.
    assert proxy.shown_kind_counts() == counts
    proxy.set_states({None})
    assert proxy.shown_kind_counts() == Counter({None: 1})
    proxy.set_states(None)
    proxy.set_text("order-000005")
    assert proxy.shown_kind_counts() == Counter({model.payments()[model.row_of("order-000005")].kind: 1})


def test_invalid_index_gives_nothing(models: tuple) -> None:
    model, _ = models
    assert model.data(QModelIndex()) is None
    assert model.flags(QModelIndex()) == Qt.ItemFlag.NoItemFlags


def test_custom_roles_never_answer_none(models: tuple) -> None:
    """Guards the PySide6 workaround: reading None back through QModelIndex.data() leaks a reference."""
    import sys

    model, _ = models
    before = sys.getrefcount(None)
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            for role in PaymentRoles:
                assert model.data(model.index(row, column), role) is not None
                model.index(row, column).data(role)
    assert sys.getrefcount(None) >= before - 5


# --- stale rows ---------------------------------------------------------------------------------------
# sample(): row i was fetched at T0 + (minutes + 2) min; order-000004 never; order-000006 is TERMINATED.
FRESH_NOW = T0 + timedelta(minutes=7)  # every fetched row within 5 minutes (the oldest at T0 + 3 min)


def stale_rows(model: PaymentsModel) -> list[str]:
    return [
        model.index(r, 0).data(PaymentRoles.REFERENCE)
        for r in range(model.rowCount())
        if model.index(r, 0).data(PaymentRoles.STALE)
    ]


def test_stale_rows_are_italic_and_muted_and_fresh_ones_are_not(models: tuple) -> None:
    model, _ = models
    model.set_now(FRESH_NOW)
    assert stale_rows(model) == ["order-000004"]  # never fetched
    model.set_now(T0 + timedelta(hours=3))
    # Everything is old now, but order-000006 is TERMINATED: its figures are final, not stale.
    assert stale_rows(model) == [f"order-00000{i}" for i in (1, 2, 3, 4, 5)]
    muted = QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)
    for column in Column:
        font = model.data(model.index(0, column), Qt.ItemDataRole.FontRole)
        assert font.italic()
        assert model.data(model.index(0, column), Qt.ItemDataRole.ForegroundRole) == muted
        # Read through Python directly: an empty QVariant read via QModelIndex.data() leaks None.
        assert model.data(model.index(5, column), Qt.ItemDataRole.FontRole) is None
        assert model.data(model.index(5, column), Qt.ItemDataRole.ForegroundRole) is None


def test_a_failed_refresh_marks_a_fresh_row(models: tuple) -> None:
    model, _ = models
    model.set_now(FRESH_NOW)
    row = model.tracked("order-000002")
    assert row is not None
    model.update_payment(replace(row, fetch_error="Could not reach the API: connection refused"))
    assert stale_rows(model) == ["order-000002", "order-000004"]


def test_delegate_draws_a_stale_row_italic_in_the_palettes_muted_colour(models: tuple) -> None:
    model, _ = models
    model.set_now(T0 + timedelta(hours=3))
    delegate = QStyledItemDelegate()
    option = QStyleOptionViewItem()
    delegate.initStyleOption(option, model.index(0, Column.REFERENCE))
    assert option.font.italic()
    muted = QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)
    assert option.palette.color(QPalette.ColorRole.Text) == muted
    fresh = QStyleOptionViewItem()
    delegate.initStyleOption(fresh, model.index(5, Column.REFERENCE))
    assert not fresh.font.italic()
    assert fresh.palette.color(QPalette.ColorRole.Text) != muted


def test_last_updated_tooltip_says_when_fetched_and_why_it_is_stale(models: tuple) -> None:
    model, _ = models
    model.set_now(T0 + timedelta(hours=3, minutes=5))  # order-000001 was fetched at T0 + 5 min
    tip = lambda r: model.index(r, Column.UPDATED).data(Qt.ItemDataRole.ToolTipRole)  # noqa: E731
    assert tip(0) == "Fetched 3 h ago"
    assert tip(3) == "Not fetched yet"
    row = model.tracked("order-000001")
    assert row is not None
    model.update_payment(replace(row, fetch_error="Could not reach the API"))
    assert tip(0) == "Fetched 3 h ago; could not refresh: Could not reach the API"


def test_describe_age() -> None:
    assert describe_age(timedelta(seconds=2)) == "just now"
    assert describe_age(timedelta(seconds=40)) == "40 s ago"
    assert describe_age(timedelta(minutes=12, seconds=59)) == "12 min ago"
    assert describe_age(timedelta(hours=47)) == "47 h ago"
    assert describe_age(timedelta(days=9)) == "9 days ago"


def test_set_now_announces_only_rows_whose_mark_changed(qapp: Any) -> None:
    model = PaymentsModel(locale=C_LOCALE)
    model.set_payments(sample())
    changes: list[tuple[int, int, list[int]]] = []
    model.dataChanged.connect(lambda a, b, roles: changes.append((a.row(), b.row(), list(roles))))
    model.set_now(FRESH_NOW)  # from "now" (years later) back to T0: rows 0, 1, 2, 4 turn fresh
    assert changes == [(0, 4, STYLE_ROLES)]
    changes.clear()
    model.set_now(FRESH_NOW + timedelta(seconds=10))  # nobody crosses the 5-minute line
    assert changes == []
    model.set_now(T0 + timedelta(minutes=3 + 5, seconds=30))  # only order-000002 (fetched T0+3) turns stale
    assert changes == [(1, 1, STYLE_ROLES)]


def test_through_the_proxy_a_new_mark_repaints_without_re_filtering(
    models: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, proxy = models
    proxy.set_states({State.AUTHORIZED, State.CREATED})
    calls: list[int] = []
    real = PaymentsFilterModel.filterAcceptsRow
    monkeypatch.setattr(
        PaymentsFilterModel, "filterAcceptsRow", lambda self, r, p: calls.append(r) or real(self, r, p)
    )
    repainted: list[tuple[int, int]] = []
    proxy.dataChanged.connect(lambda a, b, _roles: repainted.append((a.row(), b.row())))
    model.set_now(FRESH_NOW)
    assert calls == []
    assert repainted == [(0, proxy.rowCount() - 1)]
    assert proxy.index(0, 0).data(PaymentRoles.STALE) is False
