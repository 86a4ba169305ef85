"""The add-by-reference dialog: live per-line validation (real widgets, offscreen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from epay_desktop.ui.dialogs.add_payments import AddPaymentsDialog
from tests.ui.dialogs.helpers import save_screenshot, unnamed_controls

PASTED = "order-1001-aaaa\nshort\n\norder_1002\norder-1001-aaaa\norder-1003-cccc\n"


def test_live_validation_lists_bad_lines_with_numbers_and_reasons(qtbot: Any) -> None:
    dialog = AddPaymentsDialog(desk=None)  # type: ignore[arg-type]  # validation never calls the desk
    qtbot.addWidget(dialog)
    assert not dialog.add_button.isEnabled()
    dialog.editor.setPlainText(PASTED)
    # The check runs a moment after typing stops.
    qtbot.waitUntil(lambda: dialog.check.references == ("order-1001-aaaa", "order-1003-cccc"), timeout=2000)
    items = [dialog.problems.item(i).text() for i in range(dialog.problems.count())]
    assert items[0].startswith("Line 2: 'short' is too short (5 characters")
    assert items[1].startswith("Line 4: 'order_1002' has characters a reference cannot have ('_')")
    assert items[2] == "Line 5: order-1001-aaaa repeats line 1."
    assert dialog.summary.text() == "2 references to add, 1 repeated (added once), 2 lines with problems."
    assert dialog.add_button.isEnabled()
    assert dialog.add_button.text() == "&Add 2"
    # The two bad lines are marked in the editor itself.
    marked = sorted(sel.cursor.blockNumber() + 1 for sel in dialog.editor.extraSelections())
    assert marked == [2, 4]


def test_activating_a_problem_selects_its_line(qtbot: Any) -> None:
    dialog = AddPaymentsDialog(desk=None)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.editor.setPlainText(PASTED)
    dialog.validate_now()
    dialog.problems.setCurrentRow(1)
    dialog.problems.itemActivated.emit(dialog.problems.currentItem())
    assert dialog.editor.textCursor().selectedText() == "order_1002"


def test_every_control_has_an_accessible_name(qtbot: Any, tmp_path: Path) -> None:
    dialog = AddPaymentsDialog(desk=None)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.editor.setPlainText(PASTED)
    dialog.validate_now()
    dialog.show()
    qtbot.waitExposed(dialog)
    assert unnamed_controls(dialog) == []
    save_screenshot(dialog, "add-references.png", tmp_path)
