"""How the Team window shares its payments table's width between the two columns of free text: the
reference (a team's references are long: the shop's order numbers, or generated ones) and the
description (often empty: the team's list has only what a CSV import or the shop gave it).

The table's own set-up lets the description take whatever is left after the other columns; at 1200 px
with the side panel that is a few letters, even when no row has a description. Here, in Team mode:

- each of the two is at least as wide as its heading (readable, never "scripti");
- an empty description column (no payment in the list has one) takes nothing the reference needs: it
  shows, as wide as its heading, only when the reference has all it wants besides; else it is hidden
  until a description comes;
- when payments have descriptions, the description and the reference share what is left after the
  other columns, each first getting its minimum, the rest in proportion to how much more each wants
  (its longest text in the list, measured); what is left after both have all they want goes to the
  description;
- the other columns keep their widths.

Measured from the desk's rows (plain records: about 2 ms for 10,000), at most every 200 ms while the
list changes, and fitted again when that or the table's width changes (a column dragged by hand keeps
its width until then).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QHeaderView, QTableView

from epay_desktop.domain import TrackedPayment
from epay_desktop.ui.table.cells import Column

LONGEST = 5  # how many of the longest texts are measured (by characters first: cheap)
PADDING = 18  # a cell's margins and a little air
HEADING_PADDING = 14  # a heading's margins
SORT_ARROW = 18  # the room of the sort indicator beside a heading
REFERENCE_MOST = 360  # a reference wider than this is elided (its tooltip and the side panel have it)
DESCRIPTION_MOST = 320
RESCAN_AFTER_MS = 200

__all__ = ["DescriptionFit", "share_widths"]


def share_widths(available: int, wants: Sequence[int], minimums: Sequence[int]) -> list[int]:
    """Widths for columns that share ``available`` pixels: each its want when all fit (the last one
    gets what is left over); else each its minimum and the rest in proportion to how much more each
    wants; each its minimum when not even those fit (the table then scrolls sideways)."""
    wants = [max(w, m) for w, m in zip(wants, minimums, strict=True)]
    if available >= sum(wants):
        widths = list(wants)
        widths[-1] += available - sum(wants)
        return widths
    spare = available - sum(minimums)
    if spare <= 0:
        return list(minimums)
    more = [w - m for w, m in zip(wants, minimums, strict=True)]
    total_more = sum(more)
    widths = [m + spare * extra // total_more for m, extra in zip(minimums, more, strict=True)]
    widths[-1] += available - sum(widths)  # what rounding left
    return widths


class DescriptionFit(QObject):
    """Keeps the reference and description columns of ``table`` fitted (see the module docstring)."""

    def __init__(self, table: QTableView, rows: Callable[[], Iterable[TrackedPayment]]) -> None:
        super().__init__(table)
        self.table = table
        self._rows = rows
        self.header = table.horizontalHeader()
        for column in (Column.REFERENCE, Column.DESCRIPTION):
            self.header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        self.wants: tuple[int, int] = (0, 0)
        self._width = -1
        self._rescan_timer = QTimer(self, singleShot=True, interval=RESCAN_AFTER_MS)
        self._rescan_timer.timeout.connect(self.rescan)
        model = table.model()
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.layoutChanged):
            signal.connect(self._rescan_soon)
        model.dataChanged.connect(self._data_changed)
        table.viewport().installEventFilter(self)
        self.rescan()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.table.viewport():
            self.fit()
        return False

    def _rescan_soon(self) -> None:
        if self.wants[0] == 0:
            self.rescan()  # the first rows: fitted before they are painted
            return
        # Not restarted by the next change: a list that changes all the time is still measured.
        if not self._rescan_timer.isActive():
            self._rescan_timer.start()

    def _data_changed(self, _top: object, _bottom: object, roles: object = None) -> None:
        if roles and Qt.ItemDataRole.DisplayRole not in roles:  # type: ignore[operator]
            return  # a busy mark, a colour, the clock: no text changed
        self._rescan_soon()

    def minimums(self) -> tuple[int, int]:
        """Each column at least as wide as its heading (and the sort arrow, when sorted by it)."""
        model, metrics = self.table.model(), self.header.fontMetrics()

        def heading(column: Column) -> int:
            title = str(model.headerData(column, Qt.Orientation.Horizontal) or "")
            arrow = SORT_ARROW if self.header.sortIndicatorSection() == column else 0
            return metrics.horizontalAdvance(title) + HEADING_PADDING + arrow

        return heading(Column.REFERENCE), heading(Column.DESCRIPTION)

    def rescan(self) -> None:
        """Measure what the list wants; fit again when that changed."""
        metrics = self.table.fontMetrics()
        rows = list(self._rows())

        def widest(texts: Iterable[str]) -> int:
            longest = heapq.nlargest(LONGEST, texts, key=len)
            return max((metrics.horizontalAdvance(text) for text in longest), default=0)

        references = widest(row.reference for row in rows)
        descriptions = widest(row.description for row in rows if row.description)
        # No text at all: the column wants no more than its heading.
        reference = min(references + PADDING, REFERENCE_MOST) if references else 0
        description = min(descriptions + PADDING, DESCRIPTION_MOST) if descriptions else 0
        wants = (reference, description)
        if wants != self.wants:
            self.wants = wants
            self.fit(force=True)

    def fit(self, *, force: bool = False) -> None:
        width = self.table.viewport().width()
        if width <= 0 or (width == self._width and not force):
            return
        self._width = width
        others = sum(
            self.header.sectionSize(column)
            for column in Column
            if column not in (Column.REFERENCE, Column.DESCRIPTION)
            and not self.header.isSectionHidden(column)
        )
        available = width - others
        minimums = self.minimums()
        # An empty column shows (at its heading's width) only where the reference has all it wants.
        empty_yields = self.wants[1] == 0 and available < max(self.wants[0], minimums[0]) + minimums[1]
        self.header.setSectionHidden(Column.DESCRIPTION, empty_yields)
        if empty_yields:
            self.header.resizeSection(Column.REFERENCE, max(available, minimums[0]))
            return
        reference, description = share_widths(available, self.wants, minimums)
        self.header.resizeSection(Column.REFERENCE, reference)
        self.header.resizeSection(Column.DESCRIPTION, description)
