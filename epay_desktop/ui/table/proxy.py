"""The payments table's filter proxy: filters by text and state over a ``PaymentsModel``, reading its
precomputed per-row lists directly, and forwards sorting to it (the source sorts itself in one pass).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QObject, QSortFilterProxyModel, Qt

from epay_desktop.domain import BusinessState, RowMark, State, TrackedPayment
from epay_desktop.ui.table.cells import STYLE_ROLES, PaymentRoles, _AnyIndex
from epay_desktop.ui.table.model import PaymentsModel


class PaymentsFilterModel(QSortFilterProxyModel):
    """Filters by text (reference, description) and state; sorting is forwarded to the source model."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._needle = ""
        self._states: frozenset[State | BusinessState | RowMark | None] | None = None
        self._source: PaymentsModel | None = None
        self.setDynamicSortFilter(True)

    def setSourceModel(self, model: Any) -> None:
        if not isinstance(model, PaymentsModel):
            raise TypeError("PaymentsFilterModel works over a PaymentsModel")
        if self._source is not None:
            self._source.stale_marks_changed.disconnect(self._restyle)
            self._source.restyled_by_proxy = False
        self._source = model
        super().setSourceModel(model)
        model.restyled_by_proxy = True
        model.stale_marks_changed.connect(self._restyle)

    def _restyle(self, _first: int, _last: int) -> None:
        # One dataChanged over every proxy row for the style roles only: the view repaints what it
        # shows; nothing is re-filtered (the marks do not take part in filtering or sorting).
        rows = self.rowCount()
        if rows:
            self.dataChanged.emit(self.index(0, 0), self.index(rows - 1, self.columnCount() - 1), STYLE_ROLES)

    def set_text(self, text: str) -> None:
        needle = text.strip().lower()
        if needle == self._needle:
            return
        self.beginFilterChange()
        self._needle = needle
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_states(self, states: Iterable[State | BusinessState | RowMark | None] | None) -> None:
        """``None`` shows every state; ``None`` inside the set stands for "not fetched yet"."""
        wanted = frozenset(states) if states is not None else None
        if wanted == self._states:
            return
        self.beginFilterChange()
        self._states = wanted
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _AnyIndex) -> bool:
        # Called for every row inserted (100,000 at a load): nothing more than a test when nothing
        # is filtered.
        if not self._needle and self._states is None:
            return True
        return self._accepts(source_row)

    def shown_kind_counts(self) -> Counter[BusinessState | None]:
        """How many rows of each business state the search and the state filter let through (None: not
        fetched), read from the source's lists (no index per proxy row)."""
        source = self._source
        if source is None:
            return Counter()
        if not self._needle and self._states is None:
            return source.kind_counts()
        return source.kind_counts(filter(self._accepts, range(source.rowCount())))

    def _accepts(self, source_row: int) -> bool:
        source = self._source
        if source is None:
            return True
        if self._needle and self._needle not in source.haystack_at(source_row):
            return False
        wanted = self._states
        return (
            wanted is None
            or source.state_at(source_row) in wanted
            or source.kind_at(source_row) in wanted
            or (RowMark.UNKNOWN_TO_API in wanted and source.unknown_to_api_at(source_row))
        )

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        # The source sorts itself in one pass; the proxy keeps source order (its sortColumn stays -1).
        if self._source is not None:
            self._source.sort(column, order)

    def tracked_at(self, row: int) -> TrackedPayment | None:
        index = self.index(row, 0)
        return index.data(PaymentRoles.TRACKED) if index.isValid() else None

    def proxy_row_of(self, reference: str) -> int | None:
        if self._source is None:
            return None
        row = self._source.row_of(reference)
        if row is None:
            return None
        index = self.mapFromSource(self._source.index(row, 0))
        return index.row() if index.isValid() else None
