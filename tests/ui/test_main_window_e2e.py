"""The main window end to end against the in-process sandbox with the real PaymentDesk:
confirm → the row shows the new state and the cancelled amount; "Keep payment" → no request is sent; an
API error → message shown, row unchanged; a slow cancel → the event loop keeps ticking."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer

from epay_desktop.app import Session, open_demo
from epay_desktop.domain import Action, Currency, Money, State, TrackedPayment, check_action
from epay_desktop.ui.dialogs.cancel import CancelDialog
from epay_desktop.ui.window.main_window import MainWindow
from tests.support.stalls import BUDGET_S, fmt_ms, stalls_until_within
from tests.support.waiting import wait_until


class Harness:
    def __init__(self, session: Session, window: MainWindow) -> None:
        self.session = session
        self.window = window
        self.controls = session.desk.demo.controls  # type: ignore[union-attr]
        self.msn = session.desk.profile.merchant_serial_number

    def pick(self, want: Callable[[TrackedPayment], bool]) -> TrackedPayment:
        for tracked in self.window.model.payments():
            if tracked.payment is not None and want(tracked):
                return tracked
        raise AssertionError("the demo data has no such payment")

    async def fresh_payment(self) -> TrackedPayment:
        """A new payment waiting for the customer (the demo data's CREATED ones may be mid-3-D Secure)."""
        demo = self.session.desk.demo
        assert demo is not None
        tracked = await demo.new_payment(Money(12_345, Currency.NOK), "Test coffee")
        return tracked

    def row(self, reference: str) -> TrackedPayment:
        tracked = self.window.model.tracked(reference)
        assert tracked is not None
        return tracked

    async def open_cancel_dialog(self, reference: str) -> CancelDialog:
        assert self.window.select_reference(reference)
        await wait_until(self.window.action("cancel-payment").isEnabled)
        self.window.action("cancel-payment").trigger()
        await wait_until(lambda: self.window.cancel_flow.dialog is not None)
        dialog = self.window.cancel_flow.dialog
        assert dialog is not None
        await wait_until(dialog.isVisible)
        return dialog

    async def requests(self) -> int:
        return int((await self.controls.stats())["requests"])


@pytest.fixture
def run(ui_loop: asyncio.AbstractEventLoop, tmp_path: Path, qtbot: Any) -> Callable[..., Any]:
    """Run ``scenario(harness)`` inside a fresh Demo world and window; close everything afterwards."""

    def runner(scenario: Callable[[Harness], Any]) -> Any:
        async def main() -> Any:
            session = await open_demo(tmp_path / "register.sqlite3")
            window = MainWindow(session.desk, show_error_dialogs=False, auto_refresh_ms=3_600_000)
            qtbot.addWidget(window)
            window.show()
            try:
                await window.load(refresh=True)
                return await scenario(Harness(session, window))
            finally:
                await window.shutdown()
                window.close()
                await session.aclose()

        return ui_loop.run_until_complete(main())

    return runner


def reserved_authorized(t: TrackedPayment) -> bool:
    assert t.payment is not None
    return t.payment.state is State.AUTHORIZED and check_action(t.payment, Action.CANCEL).allowed


def test_confirm_cancels_and_the_row_shows_the_new_state(run: Callable[..., Any], qtbot: Any) -> None:
    async def scenario(h: Harness) -> None:
        target = await h.fresh_payment()
        dialog = await h.open_cancel_dialog(target.reference)
        assert dialog.reference_label.text() == target.reference
        assert dialog.amount_label.text().startswith("123")
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: h.row(target.reference).payment.state is State.TERMINATED)  # type: ignore[union-attr]
        await wait_until(lambda: not h.window.runner.is_running(f"cancel:{target.reference}"))
        assert "released to the customer" in h.window.statusBar().currentMessage()
        assert not h.window.action("cancel-payment").isEnabled()
        assert "terminated" in h.window.action("cancel-payment").toolTip()

        partly = h.pick(lambda t: reserved_authorized(t) and bool(t.payment.aggregate.captured))  # type: ignore[union-attr]
        assert partly.payment is not None
        reserved = check_action(partly.payment, Action.CANCEL).amount
        dialog = await h.open_cancel_dialog(partly.reference)
        assert "already captured is not touched" in dialog.outcome_label.text()
        dialog.cancel_button.click()
        await wait_until(lambda: h.row(partly.reference).payment.aggregate.cancelled == reserved)  # type: ignore[union-attr]
        after = h.row(partly.reference).payment
        assert after is not None
        assert after.state is State.AUTHORIZED
        assert after.aggregate.captured == partly.payment.aggregate.captured
        # The details follow the row a frame later.
        await wait_until(lambda: h.window.details.figures["cancelled"].text() != "0.00\u00a0NOK")

    run(scenario)


def test_keep_payment_sends_nothing(run: Callable[..., Any], qtbot: Any) -> None:
    async def scenario(h: Harness) -> None:
        target = h.pick(reserved_authorized)
        dialog = await h.open_cancel_dialog(target.reference)
        await asyncio.sleep(0.35)  # let the selection's own refresh finish before counting
        baseline = await h.requests()
        idle = await h.requests() - baseline  # what counting itself costs
        before = await h.requests()
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        await wait_until(lambda: h.window.cancel_flow.dialog is None)
        assert await h.requests() - before == idle
        assert "nothing was sent" in h.window.statusBar().currentMessage()
        events = await h.session.desk.refresh(target.reference)
        assert all(e.name.value != "CANCELLED" for e in events.events)

    run(scenario)


def test_a_payment_changed_elsewhere_is_not_cancelled_and_the_row_shows_it(
    run: Callable[..., Any], qtbot: Any
) -> None:
    """The customer rejects behind the window's back: the desk reads the payment again before sending,
    sends nothing, and the window says so and shows the fresh state. (An API error's code and traceId
    in the report: tests/ui/test_dialogs_and_panels.py, describe_error.)"""

    async def scenario(h: Harness) -> None:
        target = await h.fresh_payment()
        await h.controls.customer(h.msn, target.reference, "reject")
        h.window.refresh_flow.refresh_one = lambda _ref: None  # type: ignore[method-assign]
        dialog = await h.open_cancel_dialog(target.reference)
        assert h.row(target.reference).payment.state is State.CREATED  # type: ignore[union-attr]
        dialog.cancel_button.click()
        await wait_until(lambda: h.window.presenter.last_report is not None)
        report = h.window.presenter.last_report
        assert report is not None
        assert report.title == "Cancel not done"
        assert report.advice == "Nothing was sent to the API."
        await wait_until(lambda: h.row(target.reference).payment.state is State.ABORTED)  # type: ignore[union-attr]
        assert not h.window.model.is_busy(target.reference)
        assert "Cancel not done" in h.window.statusBar().currentMessage()
        events = await h.session.desk.refresh(target.reference)
        assert all(e.name.value != "CANCELLED" for e in events.events)

    run(scenario)


@pytest.mark.slow
def test_the_loop_keeps_ticking_during_a_slow_cancel(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> float:
        target = h.pick(reserved_authorized)
        dialog = await h.open_cancel_dialog(target.reference)
        await h.controls.set_faults(latency_ms=400)
        loop = asyncio.get_running_loop()
        ticks: list[float] = []
        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(lambda: ticks.append(loop.time()))
        timer.start()
        dialog.cancel_button.click()
        await wait_until(lambda: h.window.model.is_busy(target.reference))
        await wait_until(lambda: not h.window.model.is_busy(target.reference), limit=20)
        timer.stop()
        await h.controls.set_faults()
        assert h.row(target.reference).payment.aggregate.cancelled  # type: ignore[union-attr]
        assert len(ticks) > 20  # the cancel took a while, and the loop ran all along
        return max(b - a for a, b in itertools.pairwise(ticks))

    stalls = stalls_until_within(lambda: run(scenario))
    print("max event-loop stall during a 400 ms-latency cancel, per run:", fmt_ms(stalls))
    assert min(stalls) < BUDGET_S, fmt_ms(stalls)


def test_a_payment_changed_since_confirming_is_asked_again_with_the_fresh_figures(
    run: Callable[..., Any],
) -> None:
    """A capture happens between the confirmation and the send: nothing is sent, the row shows the
    capture, and the confirmation opens again with the new amount and a line saying what changed."""

    async def scenario(h: Harness) -> None:
        target = await h.fresh_payment()  # 123.45 NOK
        await h.controls.customer(h.msn, target.reference, "approve")
        await h.session.desk.refresh(target.reference)  # published: the row shows it
        h.window.refresh_flow.refresh_one = lambda _ref: None  # type: ignore[method-assign]
        first = await h.open_cancel_dialog(target.reference)
        assert first.changed_label is None
        await h.session.desk.capture(target.reference, Money(2_345, Currency.NOK))  # elsewhere
        first.cancel_button.click()
        await wait_until(lambda: h.window.cancel_flow.dialog not in (None, first))
        again = h.window.cancel_flow.dialog
        assert again is not None
        assert again.changed_label is not None
        assert again.changed_label.text().startswith("This payment changed since you opened this dialog")
        assert "100" in again.amount_label.text()
        assert "123" not in again.amount_label.text()
        assert h.row(target.reference).payment.aggregate.captured.value == 2_345  # type: ignore[union-attr]
        assert h.window.presenter.last_report is None  # not an error: a question again
        events = (await h.session.desk.refresh(target.reference)).events
        assert all(e.name.value != "CANCELLED" for e in events)
        await wait_until(again.isVisible)
        again.cancel_button.click()
        await wait_until(lambda: h.row(target.reference).payment.aggregate.cancelled.value == 10_000)  # type: ignore[union-attr]
        await wait_until(lambda: not h.window.runner.is_running(f"cancel:{target.reference}"))
        assert "released to the customer" in h.window.statusBar().currentMessage()

    run(scenario)


def test_closing_during_a_cancel_waits_for_it_and_says_so(run: Callable[..., Any]) -> None:
    async def scenario(h: Harness) -> None:
        target = await h.fresh_payment()
        h.window.refresh_flow.refresh_one = lambda _ref: None  # type: ignore[method-assign]
        dialog = await h.open_cancel_dialog(target.reference)
        await h.controls.set_faults(latency_ms=300)
        dialog.cancel_button.click()
        desk = h.session.desk
        await wait_until(lambda: target.reference in desk.busy_references(), limit=10)
        h.window.close()
        assert h.window.isVisible()  # kept open while the request is in flight
        message = h.window.statusBar().currentMessage()
        assert f"Finishing the cancel of {target.reference}" in message
        assert "(the request was already sent)" in message
        await wait_until(lambda: not h.window.isVisible(), limit=10)
        assert not desk.busy_references()
        await h.controls.set_faults()
        row = h.row(target.reference)
        assert row.payment is not None
        assert row.payment.state is State.TERMINATED  # the window saw the answer before it closed

    run(scenario)
