"""The main window: composes widgets and wires signals; no business logic here.

The table (model + filter proxy + delegates), the details panel, the customer panel (Demo), the
banner, search and state filter, the status bar with counts and refresh progress (all built by
``window_layout``); the actions, menus, toolbar and which actions are enabled (``window_actions``).
The cancel and refresh flows live in ``cancel_flow`` and ``refresh_flow``; the dialogs are opened by
``window_dialogs``; every operation runs through one ``TaskRunner`` whose errors reach one
``ErrorPresenter``.

The window is built in two steps so it can paint before the heavy parts are imported: the constructor
builds only what the first paint shows, from light modules (Qt and the domain records): the banner, the
filter row, menus and toolbar, the details panel and a "Loading the register…" placeholder where the
table goes. :meth:`bind` attaches the profile's ``PaymentDesk``: it builds the register view (the table
model, its filter proxy, the table and its delegates; ``window_layout.build_register_view``), the flows
(asyncio, httpx and the services are imported by then) and enables the actions. ``MainWindow(desk)``
does both at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QLocale, QModelIndex, QPoint, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar, QWidget

from epay_desktop.domain import TrackedPayment
from epay_desktop.ui import window_actions, window_layout
from epay_desktop.ui.window_actions import build_actions, name_toolbar_buttons

if TYPE_CHECKING:
    from PySide6.QtWidgets import (
        QComboBox,
        QDialog,
        QLabel,
        QLineEdit,
        QProgressBar,
        QStackedWidget,
        QTableView,
        QToolButton,
        QVBoxLayout,
    )

    from epay_desktop.services import PaymentDesk, Profile, SecretStore
    from epay_desktop.ui.aio import TaskRunner
    from epay_desktop.ui.cancel_flow import CancelFlow
    from epay_desktop.ui.customer_panel import CustomerPanel
    from epay_desktop.ui.delegates import AggregateBarDelegate, StateBadgeDelegate
    from epay_desktop.ui.details_panel import DetailsPanel
    from epay_desktop.ui.errors import ErrorPresenter
    from epay_desktop.ui.payments_model import PaymentsFilterModel, PaymentsModel
    from epay_desktop.ui.recovery_notice import RecoveryFlow
    from epay_desktop.ui.refresh_flow import RefreshFlow

LOADING = "Loading the register…"


class MainWindow(QMainWindow):
    """Signals: ``profile_switch_requested(Profile)`` (Settings or the Switch profile menu; the
    composition root closes this session and opens that profile's); ``closed()`` (the window closed)."""

    profile_switch_requested = Signal(object)
    closed = Signal()

    # Set by build_actions (window_actions.py).
    new_payment_action: QAction
    add_action: QAction
    import_action: QAction
    quit_action: QAction
    refresh_action: QAction
    refresh_selected_action: QAction
    stop_action: QAction
    cancel_action: QAction
    copy_reference_action: QAction
    find_action: QAction
    settings_action: QAction
    audit_action: QAction
    about_action: QAction
    switch_menu: QMenu
    menus: dict[str, QMenu]
    toolbar: QToolBar
    # Set by window_layout (build_central, build_filters, build_status_bar; build_register_view when
    # bound).
    banner: QLabel
    table_stack: QStackedWidget
    placeholder: QLabel
    side: QWidget
    side_layout: QVBoxLayout
    details: DetailsPanel
    search: QLineEdit
    state_filter: QComboBox
    model: PaymentsModel
    proxy: PaymentsFilterModel
    table: QTableView
    badge_delegate: StateBadgeDelegate
    bar_delegate: AggregateBarDelegate
    counts_label: QLabel
    progress: QProgressBar
    stop_button: QToolButton
    # Set by bind().
    runner: TaskRunner
    cancel_flow: CancelFlow
    refresh_flow: RefreshFlow
    recovery_flow: RecoveryFlow

    def __init__(
        self,
        desk: PaymentDesk | None = None,
        *,
        locale: QLocale | None = None,
        auto_refresh_ms: int = 30_000,
        show_error_dialogs: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.desk: PaymentDesk | None = None
        self.read_only = False
        self.locale_ = locale
        self.auto_refresh_ms = auto_refresh_ms
        self.secret_store: SecretStore | None = None  # one for the app; the composition root sets it
        self.sandbox_transport: Any = None  # the Demo's in-process sandbox (Test connection uses it)
        self.wanted_profile: str | None = None  # the profile being opened (Settings selects it)
        self.last_dialog: QDialog | None = None
        self.customer_panel: CustomerPanel | None = None
        self.setObjectName("MainWindow")
        self.setWindowTitle("epay-desktop")
        self.resize(1280, 760)
        self.show_error_dialogs = show_error_dialogs
        self._presenter: ErrorPresenter | None = None

        self.setCentralWidget(window_layout.build_central(self, LOADING))
        self.details.psp_reference_copied.connect(lambda _t: self.show_status("pspReference copied."))
        build_actions(self)
        window_layout.build_status_bar(self)
        self._wire()
        self.setTabOrder(self.search, self.state_filter)
        self.setTabOrder(self.state_filter, self.details)
        self._update_selection_dependents()
        if desk is not None:
            self.bind(desk)

    # --- construction -------------------------------------------------------------------------------
    def _wire(self) -> None:
        self._counts_timer = QTimer(self, singleShot=True, interval=0)
        self._counts_timer.timeout.connect(lambda: window_layout.update_counts(self))
        self._selected_refresh = QTimer(self, singleShot=True, interval=300)
        self._selected_refresh.timeout.connect(self.refresh_selected)
        window_actions.set_bound_actions(self)

    @property
    def presenter(self) -> ErrorPresenter:
        """The one presenter of this window's errors (made on first use: the first paint needs none)."""
        if self._presenter is None:
            from epay_desktop.ui.errors import ErrorPresenter

            self._presenter = ErrorPresenter(self, show_dialogs=self.show_error_dialogs)
            self._presenter.presented.connect(lambda _t, line: self.show_status(line))
        return self._presenter

    # --- the desk -----------------------------------------------------------------------------------
    def bind(self, desk: PaymentDesk, *, read_only: bool = False) -> None:
        """Attach the profile's desk: flows, runner, customer panel (Demo), banner, enabled actions."""
        from epay_desktop.ui.aio import TaskRunner
        from epay_desktop.ui.cancel_flow import CancelFlow
        from epay_desktop.ui.recovery_notice import RecoveryFlow
        from epay_desktop.ui.refresh_flow import RefreshFlow

        if self.desk is not None:
            raise RuntimeError("this window is bound to a desk already; open a new window")
        self.desk = desk
        self.read_only = read_only
        profile = desk.profile
        self.wanted_profile = profile.name
        locale = self.locale_
        window_layout.build_register_view(self)
        self.runner = TaskRunner(self._present_error, self)
        self.cancel_flow = CancelFlow(desk, self.model, self.show_status, parent_widget=self, locale=locale)
        self.refresh_flow = RefreshFlow(desk, self.model, self.runner, auto_interval_ms=self.auto_refresh_ms)
        self.recovery_flow = RecoveryFlow(desk, self.model, self.runner, self.show_status, parent_widget=self)
        self.refresh_flow.setParent(self)
        self.refresh_progress = window_layout.RefreshProgress(self, self.refresh_flow)
        self.show_profile(profile, read_only=read_only, damage=getattr(desk, "damage", ""))
        if desk.demo is not None and not read_only:
            from epay_desktop.ui.customer_panel import CustomerPanel

            self.customer_panel = CustomerPanel(
                desk.demo,
                self.model,
                self.runner,
                self.show_status,
                merchant_serial_number=profile.merchant_serial_number,
                parent=self.side,
                locale=locale,
            )
            self.customer_panel.new_payment_created.connect(self.select_reference)
            self.side_layout.addWidget(self.customer_panel)
            self.setTabOrder(self.details, self.customer_panel)
        window_actions.set_bound_actions(self)
        self._update_selection_dependents()
        name_toolbar_buttons(self.toolbar)

    def show_profile(self, profile: Profile, *, read_only: bool = False, damage: str = "") -> None:
        """The banner and title that say where you are (also before a desk is bound)."""
        window_layout.show_profile(self, profile, read_only=read_only, damage=damage)

    @property
    def bound(self) -> bool:
        return self.desk is not None

    def show_placeholder(self, text: str) -> None:
        """Show ``text`` where the table goes (loading, or why the register could not be opened)."""
        self.placeholder.setText(text)
        self.table_stack.setCurrentWidget(self.placeholder)

    # --- start and stop -----------------------------------------------------------------------------
    async def load(self, *, refresh: bool = True) -> None:
        """Show the register from SQLite at once, then refresh everything from the API."""
        assert self.desk is not None, "bind a desk first"
        self.show_placeholder(LOADING)
        self.model.set_payments(await self.desk.load_register())
        self.table_stack.setCurrentWidget(self.table)
        self.show_status(f"{self.model.rowCount()} payments in the register.")
        if self.proxy.rowCount() and not self.table.currentIndex().isValid():
            self.table.selectRow(0)
        if refresh and self.model.rowCount():
            await self.refresh_flow.refresh(self.model.references())
        self.refresh_flow.auto_timer.start()

    def start(self) -> None:
        self.runner.start("load", self.load())

    async def shutdown(self) -> None:
        """Stop timers, cancel every task of this window and wait for them (before its desk closes)."""
        self._selected_refresh.stop()
        if self.desk is not None:
            self.refresh_flow.auto_timer.stop()
            self.refresh_flow.poll_timer.stop()
            await self.runner.shutdown()

    def busy_references(self) -> frozenset[str]:
        """Payments with a money-moving call already sent and in flight (the desk finishes it)."""
        return self.desk.busy_references() if self.desk is not None else frozenset()

    async def finish_in_flight(self) -> None:
        """Before closing or switching: say which money-moving calls are still in flight and wait until
        each has finished and recorded its outcome (the request was sent; stopping would leave the
        person not knowing what happened)."""
        while (busy := self.busy_references()) and self.desk is not None:
            self.show_status(self._finishing_text(busy))
            await self.desk.drain()

    def _finishing_text(self, busy: frozenset[str]) -> str:
        names = []
        for reference in sorted(busy):
            doing = "the cancel of" if self.runner.is_running(f"cancel:{reference}") else "the operation on"
            names.append(f"{doing} {reference}")
        return f"Finishing {', '.join(names)}… (the request was already sent)"

    def closeEvent(self, event: QCloseEvent) -> None:
        if (busy := self.busy_references()) and not self.runner.closed:
            # Keep the window open until the call in flight has an outcome; then close by itself.
            event.ignore()
            self.show_status(self._finishing_text(busy))
            self.runner.start("close", self._close_when_finished(), replace=False)
            return
        if self.desk is not None:
            self.refresh_flow.auto_timer.stop()
            self.refresh_flow.poll_timer.stop()
        super().closeEvent(event)
        if event.isAccepted():
            self.closed.emit()

    async def _close_when_finished(self) -> None:
        await self.finish_in_flight()
        QTimer.singleShot(0, self.close)  # after this task ended (the runner forgets it)

    # --- slots --------------------------------------------------------------------------------------
    def selected_tracked(self) -> TrackedPayment | None:
        if not self.bound:
            return None  # no table yet
        from epay_desktop.ui.payments_model import PaymentRoles

        index = self.table.currentIndex()
        return index.data(PaymentRoles.TRACKED) if index.isValid() else None

    def selected_reference(self) -> str | None:
        tracked = self.selected_tracked()
        return tracked.reference if tracked is not None else None

    def select_reference(self, reference: str) -> bool:
        if not self.bound:
            return False
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
        if (reference := self.selected_reference()) is not None and self.bound:
            self.refresh_flow.refresh_one(reference)

    def refresh_all(self) -> None:
        if self.refresh_action.isEnabled():
            self.refresh_flow.refresh_everything()

    def stop_refresh(self) -> None:
        if self.bound:
            self.refresh_flow.stop()

    def refresh_references(self, references: list[str]) -> None:
        """References just added to the register: show their rows at once, then read them from the API."""
        if self.bound and references:
            self.runner.start(f"add:{references[0]}", self._show_and_refresh(list(references)), replace=False)

    async def _show_and_refresh(self, references: list[str]) -> None:
        assert self.desk is not None
        rows = [t for t in [await self.desk.tracked(r) for r in references] if t is not None]
        self.model.update_payments(rows)
        self.select_reference(references[0])
        self.show_status(f"Added {len(rows)} payment(s); reading them from the API…")
        await self.refresh_flow.refresh(references)

    def on_payment_created(self, tracked: TrackedPayment) -> None:
        self.model.update_payment(tracked)
        self.select_reference(tracked.reference)
        self.show_status(f"New payment {tracked.reference} is in the register.")

    def copy_reference(self) -> None:
        if (reference := self.selected_reference()) is not None:
            QGuiApplication.clipboard().setText(reference)
            self.show_status(f"Copied {reference}.")

    def focus_search(self) -> None:
        from PySide6.QtCore import Qt  # not before the first paint (ui/startup.py)

        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def open_settings(self, select: str | None = None) -> None:
        """Settings, showing ``select`` (default: the open profile, or the one being opened)."""
        from epay_desktop.ui import window_dialogs  # the dialogs load when first opened

        window_dialogs.open_settings(self, select=select)

    def switch_profile(self, profile: Profile) -> None:
        """Ask the composition root to open ``profile`` (it owns sessions; the window only asks)."""
        if self.desk is not None and profile == self.desk.profile:
            self.show_status(f"{profile.name} is open already.")
            return
        self.show_status(f"Opening {profile.name}…")
        self.profile_switch_requested.emit(profile)

    def fill_switch_menu(self) -> None:
        """Fill Profile ▸ Switch profile from the profile store each time it opens."""
        window_layout.fill_switch_menu(self)

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 15_000)

    def _present_error(self, name: str, error: BaseException) -> None:
        if name == "refresh-one":
            from epay_desktop.ui.errors import redact

            self.show_status(redact(f"Could not refresh the payment: {error}"))
            return
        self.presenter.present(name, error)

    async def _show_events(self, reference: str) -> None:
        """Read the selected payment's event log (the list is loaded without logs) into the details."""
        from epay_desktop.services import DeskError

        assert self.desk is not None
        try:
            events = await self.desk.events_of(reference)
        except DeskError as error:
            self.details.show_events(reference, None, str(error))
            return
        self.details.show_events(reference, events)

    def _context_menu(self, pos: QPoint) -> None:
        if (menu := window_actions.context_menu(self, pos)) is not None:
            self.context_menu = menu

    def _current_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_selection_dependents()
        if self.bound:
            self._selected_refresh.start()

    def _rows_changed(self, top: QModelIndex, bottom: QModelIndex, _roles: object = None) -> None:
        current = self.selected_reference()
        row = self.model.row_of(current) if current is not None else None
        if row is not None and top.row() <= row <= bottom.row():
            self._update_selection_dependents()

    def _update_selection_dependents(self) -> None:
        tracked = self.selected_tracked()
        self.details.show_payment(tracked)
        if tracked is not None and tracked.events is None and tracked.payment is not None:
            self.runner.start("events", self._show_events(tracked.reference))
        if self.customer_panel is not None:
            self.customer_panel.set_payment(tracked)
        window_actions.update_payment_actions(self, tracked)
