"""Capture… and Refund… end to end through the window's actions and dialogs, against the in-process
sandbox and the real desk: confirm → the API's figures in the row; keep → nothing sent; a "try again
later" refusal → Try again sends the same key, one effect; a dropped answer → one effect. And the
trainer's walk-through from the window alone: new demo payment 1000.00 → Approve → Capture 250.00 →
Cancel → Refund 100.00."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from epay_desktop.app import Session, open_demo
from epay_desktop.domain import BusinessState, Currency, Money, State, TrackedPayment, business_state
from epay_desktop.store import Operation
from epay_desktop.ui.dialogs.money_move import MoneyMoveDialog
from epay_desktop.ui.window.main_window import MainWindow
from tests.support.waiting import wait_until

NOK = Currency.NOK


class Harness:
    def __init__(self, session: Session, window: MainWindow, qtbot: Any) -> None:
        self.session = session
        self.window = window
        self.qtbot = qtbot
        self.controls = session.desk.demo.controls  # type: ignore[union-attr]

    def row(self, reference: str) -> TrackedPayment:
        tracked = self.window.model.tracked(reference)
        assert tracked is not None
        return tracked

    def aggregate(self, reference: str) -> tuple[int, int, int, int]:
        payment = self.row(reference).payment
        assert payment is not None
        agg = payment.aggregate
        return agg.authorized.value, agg.captured.value, agg.cancelled.value, agg.refunded.value

    async def approved(self, minor: int = 1000_00) -> str:
        demo = self.session.desk.demo
        assert demo is not None
        tracked = await demo.new_payment(Money(minor, NOK), "Lifecycle test")
        await demo.customer(tracked.reference, "approve")
        await wait_until(lambda: self.row(tracked.reference).payment.state is State.AUTHORIZED)  # type: ignore[union-attr]
        return tracked.reference

    async def open_move(self, reference: str, what: str) -> MoneyMoveDialog:
        w = self.window
        assert w.select_reference(reference)
        await wait_until(w.action(f"{what}-payment").isEnabled)
        w.action(f"{what}-payment").trigger()
        await wait_until(lambda: w.move_flow.dialog is not None and w.move_flow.dialog.isVisible())
        dialog = w.move_flow.dialog
        assert dialog is not None
        return dialog

    async def move(self, reference: str, what: str, amount: str | None = None) -> None:
        dialog = await self.open_move(reference, what)
        if amount is not None:
            dialog.amount_field.edit.setText(amount)
        assert dialog.move_button.isEnabled()
        self.qtbot.mouseClick(dialog.move_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: not self.window.runner.is_running(f"{what}:{reference}"), limit=10)

    async def requests(self) -> int:
        return int((await self.controls.stats())["requests"])


@pytest.fixture
def run(ui_loop: asyncio.AbstractEventLoop, tmp_path: Path, qtbot: Any) -> Callable[..., Any]:
    def runner(scenario: Callable[[Harness], Any]) -> Any:
        async def main() -> Any:
            session = await open_demo(tmp_path / "register.sqlite3")
            window = MainWindow(session.desk, show_error_dialogs=False, auto_refresh_ms=3_600_000)
            qtbot.addWidget(window)
            window.show()
            try:
                await window.load(refresh=False)
                return await scenario(Harness(session, window, qtbot))
            finally:
                await window.shutdown()
                window.close()
                await session.aclose()

        return ui_loop.run_until_complete(main())

    return runner


def test_the_trainers_walk_through_from_the_window_alone(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        w = h.window
        panel = w.customer_panel
        assert panel is not None
        # New demo payment 1000.00 (typed as a Norwegian would), then Approve in the customer panel.
        panel.new_button.click()
        await wait_until(lambda: panel.dialog is not None and panel.dialog.isVisible())
        assert panel.dialog is not None
        panel.dialog.amount.setText("1 000,00")
        panel.dialog.ok_button.click()
        await wait_until(lambda: "waits for the customer" in w.statusBar().currentMessage(), limit=10)
        reference = w.selected_reference()
        assert reference is not None
        assert h.row(reference).payment.amount == Money(1000_00, NOK)  # type: ignore[union-attr]
        await wait_until(lambda: panel.buttons["approve"].isEnabled())
        panel.buttons["approve"].click()
        await wait_until(lambda: h.row(reference).payment.state is State.AUTHORIZED)  # type: ignore[union-attr]
        # Capture 250.00: the dialog offers the whole 1000.00, the person types 250.
        dialog = await h.open_move(reference, "capture")
        assert dialog.amount_field.value() == Money(1000_00, NOK)
        assert "1000.00" in dialog.amount_field.limit.text() or "1,000.00" in dialog.amount_field.limit.text()
        await h.move(reference, "capture", "250")
        await wait_until(lambda: h.aggregate(reference)[1] == 250_00)
        assert "Partly captured" in w.statusBar().currentMessage()
        # Cancel: the remaining 750.00 is released.
        w.action("cancel-payment").trigger()
        await wait_until(lambda: w.cancel_flow.dialog is not None and w.cancel_flow.dialog.isVisible())
        assert w.cancel_flow.dialog is not None
        w.cancel_flow.dialog.cancel_button.click()
        await wait_until(lambda: h.aggregate(reference)[2] == 750_00, limit=10)
        assert h.aggregate(reference) == (1000_00, 250_00, 750_00, 0)
        payment = h.row(reference).payment
        assert payment is not None
        assert business_state(payment) is BusinessState.CANCELLED
        names = [e.name.value for e in h.row(reference).events]
        assert [n for n in ("CREATED", "AUTHORIZED", "CAPTURED", "CANCELLED") if n in names] == [
            "CREATED",
            "AUTHORIZED",
            "CAPTURED",
            "CANCELLED",
        ]
        # Then Refund 100.00 of the 250.00 captured.
        dialog = await h.open_move(reference, "refund")
        assert dialog.amount_field.value() == Money(250_00, NOK)
        await h.move(reference, "refund", "100,00")
        await wait_until(lambda: h.aggregate(reference)[3] == 100_00)
        assert "Partly refunded" in w.statusBar().currentMessage()

    run(scenario)


def test_keep_payment_sends_nothing_and_the_maximum_is_enforced(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        reference = await h.approved()
        dialog = await h.open_move(reference, "capture")
        dialog.amount_field.edit.setText("1000,01")
        assert not dialog.move_button.isEnabled()
        assert "largest amount is 1000.00" in dialog.amount_field.check.text()
        dialog.amount_field.edit.setText("1,234")  # ambiguous: refused, not guessed
        assert not dialog.move_button.isEnabled()
        assert dialog.keep_button.isDefault()
        await asyncio.sleep(0.35)  # the selection's own refresh
        before = await h.requests()
        idle = await h.requests() - before
        before = await h.requests()
        h.qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        await wait_until(lambda: h.window.move_flow.dialog is None)
        assert await h.requests() - before == idle
        assert "nothing was sent" in h.window.statusBar().currentMessage()
        assert h.aggregate(reference)[1] == 0

    run(scenario)


def test_try_again_later_resends_with_the_same_key_and_captures_once(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        reference = await h.approved()
        await h.controls.set_faults(capture_failures=1)  # the next capture: 6280, try again later
        dialog = await h.open_move(reference, "capture")
        dialog.amount_field.edit.setText("300")
        dialog.move_button.click()
        flow = h.window.move_flow
        await wait_until(lambda: flow.retry_box is not None and flow.retry_box.isVisible(), limit=10)
        assert flow.retry_box is not None
        assert "same idempotency key" in flow.retry_box.text()
        assert h.aggregate(reference)[1] == 0  # refused: nothing moved, the row unchanged
        again = next(b for b in flow.retry_box.buttons() if b.text() == "Try again")
        again.click()
        await wait_until(lambda: h.aggregate(reference)[1] == 300_00, limit=10)
        intents = [i for i in await h.session.desk.journal() if i.reference == reference]
        captures = [i for i in intents if i.operation is Operation.CAPTURE]
        assert len(captures) == 1  # the refused intent was reopened with its key, not a second one
        assert captures[0].status.value in ("succeeded", "reconciled")
        events = (await h.session.desk.refresh(reference)).events
        assert sum(1 for e in events if e.name.value == "CAPTURED" and e.success) == 1

    run(scenario)


def test_a_dropped_answer_moves_the_money_once(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        reference = await h.approved()
        await h.controls.set_faults(drop_after_commit=1)
        await h.move(reference, "capture", "400")
        await wait_until(lambda: h.aggregate(reference)[1] == 400_00, limit=10)
        events = (await h.session.desk.refresh(reference)).events
        assert sum(1 for e in events if e.name.value == "CAPTURED" and e.success) == 1

    run(scenario)


def test_a_refusal_shows_the_message_and_leaves_the_row(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        reference = await h.approved()
        await h.controls.set_faults(funds_unavailable=1)  # 6260 is a retry-later refusal too
        dialog = await h.open_move(reference, "capture")
        dialog.move_button.click()
        flow = h.window.move_flow
        await wait_until(lambda: flow.retry_box is not None and flow.retry_box.isVisible(), limit=10)
        assert flow.retry_box is not None
        not_now = next(b for b in flow.retry_box.buttons() if b.text() == "Not now")
        not_now.click()
        await wait_until(lambda: not h.window.runner.is_running(f"capture:{reference}"))
        assert "nothing was moved" in h.window.statusBar().currentMessage()
        assert h.aggregate(reference) == (1000_00, 0, 0, 0)

    run(scenario)


def test_a_payment_changed_since_confirming_is_asked_again(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        reference = await h.approved()
        dialog = await h.open_move(reference, "capture")  # offers 1000.00
        # Captured elsewhere (the portal, another window) while the dialog is open.
        await h.session.desk.client.capture(reference, Money(900_00, NOK), idempotency_key="elsewhere-1")
        dialog.move_button.click()
        flow = h.window.move_flow
        await wait_until(
            lambda: flow.dialog is not None and flow.dialog is not dialog and flow.dialog.isVisible()
        )
        again = flow.dialog
        assert again is not None
        assert again.changed_label is not None
        assert "changed since you opened" in again.changed_label.text()
        assert again.maximum == Money(100_00, NOK)
        assert again.amount_field.value() == Money(100_00, NOK)
        h.qtbot.keyClick(again, Qt.Key.Key_Escape)
        await wait_until(lambda: flow.dialog is None)
        assert h.aggregate(reference)[1] == 900_00

    run(scenario)


def test_an_unknown_outcome_shows_in_the_row_and_check_now_settles_it(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        w = h.window
        desk = h.session.desk
        reference = await h.approved()
        # A capture whose call was interrupted (sent, no answer): its intent is in the journal, pending.
        intent = await asyncio.to_thread(
            desk.store.journal.begin,
            operation=Operation.CAPTURE,
            profile=desk.profile.name,
            msn=desk.profile.merchant_serial_number,
            reference=reference,
            amount=Money(200_00, NOK),
            idempotency_key="lost-answer-capture-1",
            os_user="tester",
        )
        await asyncio.to_thread(desk.store.journal.note_attempt, intent.id)
        await w.show_pending()
        assert w.select_reference(reference)
        row = w.model.row_of(reference)
        assert row is not None
        assert w.model.index(row, 3).data().startswith("Capture pending: outcome unknown")
        await wait_until(lambda: w.action("check-pending").isEnabled())
        assert not w.action("cancel-payment").isEnabled()
        assert "outcome is unknown" in w.action("cancel-payment").statusTip()
        # The event log does not show it yet: it stays pending, and the person is told.
        w.action("check-pending").trigger()
        await wait_until(lambda: "stays pending" in w.statusBar().currentMessage())
        assert w.model.pending_operation(reference) == "capture"
        # The request had in fact reached the API (with the intent's key): Check now settles it.
        await desk.client.capture(reference, Money(200_00, NOK), idempotency_key="lost-answer-capture-1")
        w.action("check-pending").trigger()
        await wait_until(lambda: w.model.pending_operation(reference) == "", limit=10)
        await wait_until(lambda: h.aggregate(reference)[1] == 200_00, limit=10)
        assert w.action("cancel-payment").isEnabled()
        assert (
            "capture" not in w.model.index(row, 3).data().lower() or "Partly" in w.model.index(row, 3).data()
        )

    run(scenario)


def test_the_same_capture_again_within_minutes_is_sent_only_when_confirmed(run: Callable[..., Any]) -> None:
    """A second capture of the same amount minutes after the first (a re-run after a crash, a double
    click) shows what already happened; "Don't send" (the default) sends nothing, "Capture again"
    sends the second one."""

    async def scenario(h: Harness) -> None:
        reference = await h.approved()
        await h.move(reference, "capture", "200")
        await wait_until(lambda: h.aggregate(reference)[1] == 200_00, limit=10)
        flow = h.window.move_flow

        async def second_capture() -> Any:
            dialog = await h.open_move(reference, "capture")
            dialog.amount_field.edit.setText("200")
            dialog.move_button.click()
            await wait_until(lambda: flow.retry_box is not None and flow.retry_box.isVisible(), limit=10)
            box = flow.retry_box
            assert box is not None
            assert box.objectName() == "SecondOneCheck"
            assert "was already captured" in box.text()
            assert box.defaultButton().text() == "Don't send"
            return box

        before = await h.requests()
        box = await second_capture()
        box.defaultButton().click()
        await wait_until(lambda: not h.window.runner.is_running(f"capture:{reference}"), limit=10)
        assert "nothing was sent" in h.window.statusBar().currentMessage()
        assert h.aggregate(reference)[1] == 200_00

        box = await second_capture()
        next(b for b in box.buttons() if b.text() == "Capture again").click()
        await wait_until(lambda: h.aggregate(reference)[1] == 400_00, limit=10)
        events = (await h.session.desk.refresh(reference)).events
        assert sum(1 for e in events if e.name.value == "CAPTURED" and e.success) == 2
        assert await h.requests() > before

    run(scenario)
