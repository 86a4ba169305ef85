"""The Team window's payments table shares its width between the reference and the description: an
empty description column takes nothing the reference wants (hidden when short of room, as wide as its
heading otherwise); with descriptions both get room, each at least its heading; the other columns keep
their widths. At 1200 px, as the Team window is used, with rows with and without descriptions."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from epay_desktop.ui.table.cells import Column
from epay_desktop.ui.table.model import PaymentsModel
from epay_desktop.ui.window.main_window import MainWindow
from epay_desktop.ui.window.team_columns import DescriptionFit, share_widths
from tests.ui.factories import tracked


def test_share_widths_gives_each_its_minimum_then_shares_by_what_more_each_wants() -> None:
    assert share_widths(500, [200, 100], [80, 90]) == [200, 300]  # all fit: the last gets the rest
    assert share_widths(300, [280, 90], [80, 90]) == [210, 90]  # the empty one keeps its minimum
    assert share_widths(250, [280, 200], [80, 100]) == [80 + 70 * 200 // 300, 100 + 70 - 70 * 200 // 300]
    assert share_widths(100, [280, 200], [80, 100]) == [80, 100]  # not even the minimums: the table scrolls
    assert sum(share_widths(333, [400, 250], [81, 97])) == 333


def team_rows(descriptions: bool) -> list[Any]:
    return [
        tracked(
            f"team-{uuid.UUID(int=n * 7919 + 1)}",
            f"Order {n}: 2x Filterkaffe, 1x Kaffekvern (gave)" if descriptions and n % 2 else "",
            amount=10_000 * (n + 1),
        )
        for n in range(6)
    ]


@pytest.mark.parametrize("descriptions", [False, True], ids=["no descriptions", "descriptions"])
def test_the_description_column_is_neither_starved_nor_stealing_at_1200_px(
    qtbot: Any, descriptions: bool
) -> None:
    window = MainWindow(show_error_dialogs=False)
    qtbot.addWidget(window)
    model = PaymentsModel(window)
    table = window.register_view.show_model(model)
    window.register_view.show_table()
    header = table.horizontalHeader()
    before = {c: header.sectionSize(c) for c in Column if c not in (Column.REFERENCE, Column.DESCRIPTION)}
    fit = DescriptionFit(table, model.payments)
    model.set_payments(team_rows(descriptions))
    window.resize(1200, 700)
    window.show()
    # Measured shortly after the rows came (one measure for a burst of changes).
    qtbot.waitUntil(lambda: fit.wants[0] > 0 and (fit.wants[1] > 0) == descriptions, timeout=5_000)
    qtbot.wait(50)
    reference_minimum, description_minimum = fit.minimums()
    reference, description = header.sectionSize(Column.REFERENCE), header.sectionSize(Column.DESCRIPTION)
    # The headings are readable: never squeezed below what they need.
    metrics = header.fontMetrics()
    assert description_minimum > metrics.horizontalAdvance("Description")
    assert reference_minimum > metrics.horizontalAdvance("Reference")
    assert header.isSectionHidden(Column.DESCRIPTION) or description >= description_minimum
    assert reference >= reference_minimum
    # The other columns keep their widths, and everything fits the table's width.
    assert {c: header.sectionSize(c) for c in before} == before
    shown = [c for c in Column if not header.isSectionHidden(c)]
    assert sum(header.sectionSize(c) for c in shown) <= table.viewport().width()
    if descriptions:
        assert not header.isSectionHidden(Column.DESCRIPTION)
        assert description > description_minimum  # rows with words get more than the heading
        assert reference > reference_minimum
    else:
        # Empty, and the reference wants more than is left: the empty column yields it all.
        assert header.isSectionHidden(Column.DESCRIPTION)
        assert reference == table.viewport().width() - sum(before.values())
        # Wide enough for both: the empty column shows, no wider than its heading.
        window.resize(1800, 700)
        qtbot.waitUntil(lambda: not header.isSectionHidden(Column.DESCRIPTION), timeout=5_000)
        assert header.sectionSize(Column.REFERENCE) >= fit.wants[0]
        assert header.sectionSize(Column.DESCRIPTION) >= description_minimum
    shots = os.environ.get("EPAY_TEST_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        name = "with" if descriptions else "without"
        assert window.grab().save(str(Path(shots) / f"team-columns-{name}-descriptions.png"))
