"""Where the payments are shown: a placeholder ("Loading the register…", or why the register could not
be opened) until a model is attached, then the table with its filter proxy and delegates.

Built in two steps so the window paints before the heavy parts load: the constructor makes only the
placeholder, from light imports; :meth:`RegisterView.show_model` imports the model's modules and the
delegates and builds the table.

Signals (the window wires them; this widget knows nothing of actions or flows):
``selection_changed(object)`` the person moved to another payment (a ``TrackedPayment`` or None);
``current_updated(object)`` the selected payment's row changed; ``counts_changed(str, str)`` the counts
line and its tooltip; ``context_menu_requested(QPoint)`` a right click on a row (global position);
``delete_requested()`` Delete pressed in the table; ``activated()`` a row double-clicked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QObject, QPoint, QTimer, Signal
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget

from epay_desktop.domain import TrackedPayment
from epay_desktop.i18n import _, ngettext
from epay_desktop.ui.first_paint import set_qt_enum

if TYPE_CHECKING:
    from PySide6.QtWidgets import QTableView

    from epay_desktop.ui.table.delegates import AggregateBarDelegate, StateBadgeDelegate
    from epay_desktop.ui.table.model import PaymentsModel
    from epay_desktop.ui.table.painted import PaintedCells
    from epay_desktop.ui.table.proxy import PaymentsFilterModel

# Wide enough for what each column usually holds; the description takes what is left and elides.
VISUAL_ORDER = ("REFERENCE", "STATE", "AMOUNT", "AGGREGATE", "DESCRIPTION", "CREATED", "UPDATED")

COLUMN_SAMPLES = (
    ("REFERENCE", "fjordkaffe-ord-100228"),
    ("DESCRIPTION", "2x Filterkaffe, 1x"),
    ("CREATED", "2026-11-26 10:56"),
    ("STATE", "Partly refunded"),  # the longest business state (a longer translation is measured too)
    ("AMOUNT", "12 345.00 NOK"),
    ("AGGREGATE", "60 % reserved, 40 %"),
    ("UPDATED", "2026-11-26 10:56"),
)
# How many business states the status bar's counts name (the most frequent; the tooltip names all).
COUNTED_STATES = 3


class RegisterView(QStackedWidget):
    selection_changed = Signal(object)
    current_updated = Signal(object)
    counts_changed = Signal(str, str)
    context_menu_requested = Signal(QPoint)
    delete_requested = Signal()
    activated = Signal()

    def __init__(self, placeholder_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.placeholder = QLabel(placeholder_text, self)
        self.placeholder.setObjectName("RegisterPlaceholder")
        set_qt_enum(self.placeholder, "alignment", "AlignCenter")
        self.placeholder.setWordWrap(True)
        self.placeholder.setMargin(24)
        self.addWidget(self.placeholder)
        self.model: PaymentsModel | None = None
        self.proxy: PaymentsFilterModel | None = None
        self.table: QTableView | None = None
        self.badge_delegate: StateBadgeDelegate | None = None
        self.bar_delegate: AggregateBarDelegate | None = None
        self.painted: PaintedCells | None = None
        self._text = ""
        self._states: Any = None
        self._viewports: list[QObject | None] = []
        self._state_column = -1  # the model's State column, once there is a model
        self._counts_timer = QTimer(self, singleShot=True, interval=0)
        self._counts_timer.timeout.connect(lambda: self.counts_changed.emit(*self.counts_text()))

    # --- what is shown ----------------------------------------------------------------------------------
    def show_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
        self.setCurrentWidget(self.placeholder)

    def show_table(self) -> None:
        if self.table is not None:
            self.setCurrentWidget(self.table)

    def set_filter_text(self, text: str) -> None:
        self._text = text
        if self.proxy is not None:
            self.proxy.set_text(text)

    def set_filter_states(self, states: Any) -> None:
        self._states = states
        if self.proxy is not None:
            self.proxy.set_states(states)

    def show_model(self, model: PaymentsModel) -> QTableView:
        """Build the table over ``model`` (through a filter proxy that applies what was typed already)."""
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QKeySequence, QShortcut
        from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

        from epay_desktop.ui.table.cells import AnyIndex
        from epay_desktop.ui.table.delegates import AggregateBarDelegate, CellDelegate, StateBadgeDelegate
        from epay_desktop.ui.table.model import Column
        from epay_desktop.ui.table.painted import PaintedCells
        from epay_desktop.ui.table.proxy import PaymentsFilterModel
        from epay_desktop.ui.theme import SteadyOnActivation

        if self.model is not None:
            raise RuntimeError("this view shows a model already")
        self.model = model
        self.proxy = proxy = PaymentsFilterModel(self)
        proxy.setSourceModel(model)
        proxy.set_text(self._text)
        proxy.set_states(self._states)
        self.table = table = QTableView(self)
        # The viewports' Python wrappers (the table's and its header's), made through ``children()`` and
        # kept: the first ``viewport()`` call with no wrapper yet has PySide try every QWidget subclass
        # for the type to wrap it in (~20 ms, on the way to the first rows otherwise); ``children()``
        # finds each child's type by its class name (~2 ms).
        self._viewports = [_viewport_of(table), _viewport_of(table.horizontalHeader())]
        table.setObjectName("PaymentsTable")
        table.setAccessibleName(_("Payments"))
        table.setModel(proxy)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # Several rows (Shift/Ctrl+click) for the batch actions; the current row is "the selected payment".
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setSortingEnabled(True)
        table.sortByColumn(Column.CREATED, Qt.SortOrder.DescendingOrder)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setTabKeyNavigation(False)  # Tab leaves the table (arrows move inside it)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 16)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # The description takes what is left and elides; every other column keeps its width, so the
        # default window shows every column without a horizontal scrollbar.
        header.setSectionResizeMode(Column.DESCRIPTION, QHeaderView.ResizeMode.Stretch)
        metrics = table.fontMetrics()
        for name, sample in COLUMN_SAMPLES:
            column = Column[name]
            if column == Column.STATE:
                from epay_desktop.domain import BusinessState

                sample = max((kind.label for kind in BusinessState), key=metrics.horizontalAdvance)
            extra = 20 if column == Column.STATE else 0
            table.setColumnWidth(column, metrics.horizontalAdvance(sample) + 18 + extra)
        header.setMinimumSectionSize(48)
        # Shown in the order a person reads a payment: which one, its state, its money; then the words
        # and the times, which a narrow window scrolls to (the model keeps its own column order).
        for position, name in enumerate(VISUAL_ORDER):
            header.moveSection(header.visualIndex(Column[name]), position)

        # The delegates paint rows, and there are rows only from here on (their module loads QStyle).
        # Every cell goes through the kept pixels (plain ones too): most repaints change nothing.
        def clock_marks(index: AnyIndex) -> object:
            # What of a row the model's clock changes without a signal: its stale mark and its
            # guarantee warning (every other change of a row is announced). Read from the proxy
            # directly: through ``index.data`` it cost more than copying the cell's pixels.
            looks = proxy.looks_at(index.row())
            return (looks.stale, looks.warning) if looks is not None else None

        self.painted = painted = PaintedCells(table, proxy, unannounced=clock_marks)
        table.setItemDelegate(CellDelegate(table, painted))
        # Nothing here looks different while a dialog has the focus: no repaint of every cell then.
        SteadyOnActivation(table)
        SteadyOnActivation(table.horizontalHeader())
        self.badge_delegate = StateBadgeDelegate(table, painted)
        self.bar_delegate = AggregateBarDelegate(table, painted)
        table.setItemDelegateForColumn(Column.STATE, self.badge_delegate)
        table.setItemDelegateForColumn(Column.AGGREGATE, self.bar_delegate)
        # Delete removes the row from the register only from the table (in the search box it deletes
        # text); it never moves money, and Undo puts the row back.
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), table, self.delete_requested.emit)
        delete.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.addWidget(table)
        table.selectionModel().currentRowChanged.connect(self._current_row_changed)
        table.customContextMenuRequested.connect(self._context_menu_requested)
        table.doubleClicked.connect(lambda _i: self.activated.emit())
        self._state_column = int(Column.STATE)
        for signal in (
            model.modelReset,
            model.rowsInserted,
            model.rowsRemoved,
            proxy.layoutChanged,
            proxy.rowsRemoved,
            proxy.rowsInserted,
            proxy.modelReset,
        ):
            signal.connect(self._counts_timer.start)
        model.dataChanged.connect(self._count_again)
        model.dataChanged.connect(self._rows_changed)
        return table

    # --- the selection ----------------------------------------------------------------------------------
    def selected_tracked(self) -> TrackedPayment | None:
        if self.table is None:
            return None  # no table yet
        from epay_desktop.ui.table.cells import PaymentRoles

        index = self.table.currentIndex()
        tracked = index.data(PaymentRoles.TRACKED) if index.isValid() else None
        return tracked if isinstance(tracked, TrackedPayment) else None

    def selected_rows(self) -> list[TrackedPayment]:
        """Every selected payment, in the order shown."""
        if self.table is None:
            return []
        from epay_desktop.ui.table.cells import PaymentRoles

        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        found = [self.table.model().index(row, 0).data(PaymentRoles.TRACKED) for row in rows]
        return [t for t in found if isinstance(t, TrackedPayment)]

    def shown_rows(self) -> list[TrackedPayment]:
        """Every payment the search and filter show, in the order shown."""
        if self.proxy is None:
            return []
        found = [self.proxy.tracked_at(row) for row in range(self.proxy.rowCount())]
        return [t for t in found if isinstance(t, TrackedPayment)]

    def selected_reference(self) -> str | None:
        tracked = self.selected_tracked()
        return tracked.reference if tracked is not None else None

    def select_reference(self, reference: str) -> bool:
        if self.table is None or self.proxy is None:
            return False
        row = self.proxy.proxy_row_of(reference)
        if row is None:
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.proxy.index(row, 0))
        return True

    def select_first(self) -> None:
        """Select the first row shown, unless a row is selected already."""
        table, proxy = self.table, self.proxy
        if table is None or proxy is None or table.currentIndex().isValid():
            return
        if proxy.rowCount():
            table.selectRow(0)

    def counts_text(self) -> tuple[str, str]:
        """What the status bar says of the list, and its tooltip: "43 payments" or "12 of 43 shown",
        then the business states of the rows shown, most first (the line names ``COUNTED_STATES`` of
        them, the tooltip all, one a line)."""
        if self.model is None or self.proxy is None:
            return "", ""
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        if total and not shown:
            nothing = _("{total} in the register · nothing matches the search or the state filter")
            return nothing.format(total=total), ""
        states = self._state_counts()
        parts = [self._shown_text(total, shown), *states[:COUNTED_STATES]]
        if len(states) > COUNTED_STATES:
            parts.append("…")
        return " · ".join(parts), "\n".join([self._shown_text(total, shown), *states])

    @staticmethod
    def _shown_text(total: int, shown: int) -> str:
        if shown == total:
            return ngettext("{count} payment", "{count} payments", total).format(count=total)
        return ngettext("{shown} of {total} shown", "{shown} of {total} shown", total).format(
            shown=shown, total=total
        )

    def _state_counts(self) -> list[str]:
        """ "Reserved: 8" for each business state among the rows shown, the most frequent first."""
        from epay_desktop.domain import BusinessState

        assert self.proxy is not None
        counts = self.proxy.shown_kind_counts()
        order = [*BusinessState, None]
        ranked = sorted((kind for kind in counts if counts[kind]), key=lambda k: (-counts[k], order.index(k)))
        return [
            _("{state}: {count}").format(
                state=kind.label if kind is not None else _("Not fetched"), count=counts[kind]
            )
            for kind in ranked
        ]

    def _current_row_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self.selection_changed.emit(self.selected_tracked())

    def _count_again(self, top: QModelIndex, bottom: QModelIndex, _roles: object = None) -> None:
        """Counts the rows again (once per pass) after a change of their cells, unless only the State
        column was announced: busy marks, operations without an outcome and colleagues' work, which
        change no row's business state (all the counts read; some 0.7 ms at 10,000 rows, and a batch
        marks and unmarks each row)."""
        if top.column() == bottom.column() == self._state_column:
            return
        self._counts_timer.start()

    def _rows_changed(self, top: QModelIndex, bottom: QModelIndex, _roles: object = None) -> None:
        current = self.selected_reference()
        row = self.model.row_of(current) if current is not None and self.model is not None else None
        if row is not None and top.row() <= row <= bottom.row():
            self.current_updated.emit(self.selected_tracked())

    def _context_menu_requested(self, pos: QPoint) -> None:
        assert self.table is not None
        if self.table.indexAt(pos).isValid():
            self.context_menu_requested.emit(self.table.viewport().mapToGlobal(pos))


def _viewport_of(area: QObject) -> QObject | None:
    """``area``'s viewport (a ``QAbstractScrollArea``'s), found among its children."""
    return next((child for child in area.children() if child.objectName() == "qt_scrollarea_viewport"), None)


__all__ = ["COLUMN_SAMPLES", "RegisterView"]
