"""The State cell's marks by reference (``RowMarks``), and how changed rows are grouped into the runs the
model announces (``runs_to_announce``): plain Python, no model."""

from __future__ import annotations

from epay_desktop.ui.table.cells import marked_state
from epay_desktop.ui.table.marks import RUNS_ANNOUNCED, RowMarks, runs_to_announce


def test_no_marks_at_first_and_a_row_reads_its_own_state() -> None:
    marks = RowMarks()
    assert not marks.any
    assert not marks.is_busy("order-1")
    assert marks.pending_operation("order-1") == ""
    assert marks.colleague_text("order-1") == ""
    assert marks.state_text("Reserved", "order-1") == "Reserved"


def test_busy_marks_are_set_and_cleared_and_every_reference_is_told() -> None:
    marks = RowMarks()
    assert marks.set_busy(["order-1", "order-2"], True) == ["order-1", "order-2"]
    assert marks.any
    assert marks.is_busy("order-2")
    assert marks.state_text("Reserved", "order-1") == marked_state("Reserved", busy=True)
    # Unmarking a payment that was not busy still names it: the model announces its cell as before.
    assert marks.set_busy(iter(["order-1", "order-3"]), False) == ["order-1", "order-3"]
    assert not marks.is_busy("order-1")
    assert marks.any  # order-2 is still busy
    marks.set_busy(["order-2"], False)
    assert not marks.any


def test_pending_operations_are_told_in_full_and_only_the_changes_are_returned() -> None:
    marks = RowMarks()
    assert sorted(marks.set_pending({"order-1": "capture", "order-2": "cancel"})) == ["order-1", "order-2"]
    assert marks.pending_operation("order-1") == "capture"
    assert marks.state_text("Reserved", "order-1") == marked_state("Reserved", pending="capture")
    # order-1 settled, order-2 unchanged, order-3 sent: order-1 and order-3 changed.
    assert sorted(marks.set_pending({"order-2": "cancel", "order-3": "refund"})) == ["order-1", "order-3"]
    assert marks.pending_operation("order-1") == ""
    # The same operation with another verb is a change too.
    assert sorted(marks.set_pending({"order-2": "capture", "order-3": "refund"})) == ["order-2", "order-2"]
    assert sorted(marks.set_pending({})) == ["order-2", "order-3"]
    assert not marks.any


def test_a_colleagues_work_is_shown_until_cleared_and_a_clear_of_nothing_changes_nothing() -> None:
    marks = RowMarks()
    assert marks.set_colleague("order-1", "") is False
    assert not marks.any
    assert marks.set_colleague("order-1", "kari is cancelling") is True
    assert marks.colleague_text("order-1") == "kari is cancelling"
    assert marks.state_text("Reserved", "order-1") == marked_state("Reserved", colleague="kari is cancelling")
    assert marks.set_colleague("order-1", "") is True
    assert marks.colleague_text("order-1") == ""
    assert not marks.any


def test_all_marks_together_in_one_state_text() -> None:
    marks = RowMarks()
    marks.set_busy(["order-1"], True)
    marks.set_pending({"order-1": "refund"})
    marks.set_colleague("order-1", "ola is capturing")
    assert marks.state_text("Captured", "order-1") == marked_state(
        "Captured", busy=True, colleague="ola is capturing", pending="refund"
    )
    assert marks.state_text("Captured", "order-2") == "Captured"


def test_keep_only_forgets_busy_marks_of_rows_gone_and_keeps_the_rest() -> None:
    marks = RowMarks()
    marks.set_busy(["order-1", "order-2"], True)
    marks.set_pending({"order-3": "cancel"})
    marks.set_colleague("order-4", "kari is cancelling")
    marks.keep_only(["order-2"])
    assert not marks.is_busy("order-1")
    assert marks.is_busy("order-2")
    assert marks.pending_operation("order-3") == "cancel"
    assert marks.colleague_text("order-4") == "kari is cancelling"
    marks.set_pending({})
    marks.set_colleague("order-4", "")
    marks.keep_only([])
    assert not marks.any


def test_rows_are_grouped_in_runs_of_adjacent_rows_in_order() -> None:
    assert runs_to_announce([]) == []
    assert runs_to_announce([5]) == [(5, 5)]
    assert runs_to_announce([3, 1, 2, 2, 7, 9, 8]) == [(1, 3), (7, 9)]


def test_more_runs_than_announced_make_one_run_over_all() -> None:
    spaced = list(range(0, RUNS_ANNOUNCED * 2, 2))  # as many runs as are announced
    assert runs_to_announce(spaced) == [(row, row) for row in spaced]
    one_more = [*spaced, RUNS_ANNOUNCED * 2 + 10]
    assert runs_to_announce(reversed(one_more)) == [(0, RUNS_ANNOUNCED * 2 + 10)]
