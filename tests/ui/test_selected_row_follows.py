"""The details panel follows changes of the selected payment's row once per frame: the changes of a few
milliseconds (a busy mark, the outcome, the mark taken off) are shown together, the last one as it is,
while the actions follow each at once; a payment shown again unchanged sets nothing in the panel. A
real window over the in-process sandbox and a real register, offscreen."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget

from epay_desktop.app import open_demo
from epay_desktop.domain import Currency, Money, TrackedPayment
from epay_desktop.services.changes import PaymentChanged
from epay_desktop.ui.window.details_panel import DetailsPanel
from epay_desktop.ui.window.main_window import MainWindow
from tests.support.waiting import wait_until
from tests.ui.factories import tracked


@pytest.fixture
def run(ui_loop: asyncio.AbstractEventLoop, tmp_path: Path) -> Callable[..., Any]:
    def runner(scenario: Callable[[MainWindow], Any]) -> Any:
        async def main() -> Any:
            session = await open_demo(tmp_path / "register.sqlite3")
            window = MainWindow(session.desk, show_error_dialogs=False, auto_refresh_ms=3_600_000)
            window.show()
            try:
                await window.load(refresh=False)
                return await scenario(window)
            finally:
                await window.shutdown()
                window.close()
                await session.aclose()
                shiboken6.delete(window)  # on the GUI thread, now (see conftest)

        return ui_loop.run_until_complete(main())

    return runner


def test_changes_of_the_selected_row_are_shown_together_and_the_last_one_lands(
    run: Callable[..., Any],
) -> None:
    async def scenario(window: MainWindow) -> None:
        assert window.desk is not None
        demo = window.desk.demo
        assert demo is not None
        target = await demo.new_payment(Money(4_200, Currency.NOK), "Test bun")
        assert window.select_reference(target.reference)
        await wait_until(lambda: target.reference in window.details.title.text())
        shown: list[TrackedPayment | None] = []
        show_payment = window.details.show_payment

        def counted(payment: TrackedPayment | None) -> None:
            shown.append(payment)
            show_payment(payment)

        window.details.show_payment = counted  # type: ignore[method-assign]
        row = window.model.tracked(target.reference)
        assert row is not None
        # Three changes of the selected row in one pass: busy, a new description, busy no more.
        window.model.set_busy(target.reference, True)
        assert not window.action("cancel-payment").isEnabled()  # at once: busy
        for description in ("Test bun, warm", "Test bun, warm, with butter"):
            window.desk.changes.publish(
                PaymentChanged(replace(row, description=description), datetime.now(UTC), "refresh")
            )
        window.model.set_busy(target.reference, False)
        assert shown == []  # not yet: a frame later, once
        await wait_until(lambda: len(shown) == 1)
        await asyncio.sleep(0.1)
        assert len(shown) == 1
        assert shown[0] is not None
        assert shown[0].description == "Test bun, warm, with butter"
        assert "Test bun, warm, with butter" in window.details.title.text()
        assert window.action("cancel-payment").isEnabled()  # no longer busy

        # Moving to another row is shown at once, whatever waits.
        other = await demo.new_payment(Money(1_000, Currency.NOK), "Other bun")
        window.model.set_busy(target.reference, True)
        assert window.select_reference(other.reference)
        assert other.reference in window.details.title.text()
        await asyncio.sleep(0.1)
        assert other.reference in window.details.title.text()

    run(scenario)


class Paints(QObject):
    """Counts the paint and layout requests of the widgets it filters."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Paint, QEvent.Type.LayoutRequest):
            self.count += 1
        return False


def test_a_payment_shown_again_unchanged_sets_nothing_in_the_details(qtbot: Any) -> None:
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    panel.resize(380, 700)
    panel.show()
    qtbot.waitExposed(panel)
    payment = tracked("order-000001", "Coffee beans", amount=10_000, minutes=3)
    panel.show_payment(payment)
    qtbot.wait(100)  # its layout and paints, delayed ones too, are done
    paints = Paints()
    for widget in (panel, *panel.findChildren(QWidget)):
        widget.installEventFilter(paints)
    panel.show_payment(replace(payment))  # equal, not the same object
    qtbot.wait(100)
    assert paints.count == 0
    panel.show_payment(replace(payment, description="Coffee beans, ground"))
    QApplication.processEvents()
    assert paints.count > 0
    assert "Coffee beans, ground" in panel.title.text()
