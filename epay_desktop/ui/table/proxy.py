"""The payments table's filter: the rows of a ``PaymentsModel`` that the search text and the state
filter let through, in the source's order (the source sorts itself in one pass; sorting here is
forwarded to it).

Not a ``QSortFilterProxyModel``: the view asks the model for seven roles of every painted cell, and
through that proxy each role was a C++ round trip (``mapToSource`` → ``index`` → ``hasIndex`` → the
source's Python ``rowCount`` and ``columnCount``) before the source's ``data()``; Qt's proxy also does
not pass ``multiData`` on. Here a cell's roles are one Python call that reads the source's row
directly, and rows are mapped by a list of source rows (none while nothing is filtered, so a list of
100,000 rows costs nothing to show).

The source's changes are passed on as Qt's proxy passes them: inserted, removed and changed rows (a
change re-checks the filter for the changed rows, so a row leaves or joins the filtered list as its
state changes), resets, and layout changes (a sort) with the persistent indexes (selection, current
row) moved along through persistent indexes of the source. A filter change removes and inserts rows,
so the selection and current row stay on the rows still shown.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from epay_desktop.domain import BusinessState, RowMark, State, TrackedPayment
from epay_desktop.ui.table.cells import COLUMN_COUNT, STYLE_ROLES, AnyIndex, RowLooks
from epay_desktop.ui.table.model import PaymentsModel


class PaymentsFilterModel(QAbstractTableModel):
    """Filters by text (reference, description) and state; sorting is forwarded to the source model."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._needle = ""
        self._states: frozenset[State | BusinessState | RowMark | None] | None = None
        self._source: PaymentsModel | None = None
        # The source rows shown, ascending; None: every source row (then ``_count`` of them, kept
        # apart from the source's count so that it changes between our begin/end signals).
        self._rows: list[int] | None = None
        self._count = 0
        self._removing: tuple[int, int] | None = None  # the proxy rows between begin/end remove
        self._held: list[tuple[QPersistentModelIndex, QPersistentModelIndex]] = []  # across a layout change
        self._wiring: list[tuple[Any, Any]] = []

    # --- the source -------------------------------------------------------------------------------
    def setSourceModel(self, model: Any) -> None:
        if not isinstance(model, PaymentsModel):
            raise TypeError("PaymentsFilterModel works over a PaymentsModel")
        self.beginResetModel()
        if self._source is not None:
            for signal, slot in self._wiring:
                signal.disconnect(slot)
            self._source.restyled_by_proxy = False
        self._source = model
        self._wiring = [
            (model.modelAboutToBeReset, self.beginResetModel),
            (model.modelReset, self._source_reset),
            (model.rowsInserted, self._source_rows_inserted),
            (model.rowsAboutToBeRemoved, self._source_rows_about_to_be_removed),
            (model.rowsRemoved, self._source_rows_removed),
            (model.dataChanged, self._source_data_changed),
            (model.layoutAboutToBeChanged, self._source_layout_about_to_change),
            (model.layoutChanged, self._source_layout_changed),
            (model.headerDataChanged, self.headerDataChanged),
            (model.stale_marks_changed, self._restyle),
        ]
        for signal, slot in self._wiring:
            signal.connect(slot)
        model.restyled_by_proxy = True
        self._refilter_quietly()
        self.endResetModel()

    def sourceModel(self) -> PaymentsModel | None:
        return self._source

    # --- Qt model interface -----------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid():
            return 0
        rows = self._rows
        return self._count if rows is None else len(rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self._source is None else COLUMN_COUNT

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if self._source is None:
            return None
        if orientation == Qt.Orientation.Vertical:
            return section + 1 if role == Qt.ItemDataRole.DisplayRole else None
        return self._source.headerData(section, orientation, role)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        source = self._source
        if source is None or not index.isValid():
            return None
        rows = self._rows
        row = index.row()
        return source.data_at(row if rows is None else rows[row], index.column(), role)

    def multiData(self, index: AnyIndex, roleDataSpan: Any) -> None:
        source = self._source
        if source is None or not index.isValid():
            return
        rows = self._rows
        row = index.row()
        source.fill_roles(row if rows is None else rows[row], index.column(), roleDataSpan)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        # The source sorts itself in one pass and announces a layout change, which moves our rows.
        if self._source is not None:
            self._source.sort(column, order)

    # --- mapping ----------------------------------------------------------------------------------
    def mapToSource(self, index: AnyIndex) -> QModelIndex:
        if self._source is None or not index.isValid():
            return QModelIndex()
        return self._source.index(self._source_row(index.row()), index.column())

    def mapFromSource(self, index: AnyIndex) -> QModelIndex:
        if self._source is None or not index.isValid():
            return QModelIndex()
        row = self._proxy_row(index.row())
        return self.index(row, index.column()) if row is not None else QModelIndex()

    def _source_row(self, row: int) -> int:
        rows = self._rows
        return row if rows is None else rows[row]

    def _proxy_row(self, source_row: int) -> int | None:
        rows = self._rows
        if rows is None:
            return source_row if 0 <= source_row < self._count else None
        at = bisect_left(rows, source_row)
        return at if at < len(rows) and rows[at] == source_row else None

    # --- our interface ----------------------------------------------------------------------------
    def set_text(self, text: str) -> None:
        needle = text.strip().lower()
        if needle == self._needle:
            return
        self._needle = needle
        self._refilter()

    def set_states(self, states: Iterable[State | BusinessState | RowMark | None] | None) -> None:
        """``None`` shows every state; ``None`` inside the set stands for "not fetched yet"."""
        wanted = frozenset(states) if states is not None else None
        if wanted == self._states:
            return
        self._states = wanted
        self._refilter()

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        """Whether ``source_row`` is shown (Qt's name, as on ``QSortFilterProxyModel``)."""
        if not self._needle and self._states is None:
            return True
        return self._accepts(source_row)

    def shown_kind_counts(self) -> Counter[BusinessState | None]:
        """How many rows of each business state the search and the state filter let through (None: not
        fetched), read from the source's lists (no index per proxy row)."""
        source = self._source
        if source is None:
            return Counter()
        rows = self._rows
        return source.rows.kind_counts(rows)

    def tracked_at(self, row: int) -> TrackedPayment | None:
        if self._source is None or not 0 <= row < self.rowCount():
            return None
        return self._source.tracked_at(self._source_row(row))

    def looks_at(self, row: int) -> RowLooks | None:
        """The looks of the row shown at ``row`` (what a painted cell reads besides its text), straight
        from the source: no ``data()`` round trip through Qt, which costs more than copying the cell."""
        source = self._source
        if source is None:
            return None
        rows = self._rows
        return source.looks_at(row if rows is None else rows[row])

    def text_and_looks_at(self, row: int, column: int) -> tuple[str, RowLooks] | None:
        """The text and the looks of the cell shown at ``row`` and ``column`` (see ``looks_at``)."""
        source = self._source
        if source is None:
            return None
        rows = self._rows
        source_row = row if rows is None else rows[row]
        return source.text_at(source_row, column), source.looks_at(source_row)

    def proxy_row_of(self, reference: str) -> int | None:
        if self._source is None:
            return None
        row = self._source.row_of(reference)
        return self._proxy_row(row) if row is not None else None

    # --- filtering --------------------------------------------------------------------------------
    def _filtering(self) -> bool:
        return bool(self._needle) or self._states is not None

    def _accepts(self, source_row: int) -> bool:
        source = self._source
        if source is None:
            return True
        rows = source.rows  # read directly: one list lookup per row, no call through the model
        if self._needle and self._needle not in rows.haystack_at(source_row):
            return False
        wanted = self._states
        return (
            wanted is None
            or rows.state_at(source_row) in wanted
            or rows.kind_at(source_row) in wanted
            or (RowMark.UNKNOWN_TO_API in wanted and rows.unknown_to_api_at(source_row))
        )

    def _accepted(self, source_rows: Iterable[int]) -> list[int]:
        accepts = self.filterAcceptsRow
        parent = QModelIndex()
        return [row for row in source_rows if accepts(row, parent)]

    def _refilter_quietly(self) -> None:
        """The rows shown, worked out again with no signal (inside a reset)."""
        source = self._source
        count = source.rowCount() if source is not None else 0
        if self._filtering():
            self._rows, self._count = self._accepted(range(count)), 0
        else:
            self._rows, self._count = None, count

    def _refilter(self) -> None:
        """The filter changed: the rows it now hides are removed and the ones it lets through are
        inserted, in runs, so the selection and current row stay on the rows still shown."""
        source = self._source
        if source is None:
            return
        count = source.rowCount()
        wanted = self._accepted(range(count)) if self._filtering() else list(range(count))
        self._become(wanted)
        if not self._filtering():
            self._rows, self._count = None, count

    def _become(self, wanted: list[int]) -> None:
        """Go from the rows shown to ``wanted`` (ascending source rows, none of them new to the source):
        remove the rows not wanted, last run first, then insert the missing ones, first run first."""
        if self._rows is None:
            self._rows, self._count = list(range(self._count)), 0
        shown = self._rows
        keep = set(wanted)
        at = len(shown)
        while at > 0:
            if shown[at - 1] in keep:
                at -= 1
                continue
            last = at - 1
            while at > 0 and shown[at - 1] not in keep:
                at -= 1
            self.beginRemoveRows(QModelIndex(), at, last)
            del shown[at : last + 1]
            self.endRemoveRows()
        present = set(shown)
        position, end = 0, len(wanted)
        while position < end:
            if wanted[position] in present:
                position += 1
                continue
            # ``wanted`` is ascending and holds every row shown: from here on, shown[:position] is
            # wanted[:position], so the run of missing rows goes in at ``position``.
            stop = position
            while stop < end and wanted[stop] not in present:
                stop += 1
            self.beginInsertRows(QModelIndex(), position, stop - 1)
            shown[position:position] = wanted[position:stop]
            self.endInsertRows()
            position = stop

    # --- the source's changes ---------------------------------------------------------------------
    def _source_reset(self) -> None:
        self._refilter_quietly()
        self.endResetModel()

    def _source_rows_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        added = last - first + 1
        rows = self._rows
        if rows is None:
            self.beginInsertRows(QModelIndex(), first, last)
            self._count += added
            self.endInsertRows()
            return
        at = bisect_left(rows, first)
        rows[at:] = [row + added for row in rows[at:]]
        accepted = self._accepted(range(first, last + 1))
        if accepted:
            self.beginInsertRows(QModelIndex(), at, at + len(accepted) - 1)
            rows[at:at] = accepted
            self.endInsertRows()

    def _source_rows_about_to_be_removed(self, _parent: QModelIndex, first: int, last: int) -> None:
        rows = self._rows
        if rows is None:
            lo, hi = first, min(last, self._count - 1) + 1
        else:
            lo, hi = bisect_left(rows, first), bisect_right(rows, last)
        self._removing = (lo, hi)
        if hi > lo:
            self.beginRemoveRows(QModelIndex(), lo, hi - 1)

    def _source_rows_removed(self, _parent: QModelIndex, first: int, last: int) -> None:
        lo, hi = self._removing or (0, 0)
        self._removing = None
        removed = last - first + 1
        rows = self._rows
        if rows is None:
            self._count -= hi - lo
        else:
            rows[lo:] = [row - removed for row in rows[hi:]]
        if hi > lo:
            self.endRemoveRows()

    def _source_data_changed(self, top: QModelIndex, bottom: QModelIndex, roles: list[int]) -> None:
        first, last = top.row(), bottom.row()
        rows = self._rows
        if rows is not None and not roles:
            # What the row shows changed, so whether the filter lets it through may have too.
            lo, hi = bisect_left(rows, first), bisect_right(rows, last)
            before = rows[lo:hi]
            after = self._accepted(range(first, last + 1))
            if after != before:
                self._become(rows[:lo] + after + rows[hi:])
                rows = self._rows
        if rows is None:
            lo, hi = first, last + 1
        else:
            lo, hi = bisect_left(rows, first), bisect_right(rows, last)
        if hi > lo:
            self.dataChanged.emit(self.index(lo, top.column()), self.index(hi - 1, bottom.column()), roles)

    def _source_layout_about_to_change(self) -> None:
        self.layoutAboutToBeChanged.emit()
        source = self._source
        assert source is not None
        # Each persistent index of ours (the selection, the current row) is followed through a
        # persistent index of the source, which the source moves with its rows.
        self._held = [
            (
                QPersistentModelIndex(held),
                QPersistentModelIndex(source.index(self._source_row(held.row()), held.column())),
            )
            for held in self.persistentIndexList()
            if held.isValid()
        ]

    def _source_layout_changed(self) -> None:
        held, self._held = self._held, []
        self._refilter_quietly()
        old: list[QModelIndex] = []
        new: list[QModelIndex] = []
        for ours, theirs in held:
            row = self._proxy_row(theirs.row()) if theirs.isValid() else None
            old.append(self.createIndex(ours.row(), ours.column()))
            new.append(self.index(row, ours.column()) if row is not None else QModelIndex())
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    def _restyle(self, _first: int, _last: int) -> None:
        # One dataChanged over every row for the style roles only: the view repaints what it shows;
        # nothing is re-filtered (the marks do not take part in filtering or sorting).
        rows = self.rowCount()
        if rows:
            self.dataChanged.emit(self.index(0, 0), self.index(rows - 1, COLUMN_COUNT - 1), STYLE_ROLES)


__all__ = ["PaymentsFilterModel"]
