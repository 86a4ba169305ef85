"""The batch dialog lists its rows in steps, a step per pass of the event loop from the pass after it is
made (the first step is the first screen of them), in the plan's order, with the columns as Qt would
fit them; a result that arrives before its row is shown with it; the progress is painted with the
window, not inside each result; the list answers the keyboard and the mouse as a list filled at once
does; the flow opens a long batch once its first screen is listed. Real widgets, offscreen."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from PySide6.QtCore import QLocale, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from epay_desktop.domain import Action, Currency, Money
from epay_desktop.services.batch import BatchItem, BatchOutcome, BatchPlan, BatchResult
from epay_desktop.ui.dialogs.batch import ROWS_AT_ONCE, BatchDialog
from epay_desktop.ui.flows.batch import LISTED_BEFORE_SHOWN, BatchFlow
from tests.ui.paints import Paints

NOK = Currency.NOK
COUNT = 130
SKIPPED = {3: "The customer has not approved it yet.", 80: "An operation on this payment is running, " * 3}
LONG_REFERENCE = 100  # a reference wider than every other, listed after the first step


def plan() -> BatchPlan:
    items = []
    for i in range(COUNT):
        reference = f"order-{i:05d}" if i != LONG_REFERENCE else "a-reference-wider-than-every-other-0100"
        if i in SKIPPED:
            items.append(BatchItem(reference, None, SKIPPED[i]))
        else:
            items.append(BatchItem(reference, Money(10_00 + i * 1_01, NOK)))
    return BatchPlan(Action.CANCEL, tuple(items))


def dialog_for(qtbot: Any, batch: BatchPlan | None = None) -> BatchDialog:
    dialog = BatchDialog(batch or plan(), locale=QLocale("en_GB"))
    qtbot.addWidget(dialog)
    return dialog


def listed(dialog: BatchDialog) -> list[tuple[str, str, str]]:
    rows = dialog.rows
    return [
        tuple(rows.topLevelItem(i).text(c) for c in range(3))  # type: ignore[misc]
        for i in range(rows.topLevelItemCount())
    ]


def test_the_first_screen_of_rows_comes_in_the_next_pass_and_the_rest_follow_in_order(qtbot: Any) -> None:
    batch = plan()
    dialog = dialog_for(qtbot, batch)
    inserted: list[int] = []
    dialog.rows.model().rowsInserted.connect(lambda _parent, first, last: inserted.append(last - first + 1))
    assert dialog.rows.topLevelItemCount() == 0  # nothing formatted nor measured while it is made
    with qtbot.waitSignal(dialog.first_rows_listed, timeout=5000):
        pass
    assert dialog.first_rows_in
    assert dialog.rows.topLevelItemCount() == ROWS_AT_ONCE
    assert not dialog.rows_complete
    with qtbot.waitSignal(dialog.rows_listed, timeout=5000):
        dialog.open()
    assert dialog.rows_complete
    rows = listed(dialog)
    assert [r[0] for r in rows] == [item.reference for item in batch.items]
    assert rows[0] == ("order-00000", "Release 10.00\u00a0NOK", "")
    assert rows[3] == ("order-00003", f"Skipped: {SKIPPED[3]}", "")
    assert rows[129] == ("order-00129", "Release 140.29\u00a0NOK", "")
    # In steps: never more than a step's rows at a time.
    assert sum(inserted) == COUNT
    assert max(inserted) <= ROWS_AT_ONCE
    assert len(inserted) == math.ceil(COUNT / ROWS_AT_ONCE)


def test_a_short_plan_is_listed_whole_in_one_step(qtbot: Any) -> None:
    items = tuple(BatchItem(f"order-{i}", Money(100_00, NOK)) for i in range(3))
    dialog = dialog_for(qtbot, BatchPlan(Action.CAPTURE, items))
    with qtbot.waitSignals([dialog.first_rows_listed, dialog.rows_listed], timeout=5000):
        pass
    assert dialog.rows_complete
    assert [r[0] for r in listed(dialog)] == ["order-0", "order-1", "order-2"]
    assert listed(dialog)[0][1] == "Capture 100.00\u00a0NOK"


def test_the_columns_are_as_wide_as_qt_fits_them(qtbot: Any) -> None:
    dialog = dialog_for(qtbot)
    header = dialog.rows.header()
    with qtbot.waitSignal(dialog.first_rows_listed, timeout=5000):
        pass
    first_step = [header.sectionSize(c) for c in range(3)]
    with qtbot.waitSignal(dialog.rows_listed, timeout=5000):
        dialog.open()
    fitted = [header.sectionSize(c) for c in range(3)]
    # The wide reference and the long reason came after the first step: those columns grew.
    assert fitted[0] > first_step[0]
    assert fitted[1] > first_step[1]
    # As wide as Qt makes them measuring every cell of the whole list filled at once.
    whole = QTreeWidget()
    whole.setFont(dialog.rows.font())
    whole.setRootIsDecorated(False)
    whole.setHeaderLabels([dialog.rows.headerItem().text(c) for c in range(3)])
    whole.addTopLevelItems([QTreeWidgetItem(list(row)) for row in listed(dialog)])
    for column in range(3):
        whole.resizeColumnToContents(column)
    assert [whole.header().sectionSize(c) for c in range(3)] == fitted
    whole.deleteLater()


def test_a_result_before_its_row_is_listed_is_shown_when_it_is(qtbot: Any) -> None:
    dialog = dialog_for(qtbot)
    dialog.show_result(BatchResult("order-00001", BatchOutcome.DONE, message="Released 11.01 NOK."))
    with qtbot.waitSignal(dialog.first_rows_listed, timeout=5000):
        pass
    assert dialog.rows.topLevelItem(1).text(2) == "Done"  # came before the first step
    with qtbot.waitSignal(dialog.start_requested, timeout=1000):
        dialog.start_button.click()
    assert not dialog.rows_complete
    dialog.show_result(BatchResult("order-00120", BatchOutcome.DONE, message="Released 131.20 NOK."))
    dialog.show_result(BatchResult("order-00000", BatchOutcome.FAILED, message="Refused."))
    assert dialog.progress.value() == 3
    assert dialog.rows.topLevelItem(0).text(2) == "Failed: nothing moved"
    with qtbot.waitSignal(dialog.rows_listed, timeout=5000):
        pass
    row = dialog.rows.topLevelItem(120)
    assert row.text(0) == "order-00120"
    assert row.text(2) == "Done"
    assert row.toolTip(2) == "Released 131.20 NOK."
    assert [r[2] for r in listed(dialog)].count("") == COUNT - 3


def test_the_progress_is_painted_with_the_window_not_inside_each_result(qtbot: Any) -> None:
    dialog = dialog_for(qtbot)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.progress.isVisible())
    paints = Paints()
    dialog.progress.installEventFilter(paints)
    qtbot.wait(50)
    before = paints.count
    dialog.show_result(BatchResult("order-00001", BatchOutcome.DONE))
    assert paints.count == before  # QProgressBar.setValue alone would have painted here
    assert dialog.progress.value() == 1
    qtbot.waitUntil(lambda: paints.count > before, timeout=2000)
    assert dialog.progress.updatesEnabled()


def test_keyboard_and_mouse_reach_every_listed_row(qtbot: Any) -> None:
    batch = plan()
    dialog = dialog_for(qtbot, batch)
    with qtbot.waitSignal(dialog.rows_listed, timeout=5000):
        dialog.show()
    qtbot.waitExposed(dialog)
    rows = dialog.rows
    rows.setFocus()
    QTest.keyClick(rows, Qt.Key.Key_End)
    assert rows.currentItem().text(0) == batch.items[-1].reference
    QTest.keyClick(rows, Qt.Key.Key_Up)
    assert rows.currentItem().text(0) == batch.items[-2].reference
    QTest.keyClick(rows, Qt.Key.Key_Home)
    assert rows.currentItem().text(0) == batch.items[0].reference
    QTest.keyClick(rows, Qt.Key.Key_Down)
    assert rows.currentItem().text(0) == batch.items[1].reference
    qtbot.waitUntil(lambda: rows.verticalScrollBar().value() == 0)
    third = rows.visualItemRect(rows.topLevelItem(2)).center()
    QTest.mouseClick(rows.viewport(), Qt.MouseButton.LeftButton, pos=third)
    assert [item.text(0) for item in rows.selectedItems()] == [batch.items[2].reference]
    assert dialog.keep_button.isDefault()


def test_closing_while_rows_are_still_being_listed_stops_the_listing(qtbot: Any) -> None:
    dialog = dialog_for(qtbot)
    dialog.open()
    dialog.reject()
    assert not dialog.isVisible()
    qtbot.wait(50)  # the listing may go on for a closed dialog; nothing breaks and it ends
    qtbot.waitUntil(lambda: dialog.rows_complete, timeout=2000)
    assert dialog.rows.topLevelItemCount() == COUNT


def test_the_preview_offers_start_and_keep_and_stop_only_while_it_runs(qtbot: Any) -> None:
    dialog = dialog_for(qtbot)
    shown = [
        b for b in (dialog.start_button, dialog.stop_button, dialog.keep_button) if b.isVisibleTo(dialog)
    ]
    assert shown == [dialog.start_button, dialog.keep_button]
    dialog.start_button.click()
    assert dialog.stop_button.isVisibleTo(dialog)
    assert not dialog.start_button.isVisibleTo(dialog)


def test_the_flow_opens_a_long_batch_once_its_first_screen_is_listed(
    qtbot: Any, ui_loop: asyncio.AbstractEventLoop
) -> None:
    items = tuple(BatchItem(f"order-{i:05d}", Money(100_00, NOK)) for i in range(LISTED_BEFORE_SHOWN + 1))
    dialog = dialog_for(qtbot, BatchPlan(Action.CANCEL, items))
    assert dialog.rows.topLevelItemCount() == 0
    ui_loop.run_until_complete(BatchFlow._listed(dialog, len(items)))
    assert dialog.first_rows_in
    assert dialog.rows.topLevelItemCount() >= ROWS_AT_ONCE
    assert not dialog.rows_complete  # the rest follow while it is open
    short = dialog_for(qtbot, BatchPlan(Action.CANCEL, items[:LISTED_BEFORE_SHOWN]))
    ui_loop.run_until_complete(BatchFlow._listed(short, LISTED_BEFORE_SHOWN))
    assert short.rows_complete
    assert short.rows.topLevelItemCount() == LISTED_BEFORE_SHOWN
