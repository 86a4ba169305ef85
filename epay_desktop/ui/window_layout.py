"""What the main window is built from: the central area (banner, filter row, the table's place and the
side panel with the details), the status bar with its refresh progress, the banner's text, the Switch
profile menu, the counts line, and the register view (split out of ``main_window``, which composes them
and wires signals). Light imports only: the window paints before the heavy parts
are loaded. The register view (the table model, its filter proxy and the table) is built when a desk is
bound, after the first paint, which shows the "Loading the register…" placeholder in its place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from epay_desktop.domain import State
from epay_desktop.ui.details_panel import DetailsPanel
from epay_desktop.ui.startup import set_qt_enum
from epay_desktop.ui.theme import banner, icon, set_banner

if TYPE_CHECKING:
    from epay_desktop.services import Profile
    from epay_desktop.ui.main_window import MainWindow
    from epay_desktop.ui.refresh_flow import RefreshFlow

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


def build_central(w: MainWindow, placeholder_text: str) -> QWidget:
    """The banner, the filter row, and a splitter with the table's place (a stack showing
    ``placeholder_text`` until ``build_register_view`` adds the table) and the side panel (details; the
    Demo's customer panel joins it when bound)."""
    central = QWidget(w)
    layout = QVBoxLayout(central)
    layout.setContentsMargins(6, 6, 6, 0)
    w.banner = banner("opening", "Opening the profile…", central)
    layout.addWidget(w.banner)
    layout.addLayout(build_filters(w))
    # Horizontal (the default); a keyword parent: a positional one makes PySide check the
    # (orientation, parent) overload, which builds the Qt namespace (ui/startup.py).
    splitter = QSplitter(parent=central)
    w.table_stack = QStackedWidget(splitter)
    w.placeholder = QLabel(placeholder_text, w.table_stack)
    w.placeholder.setObjectName("RegisterPlaceholder")
    set_qt_enum(w.placeholder, "alignment", "AlignCenter")
    w.placeholder.setWordWrap(True)
    w.placeholder.setMargin(24)
    w.table_stack.addWidget(w.placeholder)
    splitter.addWidget(w.table_stack)
    w.side = QWidget(splitter)
    w.side_layout = QVBoxLayout(w.side)
    w.side_layout.setContentsMargins(0, 0, 0, 0)
    w.details = DetailsPanel(w.side, locale=w.locale_)
    w.side_layout.addWidget(w.details, 1)
    splitter.addWidget(w.side)
    splitter.setStretchFactor(0, 3)
    splitter.setStretchFactor(1, 2)
    splitter.setSizes([900, 380])  # the events timeline needs ~370 px before its key column
    layout.addWidget(splitter, 1)
    return central


def build_filters(w: MainWindow) -> QHBoxLayout:
    row = QHBoxLayout()
    w.search = QLineEdit(w)
    w.search.setPlaceholderText("Search reference or description  (Ctrl+F)")
    w.search.setAccessibleName("Search payments by reference or description")
    w.search.setClearButtonEnabled(True)
    w.search.addAction(icon("find"), QLineEdit.ActionPosition.LeadingPosition)
    row.addWidget(w.search, 3)
    label = QLabel("&State:", w)
    w.state_filter = QComboBox(w)
    w.state_filter.setAccessibleName("Filter by state")
    for text, states in STATE_FILTERS:
        w.state_filter.addItem(text, states)
    label.setBuddy(w.state_filter)
    row.addWidget(label)
    row.addWidget(w.state_filter, 1)
    return row


def build_register_view(w: MainWindow) -> None:
    """The payments model, its filter proxy and the table, put in the stack beside the placeholder and
    connected: the filters (what was typed before applies now), the counts line, the selection."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QKeySequence, QShortcut
    from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

    from epay_desktop.ui.delegates import AggregateBarDelegate, StateBadgeDelegate
    from epay_desktop.ui.payments_model import Column, PaymentsFilterModel, PaymentsModel

    w.model = PaymentsModel(w, locale=w.locale_)
    w.proxy = PaymentsFilterModel(w)
    w.proxy.setSourceModel(w.model)
    table = QTableView(w.table_stack)
    w.table = table
    table.setObjectName("PaymentsTable")
    table.setAccessibleName("Payments")
    table.setModel(w.proxy)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
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
    pad = 18
    for column, sample in (
        (Column.REFERENCE, "fjordkaffe-ord-100228"),
        (Column.DESCRIPTION, "2x Filterkaffe, 1x"),
        (Column.CREATED, "2026-11-26 10:56"),
        (Column.STATE, "AUTHORIZE"),
        (Column.AMOUNT, "12 345.00 NOK"),
        (Column.AGGREGATE, "60 % reserved, 40 %"),
        (Column.UPDATED, "2026-11-26 10:56"),
    ):
        extra = 20 if column == Column.STATE else 0
        table.setColumnWidth(column, metrics.horizontalAdvance(sample) + pad + extra)
    header.setMinimumSectionSize(48)
    # The delegates paint rows, and there are rows only from here on (their module loads QStyle).
    w.badge_delegate = StateBadgeDelegate(table)
    w.bar_delegate = AggregateBarDelegate(table)
    table.setItemDelegateForColumn(Column.STATE, w.badge_delegate)
    table.setItemDelegateForColumn(Column.AGGREGATE, w.bar_delegate)
    # Delete cancels only from the table (in the search box it deletes text); the dialog still asks.
    delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), table, w.cancel_selected)
    delete.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    w.table_stack.addWidget(table)
    _connect_register_view(w)


def _connect_register_view(w: MainWindow) -> None:
    w.search.textChanged.connect(w.proxy.set_text)
    w.state_filter.currentIndexChanged.connect(lambda i: w.proxy.set_states(w.state_filter.itemData(i)))
    w.proxy.set_text(w.search.text())
    w.proxy.set_states(w.state_filter.currentData())
    w.table.selectionModel().currentRowChanged.connect(w._current_changed)
    w.table.customContextMenuRequested.connect(w._context_menu)
    w.table.doubleClicked.connect(lambda _i: w.details.setFocus())
    for signal in (
        w.model.modelReset,
        w.model.rowsInserted,
        w.model.dataChanged,
        w.proxy.layoutChanged,
        w.proxy.rowsRemoved,
        w.proxy.rowsInserted,
        w.proxy.modelReset,
    ):
        signal.connect(w._counts_timer.start)
    w.model.dataChanged.connect(w._rows_changed)
    w.setTabOrder(w.state_filter, w.table)
    w.setTabOrder(w.table, w.details)


def build_status_bar(w: MainWindow) -> None:
    bar = w.statusBar()
    w.counts_label = QLabel(w)
    w.counts_label.setAccessibleName("Payment counts")
    w.progress = QProgressBar(w)
    w.progress.setAccessibleName("Refresh progress")
    w.progress.setMaximumWidth(220)
    w.progress.setTextVisible(True)
    w.progress.setFormat("Refreshing %v of %m")
    w.progress.hide()
    w.stop_button = QToolButton(w)
    w.stop_button.setDefaultAction(w.stop_action)
    w.stop_button.setAccessibleName("Stop refresh")
    w.stop_button.hide()
    bar.addPermanentWidget(w.progress)
    bar.addPermanentWidget(w.stop_button)
    bar.addPermanentWidget(w.counts_label)


class RefreshProgress(QObject):
    """The status bar's side of ``RefreshFlow``: the progress bar and the Stop button while any refresh
    runs (a replaced refresh finishes after its successor started, so they are counted), and a status
    line saying how far each one got."""

    def __init__(self, w: MainWindow, flow: RefreshFlow) -> None:
        super().__init__(w)
        self._w = w
        self._running = 0
        flow.started.connect(self._started)
        flow.progressed.connect(lambda done, _total: w.progress.setValue(done))
        flow.finished.connect(self._finished)
        # Connected after ``finished``: the flow's offline / "online again" line replaces "Refreshed N".
        flow.status_changed.connect(w.show_status)

    def _started(self, total: int) -> None:
        w = self._w
        self._running += 1
        w.progress.setRange(0, max(total, 1))
        w.progress.setValue(0)
        w.progress.show()
        w.stop_button.show()
        w.stop_action.setEnabled(True)

    def _finished(self, done: int, total: int, stopped: bool) -> None:
        w = self._w
        self._running -= 1
        if self._running <= 0:
            w.progress.hide()
            w.stop_button.hide()
            w.stop_action.setEnabled(False)
        if stopped:
            w.show_status(f"Refresh stopped after {done} of {total} payments.")
        else:
            w.show_status(f"Refreshed {done} of {total} payments.")


def show_profile(w: MainWindow, profile: Profile, *, read_only: bool = False, damage: str = "") -> None:
    """The banner and title that say where you are: painted before the desk is bound (the profile is
    known before the first paint) and again by ``bind``."""
    w.setWindowTitle(f"epay-desktop — {profile.name} (MSN {profile.merchant_serial_number})")
    if read_only:
        set_banner(
            w.banner,
            "production" if profile.is_production else "read-only",
            f"{'PRODUCTION — ' if profile.is_production else ''}READ-ONLY — {profile.name}: the register "
            "could not be opened for writing. You can look and refresh; nothing is changed or saved."
            + (f" {damage}" if damage else ""),
        )
    elif profile.is_production:
        set_banner(w.banner, "production", f"PRODUCTION — {profile.name}: real payments, real money.")
    elif profile.is_demo:
        set_banner(w.banner, "demo", "DEMO — built-in sandbox with demo data. Nothing real is touched.")
    elif profile.unencrypted:
        set_banner(
            w.banner,
            "test",
            f"SANDBOX — {profile.name} at {profile.effective_base_url}: NOT ENCRYPTED (plain http://). "
            "Use it for a sandbox only.",
        )
    else:
        set_banner(w.banner, "test", f"TEST environment — {profile.name}. No real money moves.")


def fill_switch_menu(w: MainWindow) -> None:
    """Fill Profile ▸ Switch profile from the profile store each time it opens."""
    from epay_desktop.services import ProfileStore, ProfileStoreError

    w.switch_menu.clear()
    try:
        profiles = ProfileStore().list()
    except ProfileStoreError as error:
        broken = w.switch_menu.addAction(f"Profiles file unreadable: {error}")
        broken.setEnabled(False)
        return
    current = w.desk.profile.name if w.desk is not None else None
    for profile in profiles:
        label = f"{profile.name}  ({'PRODUCTION' if profile.is_production else profile.kind.value})"
        action = w.switch_menu.addAction(label)
        action.setCheckable(True)
        action.setChecked(profile.name == current)
        action.setStatusTip(f"Open {profile.name} (MSN {profile.merchant_serial_number}).")
        action.triggered.connect(lambda _checked=False, p=profile: w.switch_profile(p))


def update_counts(w: MainWindow) -> None:
    counts = w.model.state_counts()
    total = w.model.rowCount()
    parts = [f"{total} payments", f"{w.proxy.rowCount()} shown"]
    for state in (State.CREATED, State.AUTHORIZED, State.TERMINATED):
        if counts.get(state):
            parts.append(f"{counts[state]} {state.value.lower()}")
    if counts.get(None):
        parts.append(f"{counts[None]} not fetched")
    w.counts_label.setText(" · ".join(parts))
