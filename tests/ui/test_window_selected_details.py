"""``SelectedDetails`` through its public surface: the details panel shows the selected payment at once
when the selection moves, a frame after a change of its row (the changes of one pass together, the last
one as it is), and reads the event log of a payment listed without one once a desk is bound. Real Qt
widgets offscreen; the event log from a real Demo register."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from epay_desktop.app import open_demo
from epay_desktop.domain import Currency, Money, TrackedPayment
from epay_desktop.ui.aio import TaskRunner
from epay_desktop.ui.window.details_panel import DetailsPanel
from epay_desktop.ui.window.selected_details import SelectedDetails
from tests.support.waiting import wait_until
from tests.ui.factories import tracked


class Selection:
    """What the table has selected, and what the panel was asked to show."""

    def __init__(self, panel: DetailsPanel) -> None:
        self.current: TrackedPayment | None = None
        self.shown: list[TrackedPayment | None] = []
        show_payment = panel.show_payment

        def counted(payment: TrackedPayment | None) -> None:
            self.shown.append(payment)
            show_payment(payment)

        panel.show_payment = counted  # type: ignore[method-assign]

    def selected(self) -> TrackedPayment | None:
        return self.current


def made(qtbot: Any) -> tuple[SelectedDetails, Selection]:
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    selection = Selection(panel)
    return SelectedDetails(panel, selection.selected, panel), selection


def test_a_moved_selection_is_shown_at_once(qtbot: Any) -> None:
    part, selection = made(qtbot)
    selection.current = tracked("order-000001", "Coffee beans")
    part.show_now()
    assert selection.shown == [selection.current]
    assert "order-000001" in part.details.title.text()
    selection.current = None
    part.show_now()
    assert selection.shown[-1] is None
    assert part.details.tracked is None


def test_changes_of_the_selected_row_are_shown_once_a_frame_later_as_the_last_left_it(qtbot: Any) -> None:
    part, selection = made(qtbot)
    first = tracked("order-000001", "Coffee beans")
    selection.current = first
    part.show_now()
    for description in ("Coffee beans, ground", "Coffee beans, ground fine"):
        selection.current = replace(first, description=description)
        part.follow()
    assert part.following
    assert selection.shown == [first]  # not yet
    qtbot.waitUntil(lambda: not part.following)
    assert len(selection.shown) == 2
    assert selection.shown[-1] == selection.current
    assert "ground fine" in part.details.title.text()


def test_a_move_shows_at_once_what_waited_and_nothing_comes_after_it(qtbot: Any) -> None:
    part, selection = made(qtbot)
    selection.current = tracked("order-000001", "Coffee beans")
    part.follow()
    selection.current = tracked("order-000002", "Tea")
    part.show_now()
    assert not part.following
    assert selection.shown == [selection.current]
    qtbot.wait(50)  # longer than a frame: nothing was left waiting
    assert len(selection.shown) == 1


def test_stop_drops_what_waits(qtbot: Any) -> None:
    part, selection = made(qtbot)
    selection.current = tracked("order-000001", "Coffee beans")
    part.follow()
    part.stop()
    assert not part.following
    qtbot.wait(50)
    assert selection.shown == []


def test_the_event_log_is_read_only_once_a_desk_is_bound(
    ui_loop: asyncio.AbstractEventLoop, tmp_path: Path, qtbot: Any
) -> None:
    async def main() -> None:
        session = await open_demo(tmp_path / "register.sqlite3")
        errors: list[BaseException] = []
        runner = TaskRunner(lambda _name, error: errors.append(error))
        part, selection = made(qtbot)
        try:
            demo = session.desk.demo
            assert demo is not None
            created = await demo.new_payment(Money(4_200, Currency.NOK), "Test bun")
            await session.desk.refresh(created.reference)  # its log saved in the register
            listed = replace(created, events=None)  # as the list loads it
            selection.current = listed
            part.show_now()
            await asyncio.sleep(0.05)
            assert not runner.is_running("events")
            assert part.details.events.topLevelItemCount() == 0  # no desk: nothing read

            part.bind(session.desk, runner)
            part.show_now()
            await wait_until(lambda: part.details.events.topLevelItemCount() > 0)
            assert "CREATED" in part.details.events.topLevelItem(0).text(0)
            assert errors == []
        finally:
            await runner.shutdown()
            await session.aclose()

    ui_loop.run_until_complete(main())
