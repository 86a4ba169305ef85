"""The table's first paint at start-up: built and laid out with its painting held back, so it paints
once (``first_paint.held_until_settled``), and its first rows painted straight onto it, not into kept
pixels (``PaintedCells.paint_directly``), with the same pixels, and kept again from the next paint on
(real Qt widgets offscreen, a real register file read by ``app.listing``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QLocale, QObject
from PySide6.QtWidgets import QTableView, QWidget

from epay_desktop.app.listing import list_first, read_register
from epay_desktop.sandbox import SandboxConfig
from epay_desktop.services import Profile, ProfileKind, ProfileStore, register_path
from epay_desktop.store import NewEntry, Store
from epay_desktop.ui.first_paint import held_until_settled, paint_now
from epay_desktop.ui.table.model import Column, PaymentsModel
from epay_desktop.ui.window.main_window import MainWindow
from tests.support.sandbox_server import running_sandbox
from tests.ui.factories import T0, tracked
from tests.ui.register_views import shown_view

MSN = "223344"


class _Paints(QObject):
    """Counts the paints of the viewports (tables' cell areas) of every widget in the application."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and watched.objectName() == "qt_scrollarea_viewport":
            parent = watched.parent()
            if isinstance(parent, QTableView):
                self.count += 1
        return False


def _quiet(qtbot: Any) -> None:
    """Let Qt deliver what is pending (paints, zero-timeout timers) for a few passes of its loop."""
    qtbot.wait(60)


@pytest.fixture
def shown_parent(qtbot: Any) -> QWidget:
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.resize(300, 200)
    assert paint_now(parent)
    return parent


def test_holding_hands_back_the_changes_result_and_ends(qapp: Any, shown_parent: QWidget) -> None:
    child: list[QWidget] = []

    def change() -> str:
        assert not shown_parent.updatesEnabled()
        child.append(QWidget(shown_parent))
        return "built"

    assert held_until_settled(shown_parent, change) == "built"
    assert shown_parent.updatesEnabled()
    assert child[0].updatesEnabled()


def test_holding_ends_when_the_change_fails(qapp: Any, shown_parent: QWidget) -> None:
    def change() -> None:
        raise LookupError("no rows")

    with pytest.raises(LookupError, match="no rows"):
        held_until_settled(shown_parent, change)
    assert shown_parent.updatesEnabled()


def _model() -> PaymentsModel:
    model = PaymentsModel(locale=QLocale.c())
    model.set_payments([tracked(f"order-{i:06d}", "Coffee", amount=1_000 + i, minutes=i) for i in range(30)])
    return model


def test_cells_painted_directly_are_the_same_pixels_and_none_is_kept(qtbot: Any) -> None:
    model = _model()
    model.set_now(T0 + timedelta(minutes=3))
    view = shown_view(qtbot, model, 1100, 360)
    table, painted = view.table, view.painted
    assert table is not None
    assert painted is not None
    table.selectRow(2)
    painted.clear()
    painted.paint_directly(True)
    before = (painted.painted, painted.copied)
    directly = table.viewport().grab().toImage()
    assert painted.kept() == 0
    assert (painted.painted, painted.copied) == before  # nothing went through the kept pixels
    painted.paint_directly(False)
    kept = table.viewport().grab().toImage()
    assert painted.kept() >= 5 * len(Column)
    assert kept == directly
    copied = table.viewport().grab().toImage()
    assert painted.copied >= 5 * len(Column)
    assert copied == directly


# --- at start-up: app.listing -------------------------------------------------------------------------


@pytest.fixture
def served() -> Iterator[str]:
    with running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as url:
        yield url


@pytest.fixture
def profile(app_home: Path, served: str) -> Profile:
    shop = Profile("Shop listed first", ProfileKind.CUSTOM, MSN, "demo-client", served)
    ProfileStore().save(shop)
    return shop


def _fill(path: Path, count: int) -> list[str]:
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    references = [f"listed-{i:04d}" for i in range(count)]
    with Store(path) as store:
        store.register.add(
            MSN, [NewEntry(r, f"Order {r}", start + timedelta(minutes=i)) for i, r in enumerate(references)]
        )
    return references


def test_the_first_rows_are_painted_once_directly_then_kept_again(
    qapp: Any, qtbot: Any, profile: Profile
) -> None:
    references = _fill(register_path(profile), 30)
    window = MainWindow(show_error_dialogs=False, auto_refresh_ms=3_600_000)
    qtbot.addWidget(window)
    assert paint_now(window)
    paints = _Paints()
    qapp.installEventFilter(paints)
    told: list[tuple[int, int, int]] = []

    def first_painted(count: int) -> None:
        painted = window.register_view.painted
        assert painted is not None
        told.append((count, paints.count, painted.kept()))

    collecting: list[bool] = []
    was_collecting = gc.isenabled()
    gc.enable()
    try:
        early = list_first(
            window,
            profile,
            first_rows=10,
            first_painted=lambda count: (first_painted(count), collecting.append(gc.isenabled())),
        )
        collecting_after = gc.isenabled()
    finally:
        qapp.removeEventFilter(paints)
        if not was_collecting:
            gc.disable()
    assert early is not None
    # No garbage collection on the way to the first rows; on again after them.
    assert collecting == [False]
    assert collecting_after
    # The first ten rows: the table painted once, none of its cells kept; then the whole list.
    assert told == [(10, 1, 0)]
    assert window.model.references() == sorted(references, reverse=True)
    painted = window.register_view.painted
    assert painted is not None
    # Kept again: the whole list's paint kept its cells, and a repaint copies them.
    assert painted.kept() > 0
    table = window.register_view.table
    assert table is not None
    copied = painted.copied
    table.viewport().grab()
    assert painted.copied > copied
    early.close()


@pytest.mark.parametrize("held", [True, False])
def test_the_windows_table_is_painted_once_when_held_and_twice_at_once_when_not(
    qapp: Any, qtbot: Any, profile: Profile, held: bool
) -> None:
    # Unheld, Qt repaints the table's resized columns from a zero-timeout timer right after the paint
    # that showed them: the whole screen of rows painted twice. Should Qt stop doing so, the unheld
    # case fails here and the holding is no longer needed.
    _fill(register_path(profile), 30)
    early = read_register(profile, first=10)
    assert early is not None
    window = MainWindow(show_error_dialogs=False, auto_refresh_ms=3_600_000)
    qtbot.addWidget(window)
    assert paint_now(window)
    paints = _Paints()
    qapp.installEventFilter(paints)
    try:
        if held:
            held_until_settled(window.register_view, lambda: window.show_list(early.payments))
        else:
            window.show_list(early.payments)
        qtbot.waitUntil(lambda: paints.count >= 1)
        _quiet(qtbot)
    finally:
        qapp.removeEventFilter(paints)
        early.close()
    assert paints.count == (1 if held else 2)
