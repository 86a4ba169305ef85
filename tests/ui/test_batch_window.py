"""Batch actions through the window against the in-process sandbox: the preview lists each payment with
what will happen and the skipped with why; Keep sends nothing; a 50-payment batch at 200 ms latency
runs with the event loop ticking (max stall under the 50 ms budget), each payment moved once."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, QTimer

from epay_desktop.app import Session, open_demo
from epay_desktop.domain import Currency, Money, State
from epay_desktop.services.batch import BatchOutcome
from epay_desktop.ui.window.main_window import MainWindow
from tests.support.stalls import BUDGET_S, fmt_ms, stalls_until_within
from tests.support.waiting import wait_until

NOK = Currency.NOK


async def approved(session: Session, count: int) -> list[str]:
    demo = session.desk.demo
    assert demo is not None
    refs = []
    for i in range(count):
        tracked = await demo.new_payment(Money(100_00 + i, NOK), f"Batch {i}")
        await demo.customer(tracked.reference, "approve")
        refs.append(tracked.reference)
    return refs


def select(window: MainWindow, references: list[str]) -> None:
    table = window.register_view.table
    assert table is not None
    table.clearSelection()
    model = table.selectionModel()
    for reference in references:
        assert window.select_reference(reference)
    window.select_reference(references[0])
    for reference in references:
        row = window.register_view.proxy.proxy_row_of(reference)  # type: ignore[union-attr]
        assert row is not None
        model.select(
            table.model().index(row, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )


@pytest.fixture
def run(ui_loop: asyncio.AbstractEventLoop, tmp_path: Path, qtbot: Any) -> Callable[..., Any]:
    def runner(scenario: Callable[[Session, MainWindow], Any]) -> Any:
        async def main() -> Any:
            session = await open_demo(tmp_path / "register.sqlite3")
            window = MainWindow(session.desk, show_error_dialogs=False, auto_refresh_ms=3_600_000)
            qtbot.addWidget(window)
            window.show()
            try:
                await window.load(refresh=False)
                return await scenario(session, window)
            finally:
                await window.shutdown()
                window.close()
                await session.aclose()

        return ui_loop.run_until_complete(main())

    return runner


def test_the_preview_says_what_will_happen_and_keep_sends_nothing(run: Callable[..., Any]) -> None:
    async def scenario(session: Session, window: MainWindow) -> None:
        refs = await approved(session, 2)
        demo = session.desk.demo
        assert demo is not None
        waiting = await demo.new_payment(Money(50_00, NOK), "Not approved")
        await wait_until(lambda: all(window.model.tracked(r) is not None for r in [*refs, waiting.reference]))
        select(window, [*refs, waiting.reference])
        assert len(window.register_view.selected_rows()) == 3
        window.action("batch-capture").trigger()
        await wait_until(
            lambda: window.batch_flow.dialog is not None and window.batch_flow.dialog.isVisible()
        )
        dialog = window.batch_flow.dialog
        assert dialog is not None
        assert dialog.windowTitle() == "Capture 2 payments"
        texts = {dialog.rows.topLevelItem(i).text(0): dialog.rows.topLevelItem(i).text(1) for i in range(3)}
        assert texts[refs[0]].startswith("Capture 100.00")
        assert texts[waiting.reference].startswith("Skipped: The customer has not approved")
        assert "200.01" in dialog.headline.text()
        assert dialog.keep_button.isDefault()
        dialog.keep_button.click()
        await wait_until(lambda: window.batch_flow.dialog is None)
        assert "nothing was sent" in window.statusBar().currentMessage()
        for ref in refs:
            assert "CAPTURED" not in [e.name.value for e in (await session.desk.refresh(ref)).events]

    run(scenario)


def test_a_batch_of_one_payment_says_payment_in_the_singular(run: Callable[..., Any]) -> None:
    async def scenario(session: Session, window: MainWindow) -> None:
        refs = await approved(session, 1)
        demo = session.desk.demo
        assert demo is not None
        waiting = await demo.new_payment(Money(50_00, NOK), "Not approved")
        await wait_until(lambda: all(window.model.tracked(r) is not None for r in [*refs, waiting.reference]))
        select(window, [*refs, waiting.reference])
        window.action("batch-capture").trigger()
        await wait_until(
            lambda: window.batch_flow.dialog is not None and window.batch_flow.dialog.isVisible()
        )
        dialog = window.batch_flow.dialog
        assert dialog is not None
        assert dialog.windowTitle() == "Capture 1 payment"
        assert "from 1 payment (" in dialog.headline.text()
        dialog.keep_button.click()
        await wait_until(lambda: window.batch_flow.dialog is None)

    run(scenario)


class WholePaints(QObject):
    """Paints of a list's viewport from its left edge: the whole rows (the last column, stretched to the
    list's width once shown, may be painted again on its own)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and event.rect().left() == 0:  # type: ignore[attr-defined]
            self.count += 1
        return False


def test_the_batch_dialog_is_painted_once_when_it_opens(run: Callable[..., Any]) -> None:
    """Showing asks each widget for an update by a posted event, delivered after the window's expose:
    unmarked until then, the whole dialog was painted again right after its first paint."""

    async def scenario(session: Session, window: MainWindow) -> None:
        refs = await approved(session, 3)
        await wait_until(lambda: all(window.model.tracked(r) is not None for r in refs))
        select(window, refs)
        paints = WholePaints()
        window.batch_flow.dialog_opened.connect(
            lambda dialog: dialog.rows.viewport().installEventFilter(paints)
        )
        window.action("batch-cancel").trigger()
        await wait_until(lambda: paints.count > 0)
        await asyncio.sleep(0.3)
        dialog = window.batch_flow.dialog
        assert dialog is not None
        assert paints.count == 1
        dialog.keep_button.click()
        await wait_until(lambda: window.batch_flow.dialog is None)

    run(scenario)


def test_a_fifty_payment_batch_keeps_the_loop_ticking(run: Callable[..., Any]) -> None:
    async def scenario(session: Session, window: MainWindow) -> float:
        refs = await approved(session, 50)
        await wait_until(lambda: all(window.model.tracked(r) is not None for r in refs))
        select(window, refs)
        controls = session.desk.demo.controls  # type: ignore[union-attr]
        await controls.set_faults(latency_ms=200)
        window.action("batch-cancel").trigger()
        await wait_until(
            lambda: window.batch_flow.dialog is not None and window.batch_flow.dialog.isVisible()
        )
        dialog = window.batch_flow.dialog
        assert dialog is not None
        # Shown once every row is listed (a step per pass of the loop, while hidden): one first paint.
        assert dialog.rows_complete
        listed = [dialog.rows.topLevelItem(i).text(0) for i in range(dialog.rows.topLevelItemCount())]
        assert sorted(listed) == sorted(refs)
        loop = asyncio.get_running_loop()
        ticks: list[float] = []
        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(lambda: ticks.append(loop.time()))
        timer.start()
        dialog.start_button.click()
        await wait_until(lambda: dialog.finished_run, limit=120)
        timer.stop()
        await controls.set_faults()
        summary = dialog.last_summary
        dialog.keep_button.click()
        await wait_until(lambda: window.batch_flow.dialog is None)
        assert summary.startswith("50 done")
        for ref in refs:
            payment = window.model.tracked(ref).payment  # type: ignore[union-attr]
            assert payment is not None
            assert payment.state is State.TERMINATED or payment.aggregate.cancelled
        assert len(ticks) > 50
        return max(b - a for a, b in itertools.pairwise(ticks))

    stalls = stalls_until_within(lambda: run(scenario))
    print("max event-loop stall during a 50-payment batch at 200 ms latency, per run:", fmt_ms(stalls))
    assert min(stalls) < BUDGET_S, fmt_ms(stalls)


def test_batch_outcomes_have_words() -> None:
    from epay_desktop.ui.dialogs.batch import RESULT_WORDS

    assert set(RESULT_WORDS) == set(BatchOutcome)
