"""The main window as a person uses it, against the in-process sandbox and a real register: the menus
and toolbar, the register's dialogs reached from the window, keyboard shortcuts (QTest key clicks),
the customer panel, new demo payments, refresh progress and stop, the automatic refresh, the context
menu, tab order and accessible names."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QContextMenuEvent, QGuiApplication
from PySide6.QtWidgets import QAbstractButton, QApplication, QLineEdit, QListWidget, QTableView, QWidget

from epay_desktop.app import Session, open_demo
from epay_desktop.domain import BusinessState, Currency, Money, State, TrackedPayment
from epay_desktop.ui.table.model import Column, PaymentRoles
from epay_desktop.ui.window.main_window import MainWindow
from tests.support.waiting import wait_until
from tests.ui.dialogs.helpers import unnamed_controls


class Harness:
    def __init__(self, session: Session, window: MainWindow, qtbot: Any) -> None:
        self.session = session
        self.window = window
        self.qtbot = qtbot
        self.controls = session.desk.demo.controls  # type: ignore[union-attr]
        self.msn = session.desk.profile.merchant_serial_number

    async def fresh_payment(self) -> TrackedPayment:
        demo = self.session.desk.demo
        assert demo is not None
        tracked = await demo.new_payment(Money(4_200, Currency.NOK), "Test bun")
        return tracked

    def row(self, reference: str) -> TrackedPayment:
        tracked = self.window.model.tracked(reference)
        assert tracked is not None
        return tracked

    def state(self, reference: str) -> State | None:
        payment = self.row(reference).payment
        return payment.state if payment is not None else None

    def key(self, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
        target = QApplication.focusWidget() or self.window
        self.qtbot.keyClick(target, key, modifier)


@pytest.fixture
def run(ui_loop: asyncio.AbstractEventLoop, tmp_path: Path, qtbot: Any) -> Callable[..., Any]:
    def runner(scenario: Callable[[Harness], Any], *, auto_refresh_ms: int = 3_600_000) -> Any:
        async def main() -> Any:
            session = await open_demo(tmp_path / "register.sqlite3")
            # Deleted by this fixture (not qtbot.addWidget), on the GUI thread, when the test ends.
            window = MainWindow(session.desk, show_error_dialogs=False, auto_refresh_ms=auto_refresh_ms)
            window.show()
            window.activateWindow()
            try:
                await window.load(refresh=False)
                return await scenario(Harness(session, window, qtbot))
            finally:
                await window.shutdown()
                if window.last_dialog is not None and shiboken6.isValid(window.last_dialog):
                    window.last_dialog.close()
                window.close()
                await session.aclose()
                shiboken6.delete(window)  # on the GUI thread, now (see conftest)

        return ui_loop.run_until_complete(main())

    return runner


def test_menus_hold_every_action_with_a_status_tip(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        w = h.window
        titles = [a.text() for a in w.menuBar().actions()]
        assert titles == ["&File", "&Payments", "P&rofile", "&Help"]
        menus = w.action_set.menus
        texts = {name: [a.text() for a in menu.actions() if a.text()] for name, menu in menus.items()}
        assert texts["file"] == [
            "New payment…",
            "Add payments…",
            "Import CSV…",
            "Export list as CSV…",
            "Quit",
        ]
        assert {
            "Refresh all",
            "Stop refresh",
            "Capture…",
            "Refund…",
            "Cancel payment…",
            "Check now",
            "Capture selected payments…",
            "Cancel selected payments…",
            "Remove from register",
            "Undo remove",
            "Copy reference",
        } <= set(texts["payments"])
        assert texts["profile"] == ["Settings…", "&Switch profile", "Audit log…"]
        assert texts["help"] == ["Recent messages…", "About epay-desktop"]
        for menu in w.action_set.menus.values():
            for action in menu.actions():
                if action.text() and action.menu() is None:
                    assert action.statusTip(), action.text()
        toolbar = [a.text() for a in w.action_set.toolbar.actions() if a.text()]
        assert toolbar[:2] == ["New payment…", "Add payments…"]
        # The switch submenu lists the saved profiles (Demo is always there) and marks the open one.
        w.profile_menu.fill()
        entries = w.profile_menu.actions()
        assert entries[0].text().startswith("Demo")
        assert entries[0].isChecked()

    run(scenario)


def test_new_payment_from_the_menu_appears_in_the_list_and_is_selected(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        from epay_desktop.ui.dialogs.create_payment import CreatePaymentDialog

        before = h.window.model.rowCount()
        h.key(Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
        await wait_until(lambda: isinstance(h.window.last_dialog, CreatePaymentDialog))
        dialog = h.window.last_dialog
        assert isinstance(dialog, CreatePaymentDialog)
        assert dialog.currency is Currency.NOK
        assert not dialog.currency_combo.isEnabled()
        dialog.amount_edit.setText("149,50")
        dialog.description_edit.setText("Two cinnamon buns")
        dialog.qr_radio.setChecked(True)
        dialog.create_button.click()
        await wait_until(lambda: h.window.model.rowCount() == before + 1)
        # In Demo the sandbox's CREATED webhook can bring the row before the create call returns.
        await wait_until(lambda: dialog.created is not None)
        created = dialog.created
        assert created is not None
        assert h.window.selected_reference() == created.reference
        assert h.state(created.reference) is State.CREATED
        assert "is in the register" in h.window.statusBar().currentMessage()

    run(scenario)


def test_added_references_appear_at_once_and_are_refreshed(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        from epay_desktop.ui.dialogs.add_payments import AddPaymentsDialog

        # A payment the sandbox has but the register does not (made behind the window's back).
        demo = h.session.desk.demo
        assert demo is not None
        response = await h.session.desk.client.create_payment(
            reference="walk-in-order-0001",
            amount=Money(9_900, Currency.NOK),
            description="Walk-in",
            user_flow="QR",
        )
        h.key(Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        await wait_until(lambda: isinstance(h.window.last_dialog, AddPaymentsDialog))
        dialog = h.window.last_dialog
        assert isinstance(dialog, AddPaymentsDialog)
        dialog.editor.setPlainText(response.reference)
        dialog.validate_now()
        h.qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: h.window.model.tracked("walk-in-order-0001") is not None)
        await wait_until(lambda: h.state("walk-in-order-0001") is State.CREATED)
        # The row can be refreshed (a Demo webhook) before the dialog reports it added and selects it.
        await wait_until(lambda: h.window.selected_reference() == "walk-in-order-0001")

    run(scenario)


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        (("approve",), State.AUTHORIZED),
        (("reject",), State.ABORTED),
        (("expire",), State.EXPIRED),
        (("start-authorizing", "finish-authorizing"), State.AUTHORIZED),
    ],
)
def test_customer_buttons_change_the_row(
    run: Callable[..., Any], actions: tuple[str, ...], expected: State
) -> None:
    async def scenario(h: Harness) -> None:
        panel = h.window.customer_panel
        assert panel is not None
        target = await h.fresh_payment()
        assert h.window.select_reference(target.reference)
        await wait_until(panel.buttons["approve"].isEnabled)
        for action in actions:
            h.qtbot.mouseClick(panel.buttons[action], Qt.MouseButton.LeftButton)
            await wait_until(lambda: not h.window.runner.is_running(f"customer:{target.reference}"))
        await wait_until(lambda: h.state(target.reference) is expected)
        assert target.reference in h.window.details.title.text()
        assert not panel.buttons["approve"].isEnabled()  # no longer waiting for the customer
        assert "Customer:" in h.window.statusBar().currentMessage()

    run(scenario)


def test_3_d_secure_in_progress_is_shown_and_cancel_is_not_now(run: Callable[..., Any]) -> None:
    from epay_desktop.domain import Action
    from epay_desktop.ui.table.cells import state_text

    async def scenario(h: Harness) -> None:
        panel = h.window.customer_panel
        assert panel is not None
        target = await h.fresh_payment()
        assert h.window.select_reference(target.reference)
        await wait_until(panel.buttons["approve"].isEnabled)
        assert not panel.buttons["finish-authorizing"].isEnabled()  # nothing started yet
        h.qtbot.mouseClick(panel.buttons["start-authorizing"], Qt.MouseButton.LeftButton)

        def row() -> TrackedPayment | None:
            return h.window.model.tracked(target.reference)

        await wait_until(lambda: (t := row()) is not None and t.authorizing)
        tracked = row()
        assert tracked is not None
        assert state_text(tracked) == "Authorizing"
        await wait_until(lambda: not panel.buttons["start-authorizing"].isEnabled())
        assert "running already" in panel.buttons["start-authorizing"].toolTip()
        assert panel.buttons["finish-authorizing"].isEnabled()
        # The details follow the row a frame later.
        await wait_until(lambda: h.window.details.action_labels[Action.CANCEL].text().startswith("Not now."))
        cancel_line = h.window.details.action_labels[Action.CANCEL].text()
        assert cancel_line.startswith("Not now."), cancel_line
        assert "3-D Secure" in cancel_line
        assert not h.window.action("cancel-payment").isEnabled()
        # A refresh keeps saying so: the sandbox still has the customer in 3-D Secure.
        await h.window.desk.refresh(target.reference)
        tracked = row()
        assert tracked is not None
        assert tracked.authorizing

        h.qtbot.mouseClick(panel.buttons["finish-authorizing"], Qt.MouseButton.LeftButton)
        await wait_until(lambda: h.state(target.reference) is State.AUTHORIZED)
        tracked = row()
        assert tracked is not None
        assert not tracked.authorizing
        assert state_text(tracked) != "Authorizing"

    run(scenario)


def test_references_the_api_does_not_know_are_marked_filtered_and_removed(run: Callable[..., Any]) -> None:
    from epay_desktop.domain import RowMark
    from epay_desktop.ui.table.cells import state_text

    async def scenario(h: Harness) -> None:
        desk = h.window.desk
        assert desk is not None
        unknown = "never-heard-of-0001"
        await desk.add_references(unknown)
        await wait_until(lambda: h.window.model.tracked(unknown) is not None)
        with pytest.raises(Exception, match="404"):
            await desk.refresh(unknown)
        await wait_until(lambda: (t := h.window.model.tracked(unknown)) is not None and t.unknown_to_api)
        tracked = h.window.model.tracked(unknown)
        assert tracked is not None
        assert state_text(tracked) == "Unknown to the API"

        combo = h.window.filter_bar.state_filter
        combo.setCurrentIndex(combo.findText("Unknown to the API (404)"))
        assert combo.currentData() == frozenset({RowMark.UNKNOWN_TO_API})
        assert [t.reference for t in h.window.register_view.shown_rows()] == [unknown]

        assert h.window.select_reference(unknown)
        h.window.remove_selected()
        await wait_until(lambda: h.window.model.tracked(unknown) is None)
        assert h.window.register_view.shown_rows() == []
        await wait_until(h.window.action("undo-remove").isEnabled)  # and Undo brings it back
        h.window.undo_remove()
        await wait_until(lambda: h.window.model.tracked(unknown) is not None)
        # Back as it was (still unknown to the API, so still shown by this filter), and selected.
        await wait_until(lambda: h.window.selected_reference() == unknown)
        assert [t.reference for t in h.window.register_view.shown_rows()] == [unknown]
        assert not h.window.action("undo-remove").isEnabled()  # once
        assert "Back in the register" in h.window.statusBar().currentMessage()

    run(scenario)


def test_undo_remove_puts_the_row_back_where_it_was_in_the_list(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        w = h.window
        await wait_until(lambda: w.model.rowCount() > 5)
        before = w.model.references()
        middle = before[3]
        assert w.select_reference(middle)
        w.remove_selected()
        await wait_until(lambda: w.model.tracked(middle) is None)
        await wait_until(w.action("undo-remove").isEnabled)
        w.undo_remove()
        await wait_until(lambda: w.selected_reference() == middle)
        # Back at its own row (the register lists it there too), not at the end of the list.
        assert w.model.references() == before
        table = w.register_view.table
        assert table is not None
        assert table.currentIndex().row() == 3

    run(scenario)


def test_the_status_bar_counts_follow_the_state_filter_and_the_search(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        w = h.window
        label = w.status_line.counts_label
        total = w.model.rowCount()
        await wait_until(lambda: label.text().startswith(f"{total} payments"))
        kinds = Counter(t.kind for t in w.model.payments())
        for kind, count in kinds.items():
            name = "Not fetched" if kind is None else kind.label
            assert f"{name}: {count}" in label.toolTip()

        combo = w.filter_bar.state_filter
        combo.setCurrentIndex(combo.findText("Reserved"))
        reserved = kinds[BusinessState.RESERVED]
        assert 0 < reserved < total
        await wait_until(lambda: label.text().startswith(f"{reserved} of {total} shown"))
        # The states listed are those of the rows shown, not of the whole register.
        assert label.text() == f"{reserved} of {total} shown · Reserved: {reserved}"
        assert label.toolTip().splitlines()[1:] == [f"Reserved: {reserved}"]

        # The search narrows further, and the counts follow it.
        one = next(t for t in w.model.payments() if t.kind is BusinessState.RESERVED)
        w.filter_bar.search.setText(one.reference)
        await wait_until(lambda: label.text() == f"1 of {total} shown · Reserved: 1")
        combo.setCurrentIndex(combo.findText("All states"))
        w.filter_bar.search.clear()
        await wait_until(lambda: label.text().startswith(f"{total} payments"))

    run(scenario)


def test_an_error_about_one_row_leaves_the_status_bar_when_another_is_selected(
    run: Callable[..., Any],
) -> None:
    async def scenario(h: Harness) -> None:
        w = h.window
        first, second = (t.reference for t in w.register_view.shown_rows()[:2])
        assert w.select_reference(first)
        await h.controls.set_faults(error_rates={"500": 1.0, "503": 0.0, "429": 0.0})
        try:
            w.action("refresh-payment").trigger()
            await wait_until(lambda: "Could not refresh the payment" in w.statusBar().currentMessage())
        finally:
            await h.controls.set_faults()
        assert w.select_reference(second)
        await wait_until(lambda: w.statusBar().currentMessage() == "")
        # Still there to read: the status bar's button opens the recent messages.
        status = w.status_line
        button = status.history_button
        assert button.isVisible()
        assert button.defaultAction() is w.action("history")
        button.click()
        await wait_until(lambda: status.history_dialog is not None and status.history_dialog.isVisible())
        dialog = status.history_dialog
        assert dialog is not None
        listing = dialog.findChild(QListWidget, "RecentMessagesList")
        assert "Could not refresh the payment" in listing.item(0).text()
        dialog.close()

    run(scenario)


def test_new_demo_payment_button(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        panel = h.window.customer_panel
        assert panel is not None
        before = h.window.model.rowCount()
        previous = set(h.window.model.references())
        h.qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: panel.dialog is not None and panel.dialog.isVisible())
        dialog = panel.dialog
        assert dialog is not None
        assert not dialog.ok_button.isEnabled()
        dialog.amount.setText("75")
        dialog.description.setText("Training coffee")
        assert dialog.ok_button.isEnabled()
        dialog.ok_button.click()
        await wait_until(lambda: h.window.model.rowCount() == before + 1)
        # In Demo the sandbox's CREATED webhook can bring the row before the panel selects it.
        new = set(h.window.model.references()) - previous
        await wait_until(lambda: h.window.selected_reference() in new)
        reference = h.window.selected_reference()
        assert reference is not None
        assert h.state(reference) is State.CREATED
        assert h.row(reference).payment.amount == Money(7_500, Currency.NOK)  # type: ignore[union-attr]

    run(scenario)


def test_refresh_shows_progress_and_escape_stops_it(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        w = h.window
        await h.controls.set_faults(latency_ms=120)
        try:
            w.register_view.table.setFocus()
            h.key(Qt.Key.Key_F5)
            status = w.refresh_status
            await wait_until(lambda: status.progress.isVisible() and w.action("stop-refresh").isEnabled())
            assert w.refresh_status.stop_button.isVisible()
            assert w.refresh_status.progress.maximum() == w.model.rowCount()
            await wait_until(lambda: w.refresh_status.progress.value() > 0)
            h.key(Qt.Key.Key_Escape)
            await wait_until(lambda: not w.refresh_flow.is_running())
            await wait_until(lambda: not w.refresh_status.progress.isVisible())
            message = w.statusBar().currentMessage()
            assert message.startswith("Refresh stopped after"), message
            assert not w.action("stop-refresh").isEnabled()
        finally:
            await h.controls.set_faults()

    run(scenario)


def test_refresh_runs_to_the_end(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        w = h.window
        w.action("refresh-all").trigger()
        await wait_until(lambda: w.statusBar().currentMessage().startswith("Refreshed"), limit=20)
        total = w.model.rowCount()
        assert w.statusBar().currentMessage() == f"Refreshed {total} of {total} payments."
        assert not w.refresh_status.progress.isVisible()

    run(scenario)


def test_the_automatic_refresh_brings_changes_made_elsewhere(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        target = await h.fresh_payment()
        await h.controls.customer(h.msn, target.reference, "approve")  # not through the window
        assert h.state(target.reference) is State.CREATED
        assert h.window.refresh_flow.auto_timer.isActive()
        await wait_until(lambda: h.state(target.reference) is State.AUTHORIZED)

    run(scenario, auto_refresh_ms=60)


def right_click(table: QTableView, pos: QPoint) -> None:
    """What a right click on the table's rows sends (its context menu event, at ``pos`` in the viewport)."""
    viewport = table.viewport()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos))
    QApplication.sendEvent(viewport, event)


def test_context_menu_actions(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        w = h.window
        table = w.register_view.table
        assert table is not None
        table.selectRow(0)
        reference = w.selected_reference()
        assert reference is not None
        rect = table.visualRect(table.model().index(0, 0))
        right_click(table, rect.center())
        menu = w.context_menu
        assert menu is not None
        assert menu.isVisible()
        assert menu.accessibleName() == "Payment actions"
        assert [a.text() for a in menu.actions()] == [
            "Check now",
            "Capture…",
            "Refund…",
            "Cancel payment…",
            "Refresh this payment",
            "Copy reference",
            "",
            "Capture selected payments…",
            "Cancel selected payments…",
            "",
            "Remove from register",
        ]
        QGuiApplication.clipboard().clear()
        menu.actions()[5].trigger()
        assert QGuiApplication.clipboard().text() == reference
        menu.actions()[4].trigger()
        await wait_until(lambda: h.row(reference).fetched_at is not None)
        menu.close()
        # Outside the rows there is no menu.
        w.context_menu = None
        right_click(table, QPoint(5, 100_000))
        assert w.context_menu is None

    run(scenario)


def test_keyboard_shortcuts(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        from epay_desktop.ui.dialogs.audit import AuditDialog
        from epay_desktop.ui.dialogs.settings import SettingsDialog

        w = h.window
        w.register_view.table.setFocus()
        h.key(Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        assert QApplication.focusWidget() is w.filter_bar.search
        w.register_view.table.setFocus()
        w.register_view.table.selectRow(1)
        reference = w.selected_reference()
        h.key(Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        assert QGuiApplication.clipboard().text() == reference
        h.key(Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
        await wait_until(lambda: isinstance(w.last_dialog, AuditDialog) and w.last_dialog.isVisible())
        w.last_dialog.close()  # type: ignore[union-attr]
        w.activateWindow()
        w.register_view.table.setFocus()
        h.key(Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
        await wait_until(lambda: isinstance(w.last_dialog, SettingsDialog) and w.last_dialog.isVisible())
        w.last_dialog.close()  # type: ignore[union-attr]
        w.activateWindow()
        # Delete in the table never moves money: it takes the row out of the register (the payment is
        # untouched, nothing is sent) and Ctrl+Z puts it back.
        target = await h.fresh_payment()
        assert w.select_reference(target.reference)
        w.register_view.table.setFocus()
        await wait_until(w.action("remove-payment").isEnabled)
        h.qtbot.keyClick(w.register_view.table, Qt.Key.Key_Delete)
        await wait_until(lambda: w.model.tracked(target.reference) is None)
        await wait_until(lambda: "not touched" in w.statusBar().currentMessage())
        assert w.cancel_flow.dialog is None
        w.register_view.table.setFocus()
        h.key(Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        await wait_until(lambda: w.model.tracked(target.reference) is not None)
        restored = w.model.tracked(target.reference)
        assert restored is not None
        assert restored.payment is not None
        assert restored.payment.state.value == "CREATED"
        # Ctrl+Q closes the window.
        closed: list[bool] = []
        w.closed.connect(lambda: closed.append(True))
        w.activateWindow()
        await wait_until(lambda: QApplication.activeWindow() is w)
        w.register_view.table.setFocus()
        h.key(Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
        assert closed == [True]

    run(scenario)


def test_tab_order_reaches_every_control(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        w = h.window
        target = await h.fresh_payment()
        assert w.select_reference(target.reference)  # customer buttons enabled: reachable too
        await asyncio.sleep(0.05)
        central = w.centralWidget()
        focusable = {
            x
            for x in central.findChildren(QWidget)
            if x.isVisible()
            and x.isEnabled()
            and x.focusPolicy() & Qt.FocusPolicy.TabFocus
            and x.focusProxy() is None
        }
        assert w.filter_bar.search in focusable
        assert w.register_view.table in focusable
        w.filter_bar.search.setFocus()
        seen: list[QWidget] = []
        for _ in range(len(focusable) * 2 + 5):
            current = QApplication.focusWidget()
            if current is not None and current not in seen:
                seen.append(current)
            h.key(Qt.Key.Key_Tab)
        missing = [f"{type(x).__name__} {x.accessibleName()!r}" for x in focusable if x not in seen]
        assert not missing, missing
        bar = w.filter_bar
        assert seen.index(bar.search) < seen.index(bar.state_filter) < seen.index(w.register_view.table)

    run(scenario)


def test_every_interactive_widget_has_an_accessible_name(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        w = h.window
        w.register_view.table.selectRow(0)
        await asyncio.sleep(0.02)
        assert not unnamed_controls(w), unnamed_controls(w)
        # (The search box's own icon button is part of the line edit, named by it.)
        buttons = [
            b
            for b in w.findChildren(QAbstractButton)
            if b.isVisible() and not isinstance(b.parent(), QLineEdit)
        ]
        unnamed = [
            f"{type(b).__name__} {b.objectName()!r} {b.text()!r}" for b in buttons if not b.accessibleName()
        ]
        assert buttons
        assert not unnamed, unnamed
        for menu in w.action_set.menus.values():
            assert menu.accessibleName()

    run(scenario)


def test_the_refresh_flows_offline_line_reaches_the_status_bar(run: Callable[..., Any]) -> None:
    """The flow says "Offline: …" just after its batch finished: that line, not "Refreshed N", stays."""

    async def scenario(h: Harness) -> None:
        flow = h.window.refresh_flow
        flow.finished.emit(3, 3, False)
        flow.status_changed.emit("Offline: could not reach the API. The list shows the register as of …")
        assert h.window.statusBar().currentMessage().startswith("Offline: could not reach the API")

    run(scenario)


def test_the_selected_payments_event_log_is_read_into_the_details(run: Callable[..., Any]) -> None:
    """The list is loaded without event logs; selecting a payment reads its log from the register."""

    async def scenario(h: Harness) -> None:
        w = h.window
        target = await h.fresh_payment()
        await h.controls.customer(h.msn, target.reference, "approve")
        await h.session.desk.refresh(target.reference)  # its log (created, authorized) is saved
        await w.load(refresh=False)
        listed = h.row(target.reference)
        assert listed.events is None  # not loaded with the list
        assert w.select_reference(target.reference)
        assert w.selected_reference() == target.reference
        await wait_until(lambda: w.details.events.topLevelItemCount() == 2)
        assert [w.details.events.topLevelItem(i).text(0) for i in range(2)] == ["CREATED", "AUTHORIZED"]

    run(scenario)


def test_a_register_row_with_a_cell_that_cannot_be_read_is_listed_with_the_reason(
    run: Callable[..., Any],
) -> None:
    async def scenario(h: Harness) -> None:
        desk = h.session.desk
        rows = h.window.model.rowCount()
        bad = h.window.model.references()[0]
        await asyncio.to_thread(
            desk.store.db.write,
            "test",
            lambda c: c.execute("UPDATE payments SET created_at = 'yesterday' WHERE reference = ?", (bad,)),
        )
        loaded = await desk.load_register()
        assert len(loaded) == rows  # nothing dropped
        await h.window.load(refresh=False)
        model = h.window.model
        row = model.row_of(bad)
        assert row is not None
        assert model.data(model.index(row, Column.CREATED)) == ""
        tip = model.data(model.index(row, Column.UPDATED), Qt.ItemDataRole.ToolTipRole)
        assert "A saved time could not be read (created_at" in tip
        assert model.data(model.index(row, Column.REFERENCE), PaymentRoles.STALE)  # drawn as out of date
        assert "skipped" not in h.window.statusBar().currentMessage()

    run(scenario)
