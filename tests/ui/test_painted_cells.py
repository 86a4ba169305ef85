"""The table's kept pixels (``ui/table/painted.py``): a repaint with nothing changed copies every cell; a
copy is the same pixels as a direct paint; every change the model announces (a row's data, a busy
mark, the clock, a sort, a filter) and a change of palette paints the cells it touched again."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, QLocale, QRect, Qt
from PySide6.QtGui import QFont, QImage, QPainter, QPalette
from PySide6.QtWidgets import QDialog, QStyle, QStyleOptionViewItem

from epay_desktop.domain import State
from epay_desktop.ui.table.delegates import CellDelegate
from epay_desktop.ui.table.model import Column, PaymentsModel
from epay_desktop.ui.table.painted import PaintedCells
from epay_desktop.ui.table.view import RegisterView
from epay_desktop.ui.theme import dark_palette
from tests.ui.factories import T0, tracked
from tests.ui.register_views import shown_view

FRESH = T0 + timedelta(minutes=3)


def rows() -> list[Any]:
    return [
        tracked("order-000001", "Coffee beans", amount=10_000, minutes=3),
        tracked("order-000002", "Espresso machine", amount=250_000, captured=250_000, minutes=1),
        tracked("order-000003", "Mugs", amount=5_000, state=State.CREATED, minutes=2),
        tracked("order-000004", "Filter papers", fetched=False),
        tracked("order-000005", "Coffee grinder", amount=9_900, captured=4_000, minutes=4),
        tracked("order-000006", "Cups", amount=1_000, state=State.TERMINATED, minutes=5),
        tracked("order-000007", "Milk jug", amount=2_500, refunded=0, minutes=6),
    ]


@pytest.fixture
def shown(qtbot: Any) -> tuple[RegisterView, PaymentsModel]:
    model = PaymentsModel(locale=QLocale.c())
    model.set_payments(rows())
    model.set_now(FRESH)
    view = shown_view(qtbot, model, 1100, 360)
    table = view.table
    assert table is not None
    # A selection of two rows, the current one with the focus: their state flags take part too.
    table.setFocus()
    table.selectRow(1)
    table.selectionModel().select(
        table.model().index(4, 0),
        QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
    )
    return view, model


def painted(view: RegisterView) -> PaintedCells:
    assert view.painted is not None
    return view.painted


def delegates(view: RegisterView) -> list[CellDelegate]:
    table = view.table
    assert table is not None
    found = [table.itemDelegate(), view.badge_delegate, view.bar_delegate]
    assert all(isinstance(d, CellDelegate) for d in found)
    return found  # type: ignore[return-value]


def grab(view: RegisterView) -> QImage:
    table = view.table
    assert table is not None
    return table.viewport().grab().toImage()


def direct(view: RegisterView) -> QImage:
    """The viewport painted with no kept pixels at all (each delegate paints, as before the cache)."""
    kept = [(d, d.cells) for d in delegates(view)]
    for d, _cells in kept:
        d.cells = None
    try:
        return grab(view)
    finally:
        for d, cells in kept:
            d.cells = cells


def copies_everything(view: RegisterView) -> QImage:
    """The viewport painted again with nothing changed: every cell must be a copy."""
    cells = painted(view)
    before = cells.painted
    image = grab(view)
    assert cells.painted == before, "a repaint with nothing changed painted cells again"
    return image


def test_a_repaint_with_nothing_changed_copies_every_cell_and_looks_the_same(shown: tuple) -> None:
    view, _model = shown
    cells = painted(view)
    first = grab(view)
    assert cells.painted >= len(rows()) * len(Column)
    copied = cells.copied
    again = copies_everything(view)
    assert cells.copied >= copied + len(rows()) * len(Column)
    assert again == first
    assert again == direct(view)


def test_a_changed_row_is_painted_anew_and_the_other_rows_are_copies(shown: tuple) -> None:
    view, model = shown
    grab(view)
    old = model.tracked("order-000003")
    before = grab(view)
    model.update_payment(replace(old, description="A different description", payment=None))
    cells = painted(view)
    count = cells.painted
    after = grab(view)
    # Only the changed row's cells were painted again.
    assert cells.painted - count == len(Column)
    assert after != before
    assert after == direct(view)
    assert copies_everything(view) == after


def test_a_busy_mark_paints_the_state_cells_again(shown: tuple) -> None:
    view, model = shown
    grab(view)
    cells = painted(view)
    count = cells.painted
    model.set_busy_many(["order-000001", "order-000005"], True)
    busy = grab(view)
    assert cells.painted - count == 2  # the two State cells
    assert busy == direct(view)
    model.set_busy_many(["order-000001", "order-000005"], False)
    assert grab(view) == direct(view)
    model.set_pending({"order-000002": "cancel"})
    assert grab(view) == direct(view)


def test_the_models_clock_moving_paints_the_rows_again(shown: tuple) -> None:
    view, model = shown
    fresh = grab(view)
    model.set_now(T0 + timedelta(hours=5))  # every fetched row is stale now
    later = grab(view)
    assert later != fresh
    assert later == direct(view)


def test_sorting_filtering_and_removing_rows_paint_what_is_shown(shown: tuple) -> None:
    view, model = shown
    table = view.table
    assert table is not None
    grab(view)
    table.sortByColumn(Column.AMOUNT, Qt.SortOrder.AscendingOrder)
    assert grab(view) == direct(view)
    view.set_filter_text("coffee")
    assert grab(view) == direct(view)
    view.set_filter_text("")
    assert grab(view) == direct(view)
    model.remove_payments(["order-000002"])
    assert grab(view) == direct(view)
    model.update_payments([tracked("order-000099", "Tea", amount=700, minutes=9)])
    assert grab(view) == direct(view)


def test_a_change_of_selection_palette_or_font_paints_with_the_new_look(shown: tuple) -> None:
    view, _model = shown
    table = view.table
    assert table is not None
    grab(view)
    table.selectRow(3)
    assert grab(view) == direct(view)
    table.clearFocus()
    assert grab(view) == direct(view)
    view.setPalette(dark_palette())
    dark = grab(view)
    assert dark == direct(view)
    assert copies_everything(view) == dark
    font = QFont(table.font())
    font.setPointSizeF(font.pointSizeF() * 1.4)
    font.setItalic(True)
    table.setFont(font)
    bigger = grab(view)
    assert bigger != dark
    assert bigger == direct(view)


def test_a_resized_column_paints_its_cells_at_the_new_size(shown: tuple) -> None:
    view, _model = shown
    table = view.table
    assert table is not None
    grab(view)
    table.setColumnWidth(Column.AMOUNT, table.columnWidth(Column.AMOUNT) + 37)
    assert grab(view) == direct(view)


def test_cells_painted_at_twice_the_pixel_ratio_match_a_direct_paint(shown: tuple) -> None:
    view, _model = shown
    table = view.table
    assert table is not None
    viewport = table.viewport()
    cells = painted(view)

    def render(use_cells: bool) -> QImage:
        image = QImage(viewport.size() * 2, QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(2)
        image.fill(Qt.GlobalColor.transparent)
        kept = [(d, d.cells) for d in delegates(view)]
        if not use_cells:
            for d, _c in kept:
                d.cells = None
        try:
            viewport.render(image)
        finally:
            for d, c in kept:
                d.cells = c
        return image

    first = render(True)
    count = cells.painted
    assert render(True) == first
    assert cells.painted == count  # copies at 2x too
    assert first == render(False)


def test_the_active_flag_is_left_out_only_when_the_palette_looks_the_same_either_way(
    shown: tuple,
) -> None:
    view, _model = shown
    table = view.table
    assert table is not None
    cells = painted(view)
    delegate = view.badge_delegate
    assert delegate is not None
    index = table.model().index(0, Column.STATE)
    palette = table.palette()
    assert palette.isEqual(QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive)

    def paint(active: bool, use_cells: bool) -> QImage:
        option = QStyleOptionViewItem()
        option.initFrom(table)
        option.rect = QRect(0, 0, 160, 36)
        option.state |= QStyle.StateFlag.State_Selected
        if active:
            option.state |= QStyle.StateFlag.State_Active
        else:
            option.state &= ~QStyle.StateFlag.State_Active
        image = QImage(160, 36, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.white)
        painter = QPainter(image)
        if use_cells:
            cells.paint(painter, option, index, delegate.paint_cell)
        else:
            delegate.paint_cell(painter, option, index)
        painter.end()
        return image

    # The assumption the cache makes: with these colour groups a cell looks the same either way.
    assert paint(True, use_cells=False) == paint(False, use_cells=False)
    cells.clear()
    paint(True, use_cells=True)
    count = cells.painted
    paint(False, use_cells=True)
    assert cells.painted == count  # a dialog taking the focus repaints from the kept pixels
    # With an Inactive group of its own the flag counts: the cell is painted again.
    different = QPalette(palette)
    different.setColor(QPalette.ColorGroup.Inactive, QPalette.ColorRole.Highlight, Qt.GlobalColor.gray)
    table.setPalette(different)
    paint(True, use_cells=True)
    count = cells.painted
    inactive = paint(False, use_cells=True)
    assert cells.painted == count + 1
    assert inactive == paint(False, use_cells=False)


def test_the_kept_pixels_stay_within_a_few_screens(shown: tuple) -> None:
    view, model = shown
    table = view.table
    assert table is not None
    cells = painted(view)
    model.update_payments(
        [tracked(f"order-{i:06d}", "Bulk", amount=100 + i, minutes=10 + i) for i in range(100, 400)]
    )
    for row in range(0, table.model().rowCount(), 5):
        table.scrollTo(table.model().index(row, 0))
        grab(view)
    viewport = table.viewport()
    screen = viewport.width() * viewport.height()
    assert cells.kept_pixels() <= 2 * screen
    assert cells.kept() > 0
    assert grab(view) == direct(view)


def test_a_change_the_model_announces_for_one_cell_drops_only_that_cell(shown: tuple) -> None:
    view, model = shown
    grab(view)
    cells = painted(view)
    kept = cells.kept()
    row = model.row_of("order-000006")
    assert row is not None
    proxy = view.proxy
    assert proxy is not None
    index = proxy.index(row, Column.AMOUNT)
    proxy.dataChanged.emit(index, index, [])
    assert cells.kept() == kept - 1


def test_a_warning_the_clock_brings_without_a_signal_is_painted(qtbot: Any) -> None:
    """The model announces stale marks as the clock moves, but a capture guarantee that starts to
    lapse changes the row's looks without a signal: its cells are painted again, the others copied."""
    lapsing = tracked("order-000011", "Kettle", amount=30_000)
    lapsing = replace(
        lapsing,
        payment=replace(lapsing.payment, capture_guaranteed_until=T0 + timedelta(days=2, minutes=3)),
    )
    model = PaymentsModel(locale=QLocale.c())
    model.set_payments([lapsing, tracked("order-000012", "Scale", amount=1_200)])
    model.set_now(T0 + timedelta(minutes=2, seconds=30))  # both fetched at T0 + 2 min: fresh
    view = shown_view(qtbot, model, 1100, 200)
    held = grab(view)
    cells = painted(view)
    count = cells.painted
    model.set_now(T0 + timedelta(minutes=4))  # still fresh; the guarantee now ends within two days
    warned = grab(view)
    assert warned != held
    assert warned == direct(view)
    assert cells.painted - count == len(Column)  # the lapsing row's cells only


def test_a_clock_that_moves_without_changing_any_mark_leaves_every_cell_a_copy(shown: tuple) -> None:
    view, model = shown
    before = grab(view)
    model.set_now(FRESH + timedelta(seconds=20))
    assert copies_everything(view) == before


def test_a_dialog_opening_over_the_table_repaints_no_cell(shown: tuple, qtbot: Any) -> None:
    """Qt's item views repaint every cell when their window is activated or deactivated; with equal
    Active and Inactive colour groups nothing there can look different, so none is painted then. A
    table with the focus loses it to the dialog and repaints, from the kept pixels but for the current
    cell (its focus frame). With an Inactive group of its own, the view repaints as Qt does."""
    view, _model = shown
    table = view.table
    assert table is not None
    cells = painted(view)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)

    def cells_while_a_dialog_opens_and_closes() -> tuple[int, int]:
        grab(view)
        qtbot.wait(50)
        painted_before, copied_before = cells.painted, cells.copied
        dialog = QDialog(view)
        dialog.setModal(True)
        dialog.open()
        qtbot.waitUntil(lambda: not view.isActiveWindow())
        qtbot.wait(50)
        dialog.reject()
        view.activateWindow()  # offscreen has no window manager to give the focus back
        qtbot.waitUntil(view.isActiveWindow)
        qtbot.wait(50)
        return cells.painted - painted_before, cells.copied - copied_before

    # Without the focus (the window gives it back to the table when it is active again, unless it
    # takes none).
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.clearFocus()
    assert cells_while_a_dialog_opens_and_closes() == (0, 0)
    table.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    table.setFocus()
    new, copied = cells_while_a_dialog_opens_and_closes()
    assert new <= 2  # the current cell, without and with its focus frame
    assert copied > 0
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.clearFocus()
    different = QPalette(table.palette())
    different.setColor(QPalette.ColorGroup.Inactive, QPalette.ColorRole.Highlight, Qt.GlobalColor.gray)
    view.setPalette(different)
    new, copied = cells_while_a_dialog_opens_and_closes()
    assert new + copied > 0


def test_cells_of_equal_content_share_one_painting_and_each_looks_as_painted_alone(qtbot: Any) -> None:
    """Fifty payments alike marked busy at once paint one State badge and copy it; alike but for their
    stale mark, they do not share (each looks as a direct paint of its own row)."""
    alike = [
        tracked(f"order-{i:06d}", f"Order {i}", amount=10_000, minutes=(0 if i % 3 else 30))
        for i in range(1, 51)
    ]
    # The same label ("60% reserved…", rounded), bars a little apart: never shared.
    alike[0] = tracked("order-000001", "Order 1", amount=10_000, captured=4_000, minutes=30)
    alike[3] = tracked("order-000004", "Order 4", amount=10_000, captured=4_040, minutes=30)
    model = PaymentsModel(locale=QLocale.c())
    model.set_payments(alike)
    row_a, row_b = model.row_of("order-000001"), model.row_of("order-000004")
    assert row_a is not None
    assert row_b is not None
    assert model.index(row_a, Column.AGGREGATE).data() == model.index(row_b, Column.AGGREGATE).data()
    # Every third row fresh, the others stale (on alternate rows and plain ones both).
    model.set_now(T0 + timedelta(minutes=33))
    view = shown_view(qtbot, model, 1100, 900)
    grab(view)
    cells = painted(view)
    count = cells.painted
    model.set_busy_many([t.reference for t in alike], True)
    busy = grab(view)
    # A badge for each look (fresh, stale; reserved, partly captured), on plain and alternate rows.
    assert cells.painted - count <= 8
    assert busy == direct(view)


def test_the_counts_follow_a_change_of_state_but_not_busy_marks(qtbot: Any) -> None:
    """The status bar's counts (``counts_changed``) are worked out again after a row's change, but not
    after marks shown in the State cell alone, which change no row's business state."""
    model = PaymentsModel(locale=QLocale.c())
    model.set_payments([tracked(f"order-{i:06d}", "Coffee", amount=1_000 + i, minutes=i) for i in range(6)])
    view = shown_view(qtbot, model, 1100, 300)
    told: list[str] = []
    view.counts_changed.connect(lambda text, _tip: told.append(text))
    qtbot.wait(20)
    told.clear()
    model.set_busy_many(["order-000001", "order-000003"], True)
    model.set_pending({"order-000002": "cancel"})
    model.set_colleague("order-000004", "kari is cancelling")
    qtbot.wait(50)
    assert told == []
    model.update_payment(tracked("order-000001", "Coffee", amount=1_001, minutes=1, captured=1_001))
    qtbot.waitUntil(lambda: len(told) == 1)
    assert "Captured: 1" in told[0]
