"""The "Who did what" tab of Team mode fits its side panel: at the smallest supported window
(1000 × 650), at the smallest the window can be made, and at 1200 × 760, the time, action, result and
amount are whole (the amount right-aligned), and a long agent name gives way, elided, with its tooltip
whole. Lines are grouped under their day."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from epay_desktop.domain import Currency, Money
from epay_desktop.store import AuditEntry
from epay_desktop.ui.window.main_window import SMALLEST, MainWindow
from epay_desktop.ui.window.payment_history import ACTION, AMOUNT, RESULT, WHEN, WHO, PaymentHistory

LONG_NAME = "margrethe.kristiansen-fjordkaffe-support"
AT = datetime(2026, 12, 1, 18, 50, 53, tzinfo=UTC)


def entry(
    number: int, who: str, action: str, result: str, amount: Money | None, *, day: int = 1
) -> AuditEntry:
    return AuditEntry(
        number, AT.replace(day=day), who, "team", "123456", action, "shop-1", amount, result, "detail"
    )


async def nothing(_reference: str) -> list[AuditEntry]:
    return []


def history_window(qtbot: Any) -> tuple[MainWindow, PaymentHistory]:
    window = MainWindow(show_error_dialogs=False)
    qtbot.addWidget(window)
    history = PaymentHistory(nothing, window.side_panel.panel)
    window.details.add_timeline_tab(history, "Who did what").setCurrentWidget(history)
    history.show_entries(
        [
            entry(4, "kari", "cancel", "succeeded", Money(10_000, Currency.NOK), day=2),
            entry(3, "kari", "cancel", "requested", Money(10_000, Currency.NOK), day=2),
            entry(2, LONG_NAME, "refund", "succeeded", Money(1_234_567, Currency.NOK)),
            entry(1, "vera", "cancel", "refused", None),
        ]
    )
    window.show()
    return window, history


@pytest.mark.parametrize("size", ["smallest supported", "smallest possible", "1200x760"])
def test_the_amount_is_whole_and_the_name_gives_way(qtbot: Any, size: str) -> None:
    window, history = history_window(qtbot)
    if size == "smallest supported":
        window.resize(*SMALLEST)
    elif size == "smallest possible":
        window.resize(window.minimumSizeHint())
    else:
        window.resize(1200, 760)
    qtbot.waitUntil(lambda: history.lines.viewport().width() > 0)
    qtbot.wait(50)
    lines, header = history.lines, history.lines.header()
    metrics = lines.fontMetrics()
    items = history.entry_items()
    assert [item.text(WHO) for item in items] == ["kari", "kari", LONG_NAME, "vera"]
    assert lines.topLevelItemCount() == 2  # two days, each a heading
    # Every column within the panel: nothing is cut at the right edge.
    right = max(header.sectionViewportPosition(c) + header.sectionSize(c) for c in range(header.count()))
    assert right <= lines.viewport().width()
    for column in (WHEN, ACTION, RESULT, AMOUNT):
        for item in items:
            assert header.sectionSize(column) >= metrics.horizontalAdvance(item.text(column)), (
                size,
                column,
                item.text(column),
            )
    widest_amount = max(items, key=lambda i: metrics.horizontalAdvance(i.text(AMOUNT)))
    assert widest_amount.text(AMOUNT).replace("\u00a0", " ").startswith("12")
    assert widest_amount.textAlignment(AMOUNT) & Qt.AlignmentFlag.AlignRight
    # The long name gives way (elided; its tooltip has it whole).
    long_line = items[2]
    assert header.sectionSize(WHO) < metrics.horizontalAdvance(LONG_NAME)
    assert long_line.toolTip(WHO) == LONG_NAME
    shots = os.environ.get("EPAY_TEST_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        assert window.grab().save(str(Path(shots) / f"history-fits-{size.replace(' ', '-')}.png"))
