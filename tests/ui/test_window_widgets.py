"""The window's own widgets, on their own: the refresh status, the filter bar, the banner."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QStatusBar

from epay_desktop.domain import BusinessState
from epay_desktop.services import DEMO_PROFILE
from epay_desktop.ui.window.banner import ProfileBanner
from epay_desktop.ui.window.filter_bar import FilterBar
from epay_desktop.ui.window.refresh_status import RefreshStatus
from tests.ui.paints import Paints


def status_bar(qtbot: Any) -> QStatusBar:
    bar = QStatusBar()
    qtbot.addWidget(bar)
    return bar


def shown_in_a_status_bar(qtbot: Any, width: int) -> tuple[QStatusBar, RefreshStatus]:
    """A refresh status in a shown status bar ``width`` wide, as the window places it."""
    bar = status_bar(qtbot)
    status = RefreshStatus(QAction("Stop refresh"), bar)
    bar.addPermanentWidget(status)
    bar.resize(width, 30)
    bar.show()
    return bar, status


def test_the_refresh_status_shows_while_any_refresh_runs(qtbot: Any) -> None:
    _bar, status = shown_in_a_status_bar(qtbot, 900)
    running: list[bool] = []
    lines: list[str] = []
    status.running_changed.connect(running.append)
    status.status_changed.connect(lines.append)
    assert not status.isVisible()
    status.started(40)
    status.started(40)  # a replacing refresh starts before the replaced one finished
    status.progressed(7, 40)
    assert status.isVisible()
    assert status.progress.value() == 7
    status.finished(12, 40, True)  # the replaced one
    assert status.isVisible()
    assert status.running
    status.finished(40, 40, False)
    assert not status.isVisible()
    assert running == [True, False]
    assert lines == ["Refresh stopped after 12 of 40 payments.", "Refreshed 40 of 40 payments."]


def test_the_refresh_progress_is_painted_with_the_window_not_inside_each_step(qtbot: Any) -> None:
    bar, status = shown_in_a_status_bar(qtbot, 900)
    status.started(40)
    qtbot.waitExposed(bar)
    QApplication.processEvents()
    paints = Paints()
    status.progress.installEventFilter(paints)
    status.progressed(7, 40)
    status.progressed(8, 40)
    # QProgressBar.setValue alone would have painted the bar twice by now, inside the calls.
    assert paints.count == 0
    qtbot.waitUntil(lambda: paints.count > 0)
    assert status.progress.value() == 8
    assert status.progress.text() == "Refreshing 8 of 40"


def test_the_refresh_status_says_one_payment_in_the_singular(qtbot: Any) -> None:
    bar = status_bar(qtbot)  # kept: qtbot holds its widgets weakly
    status = RefreshStatus(QAction("Stop refresh"), bar)
    lines: list[str] = []
    status.status_changed.connect(lines.append)
    status.started(1)
    status.finished(1, 1, False)
    status.started(1)
    status.finished(0, 1, True)
    assert lines == ["Refreshed 1 of 1 payment.", "Refresh stopped after 0 of 1 payment."]


def test_the_stop_button_sits_next_to_the_progress_bar(qtbot: Any) -> None:
    _bar, status = shown_in_a_status_bar(qtbot, 1200)
    status.started(3)
    qtbot.waitUntil(status.isVisible)
    gap = status.stop_button.geometry().left() - status.progress.geometry().right()
    assert 0 < gap <= 12
    assert status.width() < 400  # no stretch: the message keeps the room


def test_the_filter_bar_says_what_to_show(qtbot: Any) -> None:
    bar = FilterBar()
    qtbot.addWidget(bar)
    texts: list[str] = []
    states: list[object] = []
    bar.text_changed.connect(texts.append)
    bar.states_changed.connect(states.append)
    bar.search.setText("kaffe")
    bar.state_filter.setCurrentIndex(1)
    assert texts == ["kaffe"]
    to_capture = frozenset({BusinessState.RESERVED, BusinessState.PARTLY_CAPTURED})
    assert states == [to_capture]
    assert bar.states() == to_capture
    offered = [bar.state_filter.itemText(i) for i in range(bar.state_filter.count())]
    assert all(kind.label in offered for kind in BusinessState)
    assert bar.search.accessibleName()
    assert bar.state_filter.accessibleName() == "Filter by state"


def test_the_banner_says_where_you_are(qtbot: Any) -> None:
    banner = ProfileBanner()
    qtbot.addWidget(banner)
    assert banner.objectName() == "OpeningBanner"
    banner.show_profile(DEMO_PROFILE)
    assert banner.objectName() == "DemoBanner"
    assert "Nothing real is touched" in banner.text()
    banner.show_profile(DEMO_PROFILE, read_only=True, damage="The file is damaged.")
    assert banner.objectName() == "ReadOnlyBanner"
    assert banner.text().endswith("The file is damaged.")
