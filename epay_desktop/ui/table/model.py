"""The payments table: a thin ``QAbstractTableModel`` over ``TrackedPayment`` records and a proxy that
filters by text and state and sorts by a key.

Layout: the roles, columns and per-cell text live in ``cells`` (re-exported here), the filter proxy in
``proxy``; this module holds the table model.

Speed (100,000 rows): filling stores the list and precomputes only what the state filter needs (the
state per row; the lowercase haystacks of text search are built on the first search); display
strings are built lazily, once per row, on first paint.
Sorting is done by the source model in one ``list.sort`` on precomputed keys (a Python ``lessThan`` or
``data()`` per comparison would mean millions of calls), announced with a layout change so selection
and persistent indexes follow their rows. Filtering reads the precomputed lists directly.

Stale rows (fetched more than 5 minutes ago, never, or whose last refresh failed) are drawn muted and
italic. Staleness is judged against a ``now`` the model holds (``set_now``, called by the refresh flow on
each refresh and timer tick), never ``datetime.now()`` per ``data()`` call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QLocale, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QFont, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QStyle

from epay_desktop.domain import STALE_AFTER, BusinessState, State, TrackedPayment
from epay_desktop.domain.breakdown import breakdown
from epay_desktop.i18n import _
from epay_desktop.ui.formatting import format_datetime, format_money
from epay_desktop.ui.table.cells import (
    _COLUMN_COUNT,
    HEADERS,
    NO_VALUE,
    STYLE_ROLES,
    SUMMARY_SEPARATOR,
    Column,
    PaymentRoles,
    _AnyIndex,
    _aware,
    _sort_key,
    bar_summary,
    bar_tooltip,
    describe_age,
    freshness_text,
    guarantee_text,
    header,
    lapse_warning,
    state_text,
)

__all__ = [
    "HEADERS",
    "NO_VALUE",
    "STYLE_ROLES",
    "SUMMARY_SEPARATOR",
    "Column",
    "PaymentRoles",
    "PaymentsModel",
    "bar_summary",
    "bar_tooltip",
    "describe_age",
    "freshness_text",
    "guarantee_text",
    "lapse_warning",
    "state_text",
]


class PaymentsModel(QAbstractTableModel):
    """Rows of ``TrackedPayment``; update rows by reference; never holds Qt objects per row."""

    stale_marks_changed = Signal(int, int)  # first and last source row whose stale mark changed

    def __init__(self, parent: QObject | None = None, locale: QLocale | None = None) -> None:
        super().__init__(parent)
        self._locale = locale if locale is not None else QLocale()
        self._rows: list[TrackedPayment] = []
        self._row_of: dict[str, int] = {}
        # What search looks in, per row; built on the first search (None until then): most starts
        # never search, and 100,000 haystacks are a noticeable part of filling the model.
        self._haystacks: list[str] | None = None
        self._states: list[State | None] = []
        self._kinds: list[BusinessState | None] = []  # the business state of each row (None: not fetched)
        self._display: list[tuple[str, ...] | None] = []
        self._busy: set[str] = set()
        self._pending: dict[str, str] = {}  # reference -> the operation sent without a known outcome
        self._colleagues: dict[
            str, str
        ] = {}  # reference -> what a colleague does now ("Kari is cancelling…")
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
                return header(Column(section)) if section != Column.AGGREGATE else _("Where the money is")
            if role == Qt.ItemDataRole.ToolTipRole:
                return header(Column(section))
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
        if role == Qt.ItemDataRole.DecorationRole:
            # A reservation whose capture guarantee ends soon (or has ended) is marked by its amount (a
            # column with room to spare: the reference must stay readable).
            if column == Column.AMOUNT and lapse_warning(tracked, self._now):
                return _warning_icon()
            return None
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
        if role == PaymentRoles.BUSINESS_STATE:
            kind = self._kinds[row]
            return kind if kind is not None else NO_VALUE
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
            return _("{column}: {value}").format(column=header(Column(column)), value=cached[column])
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
        if self._haystacks is not None:
            self._haystacks = [self._haystacks[i] for i in order_rows]
        self._states = [self._states[i] for i in order_rows]
        self._kinds = [self._kinds[i] for i in order_rows]
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
        self._haystacks = None
        self._states = [t.payment.state if t.payment is not None else None for t in rows]
        self._kinds = [t.kind for t in rows]
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
            if self._rows[row] is tracked:
                continue  # the very record shown (a load publishing the rows the window listed first)
            self._rows[row] = tracked
            if self._haystacks is not None:
                self._haystacks[row] = _haystack(tracked)
            self._states[row] = tracked.payment.state if tracked.payment is not None else None
            self._kinds[row] = tracked.kind
            self._display[row] = None
            changed.append(row)
        if changed:
            self.dataChanged.emit(
                self.index(min(changed), 0), self.index(max(changed), _COLUMN_COUNT - 1), []
            )
        if added:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            # Column by column (the rest of a listed register is some 100,000 rows at once).
            self._rows.extend(added)
            self._row_of.update({t.reference: first + i for i, t in enumerate(added)})
            if self._haystacks is not None:
                self._haystacks.extend([_haystack(t) for t in added])
            self._states.extend([t.payment.state if t.payment is not None else None for t in added])
            self._kinds.extend([t.kind for t in added])
            self._display.extend([None] * len(added))
            self.endInsertRows()

    def update_payment(self, tracked: TrackedPayment) -> None:
        self.update_payments((tracked,))

    def remove_payments(self, references: Iterable[str]) -> None:
        """Remove the rows of ``references`` (unknown ones are ignored), one contiguous range at a time."""
        rows = sorted({row for r in references if (row := self._row_of.get(r)) is not None}, reverse=True)
        while rows:
            last = first = rows.pop(0)
            while rows and rows[0] == first - 1:
                first = rows.pop(0)
            self.beginRemoveRows(QModelIndex(), first, last)
            for column in (self._rows, self._states, self._kinds, self._display):
                del column[first : last + 1]
            if self._haystacks is not None:
                del self._haystacks[first : last + 1]
            self._row_of = {t.reference: i for i, t in enumerate(self._rows)}
            self.endRemoveRows()
        self._busy &= self._row_of.keys()

    def set_busy(self, reference: str, busy: bool) -> None:
        if busy:
            self._busy.add(reference)
        else:
            self._busy.discard(reference)
        row = self._row_of.get(reference)
        if row is not None:
            self._display[row] = None
            self.dataChanged.emit(self.index(row, 0), self.index(row, _COLUMN_COUNT - 1), [])

    def set_pending(self, pending: dict[str, str]) -> None:
        """The payments with an operation sent without a known outcome (reference -> "cancel",
        "capture" or "refund"): their State says so until it is settled."""
        changed = set(pending.items()) ^ set(self._pending.items())
        self._pending = dict(pending)
        rows = [row for reference, _op in changed if (row := self._row_of.get(reference)) is not None]
        for row in rows:
            self._display[row] = None
        if rows:
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), _COLUMN_COUNT - 1), [])

    def set_colleague(self, reference: str, text: str) -> None:
        """Show ``text`` (a colleague working on the payment now) in the row's state; "" clears it."""
        if text:
            self._colleagues[reference] = text
        elif self._colleagues.pop(reference, None) is None:
            return
        row = self._row_of.get(reference)
        if row is not None:
            self._display[row] = None
            self.dataChanged.emit(self.index(row, 0), self.index(row, _COLUMN_COUNT - 1), [])

    def colleague_text(self, reference: str) -> str:
        return self._colleagues.get(reference, "")

    def pending_operation(self, reference: str) -> str:
        """The operation on ``reference`` without a known outcome ("" when there is none)."""
        return self._pending.get(reference, "")

    def set_busy_many(self, references: list[str], busy: bool) -> None:
        """Mark (or unmark) many rows at once: one ranged ``dataChanged`` (a batch marks fifty rows)."""
        rows: list[int] = []
        for reference in references:
            (self._busy.add if busy else self._busy.discard)(reference)
            row = self._row_of.get(reference)
            if row is not None:
                self._display[row] = None
                rows.append(row)
        if rows:
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), _COLUMN_COUNT - 1), [])

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

    def kind_counts(self, rows: Iterable[int] | None = None) -> Counter[BusinessState | None]:
        """How many of ``rows`` (every row when None) are in each business state (None: not fetched)."""
        kinds = self._kinds
        return Counter(kinds if rows is None else (kinds[row] for row in rows))

    # the proxy reads these lists directly: one list lookup per row instead of a data() call
    def haystack_at(self, row: int) -> str:
        haystacks = self._haystacks
        if haystacks is None:
            haystacks = self._haystacks = [_haystack(t) for t in self._rows]
        return haystacks[row]

    def state_at(self, row: int) -> State | None:
        return self._states[row]

    def kind_at(self, row: int) -> BusinessState | None:
        """The business state of ``row`` (None: not fetched yet)."""
        return self._kinds[row]

    def unknown_to_api_at(self, row: int) -> bool:
        return self._rows[row].unknown_to_api

    # --- helpers ------------------------------------------------------------------------------------
    def _display_row(self, t: TrackedPayment) -> tuple[str, ...]:
        loc = self._locale
        payment = t.payment
        busy = " (working…)" if t.reference in self._busy else ""
        colleague = self._colleagues.get(t.reference)
        if colleague:
            busy += f" — {colleague}"
        return (
            t.reference,
            t.description or (payment.description if payment is not None else ""),
            format_datetime(t.created_at, loc, seconds=False),
            (_pending_text(self._pending[t.reference]) if t.reference in self._pending else state_text(t))
            + busy,
            format_money(payment.amount, loc) if payment is not None else "",
            bar_summary(breakdown(payment)) if payment is not None else "",
            format_datetime(t.updated_at, loc, seconds=False),
        )

    def _tooltip(self, t: TrackedPayment, column: int) -> str | None:
        if column == Column.UPDATED:
            return freshness_text(t, self._now)
        if column in (Column.AMOUNT, Column.STATE) and lapse_warning(t, self._now):
            return guarantee_text(t.payment, self._now, self._locale)
        if t.fetch_error and (t.payment is None or column == Column.STATE):
            return _("Could not read the payment: {error}").format(error=t.fetch_error)
        if t.payment is None:
            return _("Not fetched from the API yet.")
        if column == Column.AGGREGATE:
            return bar_tooltip(breakdown(t.payment), self._locale)
        if column == Column.STATE and t.payment.state is State.UNKNOWN:
            return _("A state this app does not know: {state}").format(state=t.payment.display_state)
        if column == Column.DESCRIPTION and t.description:
            return t.description
        return None


def _warning_icon() -> QIcon:
    """The style's own warning icon (follows the platform theme), looked up once a row needs it."""
    global _WARNING_ICON
    if _WARNING_ICON is None:
        style = QApplication.style()
        _WARNING_ICON = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
    return _WARNING_ICON


_WARNING_ICON: QIcon | None = None


def _haystack(tracked: TrackedPayment) -> str:
    """What search looks in: reference, description, pspReference and the amount as people type it
    (``1000.00``, ``1000,00``, ``1000``)."""
    payment = tracked.payment
    if payment is None:
        return f"{tracked.reference}\n{tracked.description}".lower()
    # Money.plain() without its string round trips (this runs once per row at load).
    amount = payment.amount
    digits = amount.currency.minor_digits
    units, minor = divmod(abs(amount.value), 10**digits)
    whole = f"-{units}" if amount.value < 0 else str(units)
    return (
        f"{tracked.reference}\n{tracked.description}\n{payment.psp_reference}\n"
        f"{whole}.{minor:0{digits}d}\n{whole},{minor:0{digits}d}\n{whole}"
    ).lower()


def _pending_text(operation: str) -> str:
    from epay_desktop.i18n import _

    texts = {
        "cancel": _("Cancel pending: outcome unknown"),
        "capture": _("Capture pending: outcome unknown"),
        "refund": _("Refund pending: outcome unknown"),
    }
    return texts.get(operation, _("Operation pending: outcome unknown"))
