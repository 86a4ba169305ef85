"""What is going on with a payment right now, by reference, as the table's State cell shows it: an
operation runs on it (busy), an operation was sent without a known outcome (pending), a colleague works
on it. These marks change only that cell's text and its badge's outline, never the row's values, so the
model keeps them apart from the rows: they outlive a sort, a move or a refresh of the row.

``RowMarks`` holds them and says which references a change concerns; ``PaymentsModel`` turns those into
rows and announces them (``runs_to_announce``: one ``dataChanged`` per run of adjacent rows).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from epay_desktop.ui.table.cells import marked_state

# Changed rows in more runs than this are announced as one range (each announcement costs the proxy,
# the view and the kept pixels a pass in Python; a screen shows about 20 rows).
RUNS_ANNOUNCED = 8


class RowMarks:
    """The marks of the payments that have one (busy, pending operation, a colleague's work)."""

    def __init__(self) -> None:
        self._busy: set[str] = set()
        self._pending: dict[str, str] = {}  # reference -> the operation sent without a known outcome
        self._colleagues: dict[str, str] = {}  # reference -> what a colleague does ("Kari is cancelling…")
        # True while some payment has a mark. An attribute, not a method: the model reads it for every
        # painted State cell, and most of the time no payment has one.
        self.any = False

    def set_busy(self, references: Iterable[str], busy: bool) -> list[str]:
        """Mark (or unmark) ``references`` as busy; returns them all (each is announced, changed or not)."""
        marked = list(references)
        if busy:
            self._busy.update(marked)
        else:
            self._busy.difference_update(marked)
        self._changed()
        return marked

    def set_pending(self, pending: Mapping[str, str]) -> list[str]:
        """The operations sent without a known outcome, all of them (reference -> "cancel", "capture" or
        "refund"); returns the references whose mark changed."""
        changed = set(pending.items()) ^ set(self._pending.items())
        self._pending = dict(pending)
        self._changed()
        return [reference for reference, _op in changed]

    def set_colleague(self, reference: str, text: str) -> bool:
        """A colleague's work on ``reference`` (``""``: none); False when that changed nothing (a clear of
        a payment nobody worked on)."""
        if text:
            self._colleagues[reference] = text
        elif self._colleagues.pop(reference, None) is None:
            return False
        self._changed()
        return True

    def keep_only(self, references: Collection[str]) -> None:
        """Forget the busy marks of payments not in ``references`` (the rows shown now). Pending
        operations and colleagues' work stay: they are told again in full when they change."""
        if self._busy:
            self._busy &= set(references)
            self._changed()

    def is_busy(self, reference: str) -> bool:
        return reference in self._busy

    def pending_operation(self, reference: str) -> str:
        """The operation on ``reference`` without a known outcome ("" when there is none)."""
        return self._pending.get(reference, "")

    def colleague_text(self, reference: str) -> str:
        return self._colleagues.get(reference, "")

    def state_text(self, state: str, reference: str) -> str:
        """The State cell's text of ``reference`` whose own state reads ``state``: with its marks."""
        return marked_state(
            state,
            busy=reference in self._busy,
            colleague=self._colleagues.get(reference, ""),
            pending=self._pending.get(reference, ""),
        )

    def _changed(self) -> None:
        self.any = bool(self._busy or self._pending or self._colleagues)


def runs_to_announce(rows: Iterable[int]) -> list[tuple[int, int]]:
    """The runs of adjacent ``rows`` (in any order, repeats allowed) as (first, last), in order; one run
    from the lowest to the highest when they make more than ``RUNS_ANNOUNCED``."""
    ordered = sorted(set(rows))
    runs: list[tuple[int, int]] = []
    for row in ordered:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    if len(runs) > RUNS_ANNOUNCED:
        return [(ordered[0], ordered[-1])]
    return runs


__all__ = ["RUNS_ANNOUNCED", "RowMarks", "runs_to_announce"]
