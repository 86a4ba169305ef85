"""The window fits: it never opens larger than the screen, and at the smallest supported window
(1000 × 650) every money label of the details panel and the capture dialog gets its size hint (no
clipped figures such as "252 00" for "252.00")."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel

from epay_desktop.app import Session, open_demo
from epay_desktop.domain import Action, Currency, Money, State, check_action
from epay_desktop.ui.dialogs.money_move import MoneyMoveDialog
from epay_desktop.ui.window.main_window import SMALLEST, MainWindow
from tests.support.waiting import wait_until


@contextlib.asynccontextmanager
async def smallest_window(tmp_path: Path, qtbot: Any) -> AsyncIterator[tuple[Session, MainWindow]]:
    """The Demo register in a window of the smallest supported size, loaded; closed afterwards."""
    session = await open_demo(tmp_path / "register.sqlite3")
    window = MainWindow(session.desk, show_error_dialogs=False, auto_refresh_ms=3_600_000)
    qtbot.addWidget(window)
    window.resize(*SMALLEST)
    window.show()
    try:
        await window.load(refresh=False)
        yield session, window
    finally:
        await window.shutdown()
        window.close()
        await session.aclose()


def test_the_window_never_opens_larger_than_the_screen(qtbot: Any) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    free = QGuiApplication.primaryScreen().availableGeometry()
    assert window.width() <= free.width()
    assert window.height() <= free.height()


def test_money_labels_get_their_size_hint_at_the_smallest_window(
    ui_loop: asyncio.AbstractEventLoop, tmp_path: Path, qtbot: Any
) -> None:
    async def main() -> None:
        async with smallest_window(tmp_path, qtbot) as (_session, window):
            # the widest figures the demo data has: a partly captured payment shows every part
            def parts(payment: Any) -> int:
                agg = payment.aggregate
                return sum(1 for m in (agg.authorized, agg.captured, agg.cancelled, agg.refunded) if m)

            target = max(
                (t for t in window.model.payments() if t.payment is not None), key=lambda t: parts(t.payment)
            )
            assert window.select_reference(target.reference)
            await wait_until(lambda: window.details.figures["authorized"].text() != "")
            await asyncio.sleep(0.05)
            assert window.width() == SMALLEST[0]
            clipped = [
                (key, label.text(), label.width(), label.sizeHint().width())
                for key, label in window.details.figures.items()
                if label.isVisible() and label.text() and label.width() < label.sizeHint().width()
            ]
            assert not clipped, clipped
            # Nor cut in height: the payment with the longest lines (3-D Secure running, a two-line
            # title) selected, every line of the details gets the height it needs (they scroll).
            longest = next(t for t in window.model.payments() if t.authorizing)
            assert window.select_reference(longest.reference)
            await wait_until(lambda: "3-D Secure" in window.details.action_labels[Action.CANCEL].text())
            await asyncio.sleep(0.05)
            assert window.height() <= SMALLEST[1]

            def needed(label: QLabel) -> int:
                wraps = label.wordWrap()
                return label.heightForWidth(label.width()) if wraps else label.sizeHint().height()

            squeezed = [
                (label.text(), label.height(), needed(label))
                for label in window.details.findChildren(QLabel)
                if label.isVisible() and label.text() and label.height() < needed(label)
            ]
            assert not squeezed, squeezed
            authorized = next(
                t
                for t in window.model.payments()
                if t.payment is not None
                and t.payment.state is State.AUTHORIZED
                and check_action(t.payment, Action.CAPTURE).allowed
            )
            dialog = MoneyMoveDialog(authorized, Action.CAPTURE, parent=window)
            qtbot.addWidget(dialog)
            dialog.show()
            await asyncio.sleep(0.05)
            for label in (dialog.amount_field.check, dialog.amount_field.limit, dialog.before_words):
                assert label.width() >= label.minimumSizeHint().width(), label.text()
            free = QGuiApplication.primaryScreen().availableGeometry()
            assert dialog.height() <= free.height()

    ui_loop.run_until_complete(main())


def test_a_failed_refresh_is_said_whole_at_the_smallest_window(
    ui_loop: asyncio.AbstractEventLoop, tmp_path: Path, qtbot: Any
) -> None:
    """The "Last refresh failed" notice of a reference the API does not know (a long error with a
    traceId) at 1000 × 650: no line of the details cut in height, the panel no wider than its scroll
    area (nothing cut on the right), and the traceId whole in a field that can be copied."""

    async def main() -> None:
        async with smallest_window(tmp_path, qtbot) as (session, window):
            unknown = "never-heard-of-0001"
            await session.desk.add_references(unknown)
            await wait_until(lambda: window.model.tracked(unknown) is not None)
            with pytest.raises(Exception, match="404"):
                await session.desk.refresh(unknown)
            await wait_until(lambda: (t := window.model.tracked(unknown)) is not None and t.unknown_to_api)
            assert window.select_reference(unknown)
            details = window.details
            await wait_until(lambda: "Last refresh failed" in details.problem.text())
            await asyncio.sleep(0.05)
            assert window.height() <= SMALLEST[1]
            assert "traceId" not in details.problem.text()
            assert details.trace_id.isVisible()
            assert details.trace_id.text().startswith("00-")
            assert details.trace_id.text() in window.model.tracked(unknown).fetch_error  # type: ignore[union-attr]
            scroll = window.side_panel
            assert window.side_panel.panel.width() <= scroll.viewport().width()
            squeezed = [
                (label.text(), label.height(), label.heightForWidth(label.width()))
                for label in details.findChildren(QLabel)
                if label.isVisible()
                and label.wordWrap()
                and label.height() < label.heightForWidth(label.width())
            ]
            assert not squeezed, squeezed
            wide = [
                label.text()
                for label in details.findChildren(QLabel)
                if label.isVisible() and label.geometry().right() > details.width()
            ]
            assert not wide, wide

    ui_loop.run_until_complete(main())


def test_an_empty_register_says_how_payments_get_there(
    ui_loop: asyncio.AbstractEventLoop, tmp_path: Path, qtbot: Any
) -> None:
    async def main() -> None:
        session = await open_demo(tmp_path / "register.sqlite3")
        for tracked in list(await session.desk.load_register()):
            await session.desk.remove_payments([tracked.reference])
        window = MainWindow(session.desk, show_error_dialogs=False, auto_refresh_ms=3_600_000)
        qtbot.addWidget(window)
        window.show()
        try:
            await window.load(refresh=False)
            view = window.register_view
            assert view.currentWidget() is view.placeholder
            assert "Add payments" in view.placeholder.text()
            demo = session.desk.demo
            assert demo is not None
            await demo.new_payment(Money(100_00, Currency.NOK), "First")
            await wait_until(lambda: view.currentWidget() is view.table)
        finally:
            await window.shutdown()
            window.close()
            await session.aclose()

    ui_loop.run_until_complete(main())


def test_the_list_as_shown_exports_to_a_formula_safe_csv(
    ui_loop: asyncio.AbstractEventLoop, tmp_path: Path, qtbot: Any
) -> None:
    import csv

    async def main() -> None:
        session = await open_demo(tmp_path / "register.sqlite3")
        window = MainWindow(session.desk, show_error_dialogs=False, auto_refresh_ms=3_600_000)
        qtbot.addWidget(window)
        window.show()
        try:
            await window.load(refresh=False)
            demo = session.desk.demo
            assert demo is not None
            await demo.new_payment(Money(123_45, Currency.NOK), '=HYPERLINK("x")')
            window.filter_bar.search.setText("hyperlink")
            shown = window.register_view.shown_rows()
            assert len(shown) == 1
            target = tmp_path / "list.csv"
            window.export_list(str(target))
            await wait_until(lambda: "Exported 1 payment" in window.statusBar().currentMessage())
            with target.open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.reader(handle))
            assert rows[0][:2] == ["reference", "description"]
            assert len(rows) == 2
            assert rows[1][1] == '\'=HYPERLINK("x")'  # never a formula in a spreadsheet
            assert rows[1][4] == "waiting"
            assert rows[1][6] == "123.45"
        finally:
            await window.shutdown()
            window.close()
            await session.aclose()

    ui_loop.run_until_complete(main())


def test_recent_messages_keep_what_the_status_bar_said(qtbot: Any) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    for i in range(3):
        window.show_status(f"message {i}")
    window.action("history").trigger()
    dialog = window.status_line.history_dialog
    assert dialog is not None
    qtbot.addWidget(dialog)
    # What the dialog lists, newest first, is the status line's own test (test_window_status_line.py).
    assert [text for _at, text in window.status_line.history] == ["message 0", "message 1", "message 2"]


def test_the_money_columns_are_in_view_at_the_smallest_window(
    ui_loop: asyncio.AbstractEventLoop, tmp_path: Path, qtbot: Any
) -> None:
    """At 1000 × 650 the table is narrower than all its columns: the state, the amount and the bar come
    right after the reference, so no figure is cut at the table's edge (the words and times scroll)."""
    from epay_desktop.ui.table.cells import Column

    async def main() -> None:
        async with smallest_window(tmp_path, qtbot) as (_session, window):
            await asyncio.sleep(0.05)
            table = window.register_view.table
            assert table is not None
            header = table.horizontalHeader()
            visible = table.viewport().width()
            for column in (Column.REFERENCE, Column.STATE, Column.AMOUNT, Column.AGGREGATE):
                left = header.sectionViewportPosition(column)
                assert left >= 0, column
                assert left + header.sectionSize(column) <= visible, (column, left, visible)

    ui_loop.run_until_complete(main())
