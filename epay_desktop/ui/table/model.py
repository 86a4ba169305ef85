"""The payments table: a thin ``QAbstractTableModel`` over the list kept column by column
(``domain.listed.ListedPayments``) and a proxy that filters by text and state and sorts by a key.

Layout: the roles, columns and per-cell text live in ``cells`` (re-exported here), the filter proxy in
``proxy``; this module holds the table model, which composes three parts, each with its own state: the
rows column by column with what is derived from them (``rows.TableRows``: business states, search
texts, rows by reference, kept in step through every change of order), the rows' records
(``records.RowRecords``: kept as they came, or built lately) and the State cell's marks
(``marks.RowMarks``: busy, pending operation, a colleague's work). The model answers Qt from them,
keeps the painted rows' texts and looks, and announces every change.

Speed and memory (100,000 rows): the rows are the register's list as read, column by column: plain
values, no record per row. A row's ``TrackedPayment`` is built when something asks for it (a painted
cell's text and tooltip, the side panel, an export, an action) and the last few hundred built are kept;
a record published by a refresh or an operation is kept as it came (with its event log). Filling
computes only what the state filter and the counts need (the business state of each row, by the
domain's rule from the row's values); the lowercase haystacks of text search are built on the first
search, the index of rows by reference on the first update, and display strings on first paint.
Sorting is done by the source model in one ``list.sort`` on keys read from the columns (a Python
``lessThan`` or ``data()`` per comparison would mean millions of calls), announced with a layout change
so selection and persistent indexes follow their rows. Filtering reads the columns directly.

Stale rows (fetched more than 5 minutes ago, never, or whose last refresh failed) are drawn muted and
italic. Staleness is judged against a ``now`` the model holds (``set_now``, called by the refresh flow on
each refresh and timer tick), never ``datetime.now()`` per ``data()`` call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, overload

from PySide6.QtCore import QAbstractTableModel, QLocale, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QStyle

from epay_desktop.domain import STALE_AFTER, BusinessState, State, TrackedPayment
from epay_desktop.domain.breakdown import breakdown
from epay_desktop.domain.listed import (
    EPOCH,
    NO_TIME,
    ListedPayments,
    micros,
    moment_of,
)
from epay_desktop.i18n import _
from epay_desktop.ui.table.cells import (
    COLUMN_COUNT,
    HEADERS,
    NO_VALUE,
    STYLE_ROLES,
    SUMMARY_SEPARATOR,
    AnyIndex,
    Column,
    PaymentRoles,
    RowLooks,
    aware,
    bar_shares,
    bar_summary,
    bar_tooltip,
    describe_age,
    display_row,
    freshness_text,
    guarantee_text,
    header,
    lapse_warning,
    sort_key,
    state_text,
    tooltip_text,
)
from epay_desktop.ui.table.marks import RowMarks, runs_to_announce
from epay_desktop.ui.table.records import BUILT_KEPT, RowRecords
from epay_desktop.ui.table.rows import TableRows, moved

__all__ = [
    "HEADERS",
    "NO_VALUE",
    "STYLE_ROLES",
    "SUMMARY_SEPARATOR",
    "Column",
    "PaymentRoles",
    "PaymentsModel",
    "RowLooks",
    "bar_summary",
    "bar_tooltip",
    "describe_age",
    "freshness_text",
    "guarantee_text",
    "lapse_warning",
    "state_text",
]


class PaymentsModel(QAbstractTableModel):
    """The list's rows, column by column; rows are updated by reference; never holds Qt objects per
    row (see the module docstring)."""

    stale_marks_changed = Signal(int, int)  # first and last source row whose stale mark changed

    def __init__(self, parent: QObject | None = None, locale: QLocale | None = None) -> None:
        super().__init__(parent)
        self._locale = locale if locale is not None else QLocale()
        # The rows column by column, with their business states, search texts and rows by reference.
        # Public for reading (the proxy filters by it); changed only through this model, which
        # announces each change.
        self.rows = TableRows()
        # Records that came as records (a refresh, an operation, a team list), by reference: shown as
        # they came. Every other row's record is built from its columns when asked for.
        self._records = RowRecords()
        # By row, for the painted rows: their texts (the State's without its marks) and their looks.
        self._display: dict[int, tuple[str, ...]] = {}
        self._looks: dict[int, RowLooks] = {}
        self._marks = RowMarks()  # busy, pending and colleagues' marks: the State cell's only
        self._now = datetime.now(UTC)
        self._stale_font = QFont()
        self._stale_font.setItalic(True)  # only italic is set: the view's font supplies the rest
        # True once a PaymentsFilterModel sits on top: it repaints marks that change with time
        # (see set_now), so this model does not emit the dataChanged that would make it re-filter.
        self.restyled_by_proxy = False
        self._told_painted: Callable[[], None] | None = None

    def when_painted(self, told: Callable[[], None]) -> None:
        """Call ``told`` once, right after the next paint that asks for a cell of this model (the start-up
        says so when the register's rows are on screen): a plain cell's roles (``multiData``), or a
        delegate's read of the row's looks, which it reads also when it copies pixels it kept."""
        self._told_painted = told

    def _tell_painted(self) -> None:
        told, self._told_painted = self._told_painted, None
        if told is not None:
            QTimer.singleShot(0, told)  # after this paint

    # --- Qt model interface -------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows.listed.references)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else COLUMN_COUNT

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < COLUMN_COUNT:
            if role == Qt.ItemDataRole.DisplayRole:
                return header(Column(section)) if section != Column.AGGREGATE else _("Where the money is")
            if role == Qt.ItemDataRole.ToolTipRole:
                return header(Column(section))
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return section + 1
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        return self.data_at(index.row(), index.column(), role)

    def multiData(self, index: AnyIndex, roleDataSpan: Any) -> None:
        # A plain cell's paint asks seven roles at once (QStyledItemDelegate.initStyleOption): one call
        # into Python instead of seven.
        if index.isValid():
            self.fill_roles(index.row(), index.column(), roleDataSpan)

    def fill_roles(self, row: int, column: int, roles: Any) -> None:
        """Fill a ``QModelRoleDataSpan`` with the values of row ``row``'s cell in ``column``: the roles a
        paint asks read the row's kept texts and looks once; any other role is ``data_at``'s."""
        if self._told_painted is not None:
            self._tell_painted()
        texts = self._display.get(row)
        if texts is None:
            texts = self._display_of(row)
        looks = self._looks.get(row)
        if looks is None:
            looks = self._looks_at(row)
        value: Any
        for slot in roles:
            role = slot.role()
            if role == _DISPLAY:
                slot.setData(self._state_cell(row) if column == _STATE_COLUMN else texts[column])
                continue
            if role == _FONT:
                value = self._stale_font if looks.stale else None
            elif role == _ALIGNMENT:
                value = _RIGHT_ALIGNED if column == _AMOUNT_COLUMN else None
            elif role == _FOREGROUND:
                value = self.data_at(row, column, role) if looks.stale else None
            elif role == _DECORATION:
                value = _warning_icon() if column == _AMOUNT_COLUMN and looks.warning else None
            else:
                value = self.data_at(row, column, role)
            # PySide may hand over slots that still hold an earlier cell's value: always write.
            if value is not None:
                slot.setData(value)
            else:
                slot.clearData()

    def data_at(self, row: int, column: int, role: int) -> Any:
        """What ``data()`` answers for row ``row`` and ``column`` (valid ones). The roles a paint asks
        come first and read what is kept per row (the texts, the ``RowLooks``); roles nobody here
        answers fall through to None after a few integer comparisons."""
        if role == _DISPLAY:
            return self.text_at(row, column)
        if role == _FONT:
            return self._stale_font if self._looks_at(row).stale else None
        if role == _ALIGNMENT:
            return _RIGHT_ALIGNED if column == _AMOUNT_COLUMN else None
        if role == _FOREGROUND:
            if not self._looks_at(row).stale:
                return None
            # The application palette at paint time, so a switch to dark mode is followed at once.
            return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)
        if role == _DECORATION:
            # A reservation whose capture guarantee ends soon (or has ended) is marked by its amount (a
            # column with room to spare: the reference must stay readable).
            if column == _AMOUNT_COLUMN and self._looks_at(row).warning:
                return _warning_icon()
            return None
        if role < _USER:
            if role == _TOOLTIP:
                return tooltip_text(self._records.at(self.rows.listed, row), column, self._now, self._locale)
            if role == _ACCESSIBLE_TEXT:
                return _("{column}: {value}").format(
                    column=header(Column(column)), value=self.text_at(row, column)
                )
            return None
        if role == PaymentRoles.LOOKS:
            return self.looks_at(row)  # a delegate painting (or copying) the cell asks it
        if role == PaymentRoles.TRACKED:
            return self._records.at(self.rows.listed, row)
        if role == PaymentRoles.REFERENCE:
            return self.rows.listed.references[row]
        if role == PaymentRoles.STATE:
            return self._looks_at(row).state
        if role == PaymentRoles.BUSINESS_STATE:
            return self._looks_at(row).kind
        if role == PaymentRoles.BUSY:
            return self._marks.is_busy(self.rows.listed.references[row])
        if role == PaymentRoles.STALE:
            return self._looks_at(row).stale
        if role == PaymentRoles.AGGREGATE:
            parts = self._looks_at(row).parts
            return parts if parts is not None else NO_VALUE
        if role == PaymentRoles.SORT_KEY:
            return sort_key(self._records.at(self.rows.listed, row), column)
        return None

    def looks_at(self, row: int) -> RowLooks:
        """Row ``row``'s looks (``PaymentRoles.LOOKS`` without the round trip through Qt: a painted
        cell asks for them on every paint, copied or not). Tells ``when_painted`` as that role does."""
        if self._told_painted is not None:
            self._tell_painted()
        return self._looks_at(row)

    def text_at(self, row: int, column: int) -> str:
        """The text of row ``row``'s cell in ``column`` (its ``DisplayRole``)."""
        return self._state_cell(row) if column == _STATE_COLUMN else self._display_of(row)[column]

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < COLUMN_COUNT or not self.rowCount():
            return
        self.layoutAboutToBeChanged.emit()
        order_rows = self.rows.order_by(column, order == Qt.SortOrder.DescendingOrder)
        new_row_of_old = [0] * len(order_rows)
        for new, old in enumerate(order_rows):
            new_row_of_old[old] = new
        self.rows.reorder(order_rows)
        self._forget_rows()
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

        Only the passage of time changes marks here: a row turns stale when its fetch time falls
        between the old and the new cut-off. Those rows are found with one comparison per row (no
        method calls), then announced with ``stale_marks_changed`` and, unless a proxy repaints for us,
        one ranged ``dataChanged``. (Through a ``QSortFilterProxyModel`` that ``dataChanged`` would
        re-run ``filterAcceptsRow`` on every row of the range: 100,000 Python calls, ~75 ms.)"""
        before = self._now
        self._now = now
        self._looks = {}  # stale marks and guarantee warnings are judged against now
        if not self.rowCount():
            return
        lo, hi = sorted((micros(aware(before) - STALE_AFTER), micros(aware(now) - STALE_AFTER)))
        listed = self.rows.listed
        errors = listed.errors
        changed = [
            i
            for i, fetched in enumerate(listed.fetched)
            if lo <= fetched < hi and not errors[i] and listed.can_still_change(i)
        ]
        if not changed:
            return
        first, last = changed[0], changed[-1]
        self.stale_marks_changed.emit(first, last)
        if not self.restyled_by_proxy:
            self.dataChanged.emit(self.index(first, 0), self.index(last, COLUMN_COUNT - 1), STYLE_ROLES)

    def shows(self, listed: ListedPayments) -> bool:
        """These rows are ``listed`` itself (as given to ``set_listed`` or ``update_listed``)."""
        return listed is self.rows.listed

    def set_listed(self, listed: ListedPayments) -> None:
        """Show ``listed`` (taken over, not copied: the model writes to it from here on), in one reset."""
        self.beginResetModel()
        self._now = datetime.now(UTC)  # once per fill: rows read from the register are judged now
        self.rows.reset(listed)
        self._records.clear()
        self._forget_rows()
        self._marks.keep_only(listed.references)
        self.endResetModel()

    def set_payments(self, payments: Iterable[TrackedPayment]) -> None:
        """Show ``payments`` (records, kept as they are), in one reset."""
        rows = list(payments)
        msn = rows[0].merchant_serial_number if rows else ""
        self.set_listed(ListedPayments.of(msn, rows))
        self._records.keep(rows)

    def update_listed(self, listed: ListedPayments, skip: Collection[str] = ()) -> None:
        """``listed``'s rows, by reference: the known rows take its values (one ranged ``dataChanged``;
        ``skip``: references to leave as they are), the others are added after them in one insert. When
        the rows shown are ``listed``'s first rows (a first screenful read before the whole list),
        ``listed`` is taken over."""
        count = self.rowCount()
        if not count:
            self.set_listed(listed)
            return
        if (
            not skip
            and not self._records.any_kept
            and listed.references[:count] == self.rows.listed.references
        ):
            self._take_over(listed, count)
            return
        row_of = self.rows.rows_by_reference()
        changed: list[int] = []
        added: list[int] = []
        for at, reference in enumerate(listed.references):
            row = row_of.get(reference)
            if row is None:
                added.append(at)
            elif reference not in skip:
                self.rows.copy_row(row, listed, at)
                self._records.forget(reference)
                self._forget_row(row)
                changed.append(row)
        if changed:
            self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), COLUMN_COUNT - 1), [])
        if added:
            self._append(listed.select(added))

    def update_payments(self, payments: Iterable[TrackedPayment]) -> None:
        """Replace rows by reference (a ``dataChanged`` per run of changed rows: ``_announce_rows``) and
        append unknown ones."""
        changed: list[int] = []
        added: list[TrackedPayment] = []
        row_of = self.rows.rows_by_reference()
        for tracked in payments:
            row = row_of.get(tracked.reference)
            if row is None:
                added.append(tracked)
                continue
            if self._records.kept(tracked.reference) is tracked:
                continue  # the very record shown
            self.rows.set_record(row, tracked)
            self._records.keep((tracked,))
            self._forget_row(row)
            changed.append(row)
        if changed:
            self._announce_rows(changed, 0, COLUMN_COUNT - 1)
        if added:
            unique = list({t.reference: t for t in added}.values())
            self._append(ListedPayments.of(self.rows.listed.msn or unique[0].merchant_serial_number, unique))
            self._records.keep(unique)

    def update_payment(self, tracked: TrackedPayment) -> None:
        self.update_payments((tracked,))

    def remove_payments(self, references: Iterable[str]) -> None:
        """Remove the rows of ``references`` (unknown ones are ignored), one contiguous range at a time."""
        row_of = self.rows.rows_by_reference()
        rows = sorted({row for r in references if (row := row_of.get(r)) is not None}, reverse=True)
        while rows:
            last = first = rows.pop(0)
            while rows and rows[0] == first - 1:
                first = rows.pop(0)
            self.beginRemoveRows(QModelIndex(), first, last)
            for reference in self.rows.listed.references[first : last + 1]:
                self._records.forget(reference)
            self.rows.delete(first, last)
            self._forget_rows()
            self.endRemoveRows()
        self._marks.keep_only(self.rows.listed.references)

    def move_rows_to(self, places: Mapping[str, int]) -> None:
        """Move the rows of ``places``' references to those rows (Undo remove puts a row back where it
        was, not at the end of the list), the lowest place first, each kept within the list; unknown
        references are ignored. One layout change, as a sort: the filter and the view's selection
        follow it."""
        row_of = self.rows.rows_by_reference()
        moving = sorted((place, reference) for reference, place in places.items() if reference in row_of)
        if not moving:
            return
        self.layoutAboutToBeChanged.emit()
        old_indexes = self.persistentIndexList()
        rows = [index.row() for index in old_indexes]
        for place, reference in moving:
            row = self.rows.rows_by_reference()[reference]
            to = min(max(place, 0), self.rowCount() - 1)
            self.rows.move(row, to)
            rows = [moved(r, row, to) for r in rows]
        self._forget_rows()
        new_indexes = [self.index(r, index.column()) for r, index in zip(rows, old_indexes, strict=True)]
        self.changePersistentIndexList(old_indexes, new_indexes)
        self.layoutChanged.emit()

    # The State cell's marks (``RowMarks``): only that cell is announced, per run of rows.
    def set_busy(self, reference: str, busy: bool) -> None:
        self._state_changed(self._marks.set_busy((reference,), busy))

    def set_busy_many(self, references: list[str], busy: bool) -> None:
        """Mark (or unmark) many rows at once: a ``dataChanged`` per run of rows, not one per row (a batch
        marks fifty rows)."""
        self._state_changed(self._marks.set_busy(references, busy))

    def set_pending(self, pending: dict[str, str]) -> None:
        """The payments with an operation sent without a known outcome (reference -> "cancel",
        "capture" or "refund"): their State says so until it is settled."""
        self._state_changed(self._marks.set_pending(pending))

    def set_colleague(self, reference: str, text: str) -> None:
        """Show ``text`` (a colleague working on the payment now) in the row's state; "" clears it."""
        if self._marks.set_colleague(reference, text):
            self._state_changed((reference,))

    def colleague_text(self, reference: str) -> str:
        return self._marks.colleague_text(reference)

    def pending_operation(self, reference: str) -> str:
        """The operation on ``reference`` without a known outcome ("" when there is none)."""
        return self._marks.pending_operation(reference)

    def is_busy(self, reference: str) -> bool:
        return self._marks.is_busy(reference)

    def _state_changed(self, references: Iterable[str]) -> None:
        """Busy marks, an operation without an outcome and a colleague's work show in the State cell
        only (its text and its badge's outline): only that column is announced, so the view repaints
        those cells and not the whole rows (a batch marks fifty rows busy, then unmarks them). The
        row's texts stay as they are (the State's marks are added when it is read); its looks, which
        hold the busy mark, are worked out again."""
        rows: list[int] = []
        for reference in references:
            row = self.row_of(reference)
            if row is not None:
                self._looks.pop(row, None)
                rows.append(row)
        if rows:
            state = int(Column.STATE)
            self._announce_rows(rows, state, state)

    def _announce_rows(self, rows: list[int], first_column: int, last_column: int) -> None:
        """One ``dataChanged`` per run of adjacent ``rows`` from ``first_column`` to ``last_column``
        (``runs_to_announce``). A range drops the kept pixels of every cell in it and the view repaints
        all of it that is on screen: one range over two rows far apart (a refresh's answers, a result
        of a batch and a busy mark) painted every row between them anew, each a few milliseconds."""
        for first, last in runs_to_announce(rows):
            self.dataChanged.emit(self.index(first, first_column), self.index(last, last_column), [])

    def row_of(self, reference: str) -> int | None:
        return self.rows.row_of(reference)

    def tracked(self, reference: str) -> TrackedPayment | None:
        row = self.row_of(reference)
        return self.tracked_at(row) if row is not None else None

    def fetched_at(self, reference: str) -> datetime | None:
        """When ``reference``'s row was fetched (the epoch: never; None: no such row)."""
        row = self.row_of(reference)
        if row is None:
            return None
        kept = self._records.kept(reference)
        fetched = kept.fetched_at if kept is not None else moment_of(self.rows.listed.fetched[row])
        return aware(fetched) if fetched is not None else EPOCH

    def tracked_at(self, row: int) -> TrackedPayment:
        """Row ``row``'s record: as it came, or built from the row's values."""
        return self._records.at(self.rows.listed, row)

    def rows_in_states(self, states: Collection[State | None]) -> list[int]:
        """Rows whose state is one of ``states`` (``None``: not fetched yet)."""
        return self.rows.rows_in_states(states)

    def payments(self) -> Sequence[TrackedPayment]:
        """Every row's record, built as it is read (a sequence over the rows as they are now)."""
        return _Records(self)

    def payments_in_states(
        self, states: Collection[State | None], *, created_since: datetime | None = None
    ) -> list[TrackedPayment]:
        """The records of the rows whose state is one of ``states`` (``None``: not fetched yet), and
        created at or after ``created_since`` when given."""
        rows = self.rows_in_states(states)
        if created_since is not None:
            cutoff, created = micros(created_since), self.rows.listed.created
            rows = [row for row in rows if created[row] != NO_TIME and created[row] >= cutoff]
        return [self.tracked_at(row) for row in rows]

    def references(self) -> list[str]:
        return list(self.rows.listed.references)

    def references_that_can_change(self) -> list[str]:
        """The rows worth refreshing automatically (``TrackedPayment.can_still_change``)."""
        return self.rows.references_that_can_change()

    def newest_fetch(self) -> datetime | None:
        """When the most recently fetched row was fetched (None: none ever was)."""
        return self.rows.newest_fetch()

    def kind_counts(self, rows: Iterable[int] | None = None) -> Counter[BusinessState | None]:
        """How many of ``rows`` (every row when None) are in each business state (None: not fetched)."""
        return self.rows.kind_counts(rows)

    def kind_at(self, row: int) -> BusinessState | None:
        """The business state of ``row`` (None: not fetched yet)."""
        return self.rows.kind_at(row)

    # --- helpers ------------------------------------------------------------------------------------
    def _take_over(self, listed: ListedPayments, count: int) -> None:
        """``listed``, whose first ``count`` rows are the rows shown, becomes the rows: those rows take
        its values (announced only when some differ), the others are inserted after them."""
        same = self.rows.listed.same_rows(listed, count)
        if len(listed) > count:
            self.beginInsertRows(QModelIndex(), count, len(listed) - 1)
        self.rows.take_over(listed, count)
        if not same:
            self._forget_rows()
        if len(listed) > count:
            self.endInsertRows()
        if not same:
            self.dataChanged.emit(self.index(0, 0), self.index(count - 1, COLUMN_COUNT - 1), [])

    def _append(self, added: ListedPayments) -> None:
        first = self.rowCount()
        self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
        self.rows.extend(added)
        self.endInsertRows()

    def _forget_row(self, row: int) -> None:
        """Drop what is kept of row ``row`` (it took other values)."""
        self._display.pop(row, None)
        self._looks.pop(row, None)
        self._records.row_changed(row)

    def _forget_rows(self) -> None:
        """Drop what is kept by row number (after the rows moved)."""
        self._display = {}
        self._looks = {}
        self._records.rows_moved()

    def _looks_stale(self, row: int) -> bool:
        kept = self._records.kept(self.rows.listed.references[row])
        if kept is not None:
            return kept.looks_stale(self._now)
        return self.rows.listed.looks_stale(row, micros(self._now))

    def _display_of(self, row: int) -> tuple[str, ...]:
        cached = self._display.get(row)
        if cached is None:
            if len(self._display) >= _SHOWN_KEPT:
                self._display.clear()
            # The looks first: the bar's label reads the breakdown they hold (worked out once).
            parts = self._looks_at(row).parts
            cached = self._display[row] = display_row(
                self._records.at(self.rows.listed, row), self._locale, parts=parts
            )
        return cached

    def _state_cell(self, row: int) -> str:
        text = self._display_of(row)[_STATE_COLUMN]
        marks = self._marks
        return marks.state_text(text, self.rows.listed.references[row]) if marks.any else text

    def _looks_at(self, row: int) -> RowLooks:
        looks = self._looks.get(row)
        if looks is None:
            if len(self._looks) >= _SHOWN_KEPT:
                self._looks.clear()
            tracked = self._records.at(self.rows.listed, row)
            payment = tracked.payment
            parts = breakdown(payment) if payment is not None else None
            listed = self.rows.listed
            state = listed.state_at(row)
            kind = self.rows.kind_at(row)
            looks = self._looks[row] = RowLooks(
                stale=self._looks_stale(row),
                warning=lapse_warning(tracked, self._now),
                busy=self._marks.is_busy(self.rows.listed.references[row]),
                state=state.value if state is not None else NO_VALUE,
                kind=kind.value if kind is not None else NO_VALUE,
                parts=parts,
                shares=bar_shares(parts) if parts is not None else (),
            )
        return looks


# How many rows' texts and looks are kept (a few screens' worth, as many as records: worked out again
# when needed).
_SHOWN_KEPT = BUILT_KEPT

# Roles and columns as plain integers: comparing with Qt's enum members costs an attribute look-up each,
# and data() runs for every role of every painted cell.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ACCESSIBLE_TEXT = int(Qt.ItemDataRole.AccessibleTextRole)
_USER = int(Qt.ItemDataRole.UserRole)
_STATE_COLUMN = int(Column.STATE)
_AMOUNT_COLUMN = int(Column.AMOUNT)
_RIGHT_ALIGNED = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class _Records(Sequence[TrackedPayment]):
    """The model's rows as records, built as they are read."""

    def __init__(self, model: PaymentsModel) -> None:
        self._model = model

    def __len__(self) -> int:
        return self._model.rowCount()

    @overload
    def __getitem__(self, index: int) -> TrackedPayment: ...
    @overload
    def __getitem__(self, index: slice) -> list[TrackedPayment]: ...
    def __getitem__(self, index: int | slice) -> TrackedPayment | list[TrackedPayment]:
        if isinstance(index, slice):
            return [self._model.tracked_at(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._model.tracked_at(index)


def _warning_icon() -> QIcon:
    """The style's own warning icon (follows the platform theme), looked up once a row needs it."""
    global _WARNING_ICON
    if _WARNING_ICON is None:
        style = QApplication.style()
        _WARNING_ICON = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
    return _WARNING_ICON


_WARNING_ICON: QIcon | None = None
