"""The main window: composes widgets and wires signals; no business logic here.

The table (model + filter proxy + delegates), the details panel, the customer panel (Demo), the
banner, toolbar, search and state filter, the status bar with counts and refresh progress. The cancel
and refresh flows live in ``cancel_flow`` and ``refresh_flow``; every operation runs through one
``TaskRunner`` whose errors reach one ``ErrorPresenter``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QLocale, QModelIndex, QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QProgressBar,
    QSplitter,
    QTableView,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from epay_desktop.domain import Action, State, TrackedPayment, check_action
from epay_desktop.ui.aio import TaskRunner
from epay_desktop.ui.cancel_flow import CancelFlow
from epay_desktop.ui.customer_panel import CustomerPanel
from epay_desktop.ui.delegates import AggregateBarDelegate, StateBadgeDelegate
from epay_desktop.ui.details_panel import DetailsPanel
from epay_desktop.ui.errors import ErrorPresenter
from epay_desktop.ui.payments_model import Column, PaymentRoles, PaymentsFilterModel, PaymentsModel
from epay_desktop.ui.refresh_flow import REFRESH_ONE, RefreshFlow
from epay_desktop.ui.theme import DESTRUCTIVE_BUTTON_STYLE, banner, icon

if TYPE_CHECKING:
    from epay_desktop.services import PaymentDesk

STATE_FILTERS: tuple[tuple[str, frozenset[State | None] | None], ...] = (
    ("All states", None),
    ("Waiting for the customer (CREATED)", frozenset({State.CREATED})),
    ("AUTHORIZED", frozenset({State.AUTHORIZED})),
    ("Can still change", frozenset({State.CREATED, State.AUTHORIZED, State.UNKNOWN, None})),
    ("TERMINATED", frozenset({State.TERMINATED})),
    ("ABORTED or EXPIRED", frozenset({State.ABORTED, State.EXPIRED})),
    ("Unknown state", frozenset({State.UNKNOWN})),
    ("Not fetched yet", frozenset({None})),
)


class MainWindow(QMainWindow):
    def __init__(
        self,
        desk: PaymentDesk,
        *,
        locale: QLocale | None = None,
        auto_refresh_ms: int = 30_000,
        show_error_dialogs: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.desk = desk
        profile = desk.profile
        self.setObjectName("MainWindow")
        self.setWindowTitle(f"epay-desktop — {profile.name} (MSN {profile.merchant_serial_number})")
        self.resize(1280, 760)
        self.presenter = ErrorPresenter(self, show_dialogs=show_error_dialogs)
        self.runner = TaskRunner(self._present_error, self)
        self.model = PaymentsModel(self, locale=locale)
        self.proxy = PaymentsFilterModel(self)
        self.proxy.setSourceModel(self.model)
        self.cancel_flow = CancelFlow(desk, self.model, self.show_status, parent_widget=self, locale=locale)
        self.refresh_flow = RefreshFlow(desk, self.model, self.runner, auto_interval_ms=auto_refresh_ms)
        self.refresh_flow.setParent(self)
        self._refreshes = 0  # refreshes between started and finished (a replaced one finishes late)

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        if profile.is_production:
            self.banner = banner("production", f"PRODUCTION — {profile.name}: real payments, real money.")
        elif profile.is_demo:
            self.banner = banner("demo", "DEMO — built-in sandbox with demo data. Nothing real is touched.")
        else:
            self.banner = banner("test", f"TEST environment — {profile.name}. No real money moves.")
        layout.addWidget(self.banner)
        layout.addLayout(self._build_filters())
        splitter = QSplitter(Qt.Orientation.Horizontal, central)
        splitter.addWidget(self._build_table())
        side = QWidget(splitter)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        self.details = DetailsPanel(side, locale=locale)
        self.details.psp_reference_copied.connect(lambda _t: self.show_status("pspReference copied."))
        side_layout.addWidget(self.details, 1)
        self.customer_panel: CustomerPanel | None = None
        if desk.demo is not None:
            self.customer_panel = CustomerPanel(
                desk.demo,
                self.model,
                self.runner,
                self.show_status,
                merchant_serial_number=profile.merchant_serial_number,
                parent=side,
                locale=locale,
            )
            self.customer_panel.new_payment_created.connect(self.select_reference)
            side_layout.addWidget(self.customer_panel)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([940, 340])
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self.setStyleSheet(DESTRUCTIVE_BUTTON_STYLE)
        self._build_actions()
        self._build_status_bar()
        self._wire()
        self.setTabOrder(self.search, self.state_filter)
        self.setTabOrder(self.state_filter, self.table)
        self.setTabOrder(self.table, self.details)
        self._update_selection_dependents()

    # --- construction -------------------------------------------------------------------------------
    def _build_filters(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search reference or description  (Ctrl+F)")
        self.search.setAccessibleName("Search payments by reference or description")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("find"), QLineEdit.ActionPosition.LeadingPosition)
        row.addWidget(self.search, 3)
        label = QLabel("&State:", self)
        self.state_filter = QComboBox(self)
        self.state_filter.setAccessibleName("Filter by state")
        for text, states in STATE_FILTERS:
            self.state_filter.addItem(text, states)
        label.setBuddy(self.state_filter)
        row.addWidget(label)
        row.addWidget(self.state_filter, 1)
        return row

    def _build_table(self) -> QTableView:
        table = QTableView(self)
        self.table = table
        table.setObjectName("PaymentsTable")
        table.setAccessibleName("Payments")
        table.setModel(self.proxy)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setSortingEnabled(True)
        table.sortByColumn(Column.CREATED, Qt.SortOrder.DescendingOrder)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 16)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.badge_delegate = StateBadgeDelegate(table)
        self.bar_delegate = AggregateBarDelegate(table)
        table.setItemDelegateForColumn(Column.STATE, self.badge_delegate)
        table.setItemDelegateForColumn(Column.AGGREGATE, self.bar_delegate)
        header = table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        metrics = table.fontMetrics()
        pad = 24
        for column, sample in (
            (Column.REFERENCE, "fjordkaffe-ord-100228"),
            (Column.DESCRIPTION, "2x Filterkaffe, 3x Espr"),
            (Column.CREATED, "2026-11-26 10:56"),
            (Column.STATE, "AUTHORIZE"),
            (Column.AMOUNT, "12 345.00 NOK"),
            (Column.AGGREGATE, "60 % reserved, 40 % captur"),
            (Column.UPDATED, "2026-11-26 10:56"),
        ):
            extra = 20 if column == Column.STATE else 0
            table.setColumnWidth(column, metrics.horizontalAdvance(sample) + pad + extra)
        return table

    def _action(self, text: str, slot: object, shortcuts: list[str], icon_name: str = "") -> QAction:
        action = QAction(icon(icon_name) if icon_name else icon("app"), text, self)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.cancel_action = self._action(
            "Cancel payment…", self.cancel_selected, ["Ctrl+Shift+X"], "cancel-payment"
        )
        # Delete cancels only from the table (in the search box it deletes text); the dialog still asks.
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table, self.cancel_selected)
        delete.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.refresh_action = self._action(
            "Refresh all", self.refresh_flow.refresh_everything, ["F5"], "refresh"
        )
        self.stop_action = self._action("Stop refresh", self.refresh_flow.stop, ["Esc"], "stop")
        self.stop_action.setEnabled(False)
        self.find_action = self._action("Find", self.focus_search, ["Ctrl+F"], "find")
        self.copy_reference_action = self._action("Copy reference", self.copy_reference, [])
        self.refresh_selected_action = self._action("Refresh this payment", self.refresh_selected, [])
        toolbar = QToolBar("Actions", self)
        toolbar.setObjectName("MainToolbar")
        toolbar.setAccessibleName("Actions")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.refresh_action, self.stop_action, self.cancel_action):
            toolbar.addAction(action)
        self.addToolBar(toolbar)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.counts_label = QLabel(self)
        self.counts_label.setAccessibleName("Payment counts")
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Refresh progress")
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.setFormat("Refreshing %v of %m")
        self.progress.hide()
        self.stop_button = QToolButton(self)
        self.stop_button.setDefaultAction(self.stop_action)
        self.stop_button.hide()
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.stop_button)
        bar.addPermanentWidget(self.counts_label)

    def _wire(self) -> None:
        self.search.textChanged.connect(self.proxy.set_text)
        self.state_filter.currentIndexChanged.connect(
            lambda i: self.proxy.set_states(self.state_filter.itemData(i))
        )
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(lambda _i: self.details.setFocus())
        self._counts_timer = QTimer(self, singleShot=True, interval=0)
        self._counts_timer.timeout.connect(self._update_counts)
        self._selected_refresh = QTimer(self, singleShot=True, interval=300)
        self._selected_refresh.timeout.connect(self.refresh_selected)
        for signal in (
            self.model.modelReset,
            self.model.rowsInserted,
            self.model.dataChanged,
            self.proxy.layoutChanged,
            self.proxy.rowsRemoved,
            self.proxy.rowsInserted,
            self.proxy.modelReset,
        ):
            signal.connect(self._counts_timer.start)
        self.model.dataChanged.connect(self._rows_changed)
        self.refresh_flow.started.connect(self._refresh_started)
        self.refresh_flow.progressed.connect(self._refresh_progressed)
        self.refresh_flow.finished.connect(self._refresh_finished)
        self.presenter.presented.connect(lambda _t, line: self.show_status(line))

    # --- start and stop -----------------------------------------------------------------------------
    async def load(self, *, refresh: bool = True) -> None:
        """Show the register from SQLite at once, then refresh everything from the API."""
        self.model.set_payments(await self.desk.load_register())
        self.show_status(f"{self.model.rowCount()} payments in the register.")
        if self.proxy.rowCount() and not self.table.currentIndex().isValid():
            self.table.selectRow(0)
        if refresh and self.model.rowCount():
            await self.refresh_flow.refresh(self.model.references())
        self.refresh_flow.auto_timer.start()

    def start(self) -> None:
        self.runner.start("load", self.load())

    async def shutdown(self) -> None:
        self.refresh_flow.auto_timer.stop()
        self._selected_refresh.stop()
        await self.runner.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.refresh_flow.auto_timer.stop()
        super().closeEvent(event)

    # --- slots --------------------------------------------------------------------------------------
    def selected_tracked(self) -> TrackedPayment | None:
        index = self.table.currentIndex()
        return index.data(PaymentRoles.TRACKED) if index.isValid() else None

    def selected_reference(self) -> str | None:
        tracked = self.selected_tracked()
        return tracked.reference if tracked is not None else None

    def select_reference(self, reference: str) -> bool:
        row = self.proxy.proxy_row_of(reference)
        if row is None:
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.proxy.index(row, 0))
        return True

    def cancel_selected(self) -> None:
        if (reference := self.selected_reference()) is not None and self.cancel_action.isEnabled():
            self.runner.start(f"cancel:{reference}", self.cancel_flow.run(reference), replace=False)

    def refresh_selected(self) -> None:
        if (reference := self.selected_reference()) is not None:
            self.refresh_flow.refresh_one(reference)

    def copy_reference(self) -> None:
        if (reference := self.selected_reference()) is not None:
            QGuiApplication.clipboard().setText(reference)
            self.show_status(f"Copied {reference}.")

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 15_000)

    def _present_error(self, name: str, error: BaseException) -> None:
        if name in (REFRESH_ONE,):
            self.show_status(f"Could not refresh the payment: {error}")
            return
        self.presenter.present(name, error)

    def _context_menu(self, pos: QPoint) -> None:
        if not self.table.indexAt(pos).isValid():
            return
        menu = QMenu(self)
        menu.setAccessibleName("Payment actions")
        for action in (self.cancel_action, self.refresh_selected_action, self.copy_reference_action):
            menu.addAction(action)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def _current_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_selection_dependents()
        self._selected_refresh.start()

    def _rows_changed(self, top: QModelIndex, bottom: QModelIndex, _roles: object = None) -> None:
        current = self.selected_reference()
        row = self.model.row_of(current) if current is not None else None
        if row is not None and top.row() <= row <= bottom.row():
            self._update_selection_dependents()

    def _update_selection_dependents(self) -> None:
        tracked = self.selected_tracked()
        self.details.show_payment(tracked)
        if self.customer_panel is not None:
            self.customer_panel.set_payment(tracked)
        has = tracked is not None
        self.copy_reference_action.setEnabled(has)
        self.refresh_selected_action.setEnabled(has)
        if tracked is None:
            self._set_cancel(False, "Select a payment first.")
        elif tracked.payment is None:
            self._set_cancel(False, "The payment has not been read from the API yet; refresh it first.")
        elif self.model.is_busy(tracked.reference):
            self._set_cancel(False, "An operation on this payment is running.")
        else:
            check = check_action(tracked.payment, Action.CANCEL)
            self._set_cancel(
                check.allowed, "Cancel the payment (asks first)" if check.allowed else check.reason
            )

    def _set_cancel(self, enabled: bool, why: str) -> None:
        self.cancel_action.setEnabled(enabled)
        self.cancel_action.setToolTip(f"Cancel payment… — {why}")
        self.cancel_action.setStatusTip(why)

    def _update_counts(self) -> None:
        counts = self.model.state_counts()
        total = self.model.rowCount()
        parts = [f"{total} payments", f"{self.proxy.rowCount()} shown"]
        for state in (State.CREATED, State.AUTHORIZED, State.TERMINATED):
            if counts.get(state):
                parts.append(f"{counts[state]} {state.value.lower()}")
        if counts.get(None):
            parts.append(f"{counts[None]} not fetched")
        self.counts_label.setText(" · ".join(parts))

    def _refresh_started(self, total: int) -> None:
        self._refreshes += 1
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(0)
        self.progress.show()
        self.stop_button.show()
        self.stop_action.setEnabled(True)

    def _refresh_progressed(self, done: int, total: int) -> None:
        self.progress.setValue(done)

    def _refresh_finished(self, done: int, total: int, stopped: bool) -> None:
        self._refreshes -= 1
        if self._refreshes <= 0:
            self.progress.hide()
            self.stop_button.hide()
            self.stop_action.setEnabled(False)
        if stopped:
            self.show_status(f"Refresh stopped after {done} of {total} payments.")
        else:
            self.show_status(f"Refreshed {done} of {total} payments.")
