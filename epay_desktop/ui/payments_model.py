"""The payments table: a thin ``QAbstractTableModel`` over ``TrackedPayment`` records and a proxy that
filters by text and state and sorts by a key.

Speed (100,000 rows): filling stores the list and precomputes only what filtering needs (a lowercase
haystack and the state per row); display strings are built lazily, once per row, on first paint.
Sorting is done by the source model in one ``list.sort`` on precomputed keys (a Python ``lessThan`` or
``data()`` per comparison would mean millions of calls), announced with a layout change so selection
and persistent indexes follow their rows. Filtering reads the precomputed lists directly.

Stale rows (fetched more than 5 minutes ago, never, or whose last refresh failed) are drawn muted and
italic. Staleness is judged against a ``now`` the model holds (``set_now``, called by the refresh flow on
each refresh and timer tick), never ``datetime.now()`` per ``data()`` call.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QGuiApplication, QPalette

from epay_desktop.domain import STALE_AFTER, State, TrackedPayment
from epay_desktop.domain.breakdown import AmountBreakdown, breakdown
from epay_desktop.ui.formatting import format_datetime, format_money, format_percent

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_AnyIndex = QModelIndex | QPersistentModelIndex


class PaymentRoles(enum.IntEnum):
    """Custom roles, in one place. Delegates and views read these; nobody calls services for data.

    They never answer ``None``: PySide6 6.12 drops a reference to ``None`` each time Python reads an
    empty QVariant through ``QModelIndex.data()`` (the interpreter dies once None's count runs out),
    so "no value" is ``NO_VALUE`` (an empty string) instead."""

    TRACKED = Qt.ItemDataRole.UserRole + 1  # the TrackedPayment
    STATE = (
        Qt.ItemDataRole.UserRole + 2
    )  # the State's name (Qt turns str enums into str); NO_VALUE: unfetched
    AGGREGATE = Qt.ItemDataRole.UserRole + 3  # AmountBreakdown; NO_VALUE before the first fetch
    SORT_KEY = Qt.ItemDataRole.UserRole + 4  # a key that orders the column (ints, datetimes, text)
    BUSY = Qt.ItemDataRole.UserRole + 5  # True while an operation on this payment runs
    REFERENCE = Qt.ItemDataRole.UserRole + 6  # str
    STALE = Qt.ItemDataRole.UserRole + 7  # True: fetched long ago, never, or the last refresh failed


NO_VALUE = ""
# The roles a stale mark changes (the rows' text and order stay as they are).
STYLE_ROLES = [
    Qt.ItemDataRole.FontRole,
    Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.ToolTipRole,
    PaymentRoles.STALE,
]


class Column(enum.IntEnum):
    REFERENCE = 0
    DESCRIPTION = 1
    CREATED = 2
    STATE = 3
    AMOUNT = 4
    AGGREGATE = 5
    UPDATED = 6


HEADERS = {
    Column.REFERENCE: "Reference",
    Column.DESCRIPTION: "Description",
    Column.CREATED: "Created",
    Column.STATE: "State",
    Column.AMOUNT: "Amount",
    Column.AGGREGATE: "Captured / refunded / cancelled / reserved",
    Column.UPDATED: "Last updated",
}
_COLUMN_COUNT = len(Column)
_PART_LABELS = {
    "captured": "Captured",
    "refunded": "Refunded",
    "cancelled": "Cancelled",
    "reserved": "Reserved",
    "awaiting": "Awaiting approval",
}


def state_text(tracked: TrackedPayment) -> str:
    if tracked.payment is None:
        return "Not fetched" if not tracked.fetch_error else "Unavailable"
    return tracked.payment.display_state


SUMMARY_SEPARATOR = ", "  # between the parts of the bar's label (delegates split on it to shorten)


def bar_summary(parts: AmountBreakdown) -> str:
    """A short line for the bar cell: the biggest parts, in percent of the amount."""
    whole = parts.amount.value
    named = [(name, m.value) for name, m in parts.parts() if m.value > 0]
    if not named:
        return "Nothing reserved"
    named.sort(key=lambda item: -item[1])
    return SUMMARY_SEPARATOR.join(f"{format_percent(v, whole)} {name}" for name, v in named[:2])


def bar_tooltip(parts: AmountBreakdown, locale: QLocale | None = None) -> str:
    lines = [f"Amount: {format_money(parts.amount, locale)}"]
    lines += [f"{_PART_LABELS[name]}: {format_money(m, locale)}" for name, m in parts.parts()]
    if parts.scale > parts.amount.value:
        lines.append("The API reports more than the amount; the bar is scaled to fit.")
    return "\n".join(lines)


def describe_age(age: timedelta) -> str:
    """How long ago, roughly: "just now", "40 s ago", "12 min ago", "3 h ago", "2 days ago"."""
    seconds = int(age.total_seconds())
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def freshness_text(tracked: TrackedPayment, now: datetime) -> str:
    """The Last updated cell's tooltip: when the snapshot was fetched and why it may be out of date."""
    if tracked.fetched_at is None:
        text = "Not fetched yet"
    else:
        text = f"Fetched {describe_age(_aware(now) - _aware(tracked.fetched_at))}"
    if tracked.fetch_error:
        text += f"; could not refresh: {tracked.fetch_error}"
    return text


class PaymentsModel(QAbstractTableModel):
    """Rows of ``TrackedPayment``; update rows by reference; never holds Qt objects per row."""

    stale_marks_changed = Signal(int, int)  # first and last source row whose stale mark changed

    def __init__(self, parent: QObject | None = None, locale: QLocale | None = None) -> None:
        super().__init__(parent)
        self._locale = locale if locale is not None else QLocale()
        self._rows: list[TrackedPayment] = []
        self._row_of: dict[str, int] = {}
        self._haystacks: list[str] = []
        self._states: list[State | None] = []
        self._display: list[tuple[str, ...] | None] = []
        self._busy: set[str] = set()
        self._now = datetime.now(UTC)
        self._stale_font = QFont()
        self._stale_font.setItalic(True)  # only italic is set: the view's font supplies the rest
        # True once a PaymentsFilterModel sits on top: it repaints marks that change with time
        # (see set_now), so this model does not emit the dataChanged that would make it re-filter.
        self.restyled_by_proxy = False

    # --- Qt model interface -------------------------------------------------------------------------
    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else _COLUMN_COUNT

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < _COLUMN_COUNT:
            if role == Qt.ItemDataRole.DisplayRole:
                return HEADERS[Column(section)] if section != Column.AGGREGATE else "Where the money is"
            if role == Qt.ItemDataRole.ToolTipRole:
                return HEADERS[Column(section)]
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return section + 1
        return None

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = index.row()
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            cached = self._display[row]
            if cached is None:
                cached = self._display[row] = self._display_row(self._rows[row])
            return cached[column]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column == Column.AMOUNT:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        tracked = self._rows[row]
        if role == Qt.ItemDataRole.FontRole:
            return self._stale_font if tracked.looks_stale(self._now) else None
        if role == Qt.ItemDataRole.ForegroundRole:
            if not tracked.looks_stale(self._now):
                return None
            # The application palette at paint time, so a switch to dark mode is followed at once.
            return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)
        if role == PaymentRoles.STALE:
            return tracked.looks_stale(self._now)
        if role == PaymentRoles.TRACKED:
            return tracked
        if role == PaymentRoles.REFERENCE:
            return tracked.reference
        if role == PaymentRoles.STATE:
            state = self._states[row]
            return state.value if state is not None else NO_VALUE
        if role == PaymentRoles.BUSY:
            return tracked.reference in self._busy
        if role == PaymentRoles.AGGREGATE:
            return breakdown(tracked.payment) if tracked.payment is not None else NO_VALUE
        if role == PaymentRoles.SORT_KEY:
            return _sort_key(tracked, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(tracked, column)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            cached = self._display[row] or self._display_row(tracked)
            return f"{HEADERS[Column(column)]}: {cached[column]}"
        return None

    def flags(self, index: _AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < _COLUMN_COUNT or not self._rows:
            return
        self.layoutAboutToBeChanged.emit()
        keys = [_sort_key(t, column) for t in self._rows]
        order_rows = sorted(
            range(len(self._rows)),
            key=keys.__getitem__,
            reverse=order == Qt.SortOrder.DescendingOrder,
        )
        new_row_of_old = [0] * len(order_rows)
        for new, old in enumerate(order_rows):
            new_row_of_old[old] = new
        self._rows = [self._rows[i] for i in order_rows]
        self._haystacks = [self._haystacks[i] for i in order_rows]
        self._states = [self._states[i] for i in order_rows]
        self._display = [self._display[i] for i in order_rows]
        self._row_of = {t.reference: i for i, t in enumerate(self._rows)}
        old_indexes = self.persistentIndexList()
        new_indexes = [self.index(new_row_of_old[i.row()], i.column()) for i in old_indexes]
        self.changePersistentIndexList(old_indexes, new_indexes)
        self.layoutChanged.emit()

    # --- our interface ------------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        return self._now

    def set_now(self, now: datetime) -> None:
        """Judge staleness against ``now`` from here on, and announce the rows whose mark changed.

        Only the passage of time changes marks here: a row turns stale when its ``fetched_at`` falls
        between the old and the new cut-off. Those rows are found with one comparison per row (no
        method calls), then announced with ``stale_marks_changed`` and, unless a proxy repaints for us,
        one ranged ``dataChanged``. (Through a ``QSortFilterProxyModel`` that ``dataChanged`` would
        re-run ``filterAcceptsRow`` on every row of the range: 100,000 Python calls, ~75 ms.)"""
        before = self._now
        self._now = now
        if not self._rows:
            return
        lo, hi = sorted((_aware(before) - STALE_AFTER, _aware(now) - STALE_AFTER))
        changed = [
            i
            for i, t in enumerate(self._rows)
            if t.fetched_at is not None
            and lo <= t.fetched_at < hi
            and not t.fetch_error
            and t.can_still_change()
        ]
        if not changed:
            return
        first, last = changed[0], changed[-1]
        self.stale_marks_changed.emit(first, last)
        if not self.restyled_by_proxy:
            self.dataChanged.emit(self.index(first, 0), self.index(last, _COLUMN_COUNT - 1), STYLE_ROLES)

    def set_payments(self, payments: Iterable[TrackedPayment]) -> None:
        self.beginResetModel()
        self._now = datetime.now(UTC)  # once per fill: rows read from the register are judged now
        rows = list(payments)
        self._rows = rows
        self._row_of = {t.reference: i for i, t in enumerate(rows)}
        self._haystacks = [f"{t.reference}\n{t.description}".lower() for t in rows]
        self._states = [t.payment.state if t.payment is not None else None for t in rows]
        self._display = [None] * len(rows)
        self._busy &= self._row_of.keys()
        self.endResetModel()

    def update_payments(self, payments: Iterable[TrackedPayment]) -> None:
        """Replace rows by reference (one ranged ``dataChanged``) and append unknown ones."""
        changed: list[int] = []
        added: list[TrackedPayment] = []
        for tracked in payments:
            row = self._row_of.get(tracked.reference)
            if row is None:
                added.append(tracked)
                continue
            self._rows[row] = tracked
            self._haystacks[row] = f"{tracked.reference}\n{tracked.description}".lower()
            self._states[row] = tracked.payment.state if tracked.payment is not None else None
            self._display[row] = None
            changed.append(row)
        if changed:
            self.dataChanged.emit(
                self.index(min(changed), 0), self.index(max(changed), _COLUMN_COUNT - 1), []
            )
        if added:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            for offset, tracked in enumerate(added):
                self._rows.append(tracked)
                self._row_of[tracked.reference] = first + offset
                self._haystacks.append(f"{tracked.reference}\n{tracked.description}".lower())
                self._states.append(tracked.payment.state if tracked.payment is not None else None)
                self._display.append(None)
            self.endInsertRows()

    def update_payment(self, tracked: TrackedPayment) -> None:
        self.update_payments((tracked,))

    def set_busy(self, reference: str, busy: bool) -> None:
        if busy:
            self._busy.add(reference)
        else:
            self._busy.discard(reference)
        row = self._row_of.get(reference)
        if row is not None:
            self._display[row] = None
            self.dataChanged.emit(self.index(row, 0), self.index(row, _COLUMN_COUNT - 1), [])

    def is_busy(self, reference: str) -> bool:
        return reference in self._busy

    def row_of(self, reference: str) -> int | None:
        return self._row_of.get(reference)

    def tracked(self, reference: str) -> TrackedPayment | None:
        row = self._row_of.get(reference)
        return self._rows[row] if row is not None else None

    def tracked_at(self, row: int) -> TrackedPayment:
        return self._rows[row]

    def rows_in_states(self, states: Collection[State | None]) -> list[int]:
        """Rows whose state is one of ``states`` (``None``: not fetched yet); one list scan."""
        return [row for row, state in enumerate(self._states) if state in states]

    def payments(self) -> Sequence[TrackedPayment]:
        return tuple(self._rows)

    def references(self) -> list[str]:
        return [t.reference for t in self._rows]

    def state_counts(self) -> dict[State | None, int]:
        counts: dict[State | None, int] = {}
        for state in self._states:
            counts[state] = counts.get(state, 0) + 1
        return counts

    # the proxy reads these lists directly: one list lookup per row instead of a data() call
    def haystack_at(self, row: int) -> str:
        return self._haystacks[row]

    def state_at(self, row: int) -> State | None:
        return self._states[row]

    # --- helpers ------------------------------------------------------------------------------------
    def _display_row(self, t: TrackedPayment) -> tuple[str, ...]:
        loc = self._locale
        payment = t.payment
        busy = " (working…)" if t.reference in self._busy else ""
        return (
            t.reference,
            t.description or (payment.description if payment is not None else ""),
            format_datetime(t.created_at, loc, seconds=False),
            state_text(t) + busy,
            format_money(payment.amount, loc) if payment is not None else "",
            bar_summary(breakdown(payment)) if payment is not None else "",
            format_datetime(t.updated_at, loc, seconds=False),
        )

    def _tooltip(self, t: TrackedPayment, column: int) -> str | None:
        if column == Column.UPDATED:
            return freshness_text(t, self._now)
        if t.fetch_error and (t.payment is None or column == Column.STATE):
            return f"Could not read the payment: {t.fetch_error}"
        if t.payment is None:
            return "Not fetched from the API yet."
        if column == Column.AGGREGATE:
            return bar_tooltip(breakdown(t.payment), self._locale)
        if column == Column.STATE and t.payment.state is State.UNKNOWN:
            return f"A state this app does not know: {t.payment.display_state}"
        if column == Column.DESCRIPTION and t.description:
            return t.description
        return None


def _sort_key(t: TrackedPayment, column: int) -> Any:
    """Keys of one type per column so ``list.sort`` never compares across types."""
    payment = t.payment
    if column == Column.REFERENCE:
        return t.reference
    if column == Column.DESCRIPTION:
        return (t.description or "").casefold()
    if column == Column.CREATED:
        return _aware(t.created_at)
    if column == Column.STATE:
        return payment.display_state if payment is not None else ""
    if column == Column.AMOUNT:
        return (payment.currency.value, payment.amount.value) if payment is not None else ("", -1)
    if column == Column.AGGREGATE:
        if payment is None:
            return (-1, "")
        parts = breakdown(payment)
        return (parts.captured.value + parts.refunded.value, payment.currency.value)
    if column == Column.UPDATED:
        return _aware(t.updated_at)
    return 0


def _aware(moment: datetime | None) -> datetime:
    if moment is None:
        return _EPOCH
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class PaymentsFilterModel(QSortFilterProxyModel):
    """Filters by text (reference, description) and state; sorting is forwarded to the source model."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._needle = ""
        self._states: frozenset[State | None] | None = None
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

    def set_states(self, states: Iterable[State | None] | None) -> None:
        """``None`` shows every state; ``None`` inside the set stands for "not fetched yet"."""
        wanted = frozenset(states) if states is not None else None
        if wanted == self._states:
            return
        self.beginFilterChange()
        self._states = wanted
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _AnyIndex) -> bool:
        source = self._source
        if source is None:
            return True
        if self._needle and self._needle not in source._haystacks[source_row]:
            return False
        return self._states is None or source._states[source_row] in self._states

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
