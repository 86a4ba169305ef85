"""The main window: composes widgets and wires their signals; no business logic here.

Its parts: the banner (``banner``), the filter bar (``filter_bar``), the register view with the table
(``ui/table/view.py``), the side panel (``side_panel``: the details panel and, in Demo mode, the customer
panel), the details' following of the selected row (``selected_details``); the actions, menus and
toolbar (declared as data in ``actions``); in the status bar the refresh status (``refresh_status``) and
the message line, Recent messages and counts (``status_line``); the dialogs it opens (``dialogs``); the
flows (``ui/flows``), every one run by one ``TaskRunner`` whose errors reach one ``ErrorPresenter``.
The table's model is updated in one place only, from the desk's change feed (``ui/table/changes.py``).

The window is built in two steps so it can paint before the heavy parts are imported: the constructor
builds only what the first paint shows, from light modules (Qt's widgets and the domain records): the
banner, the filter bar, menus and toolbar, the details panel and a "Loading the register…" placeholder
where the table goes. :meth:`bind` attaches the profile's ``PaymentDesk``: it builds the table model and
the table, the flows (asyncio, httpx and the services are imported by then) and enables the actions.
``MainWindow(desk)`` does both at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QLocale, QPoint, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QResizeEvent
from PySide6.QtWidgets import QMainWindow, QSplitter, QVBoxLayout, QWidget

from epay_desktop.domain import TrackedPayment
from epay_desktop.i18n import N_, _, ngettext, translate
from epay_desktop.ui.formatting import skipped_text
from epay_desktop.ui.gc_guard import register_loaded
from epay_desktop.ui.table.view import RegisterView
from epay_desktop.ui.window.action_specs import ActionContext
from epay_desktop.ui.window.actions import ActionSet
from epay_desktop.ui.window.banner import ProfileBanner
from epay_desktop.ui.window.dialogs import WindowDialogs
from epay_desktop.ui.window.filter_bar import FilterBar
from epay_desktop.ui.window.profile_menu import ProfileMenu
from epay_desktop.ui.window.refresh_status import RefreshStatus
from epay_desktop.ui.window.screen_fit import fitted_size
from epay_desktop.ui.window.selected_details import SelectedDetails
from epay_desktop.ui.window.side_panel import SidePanel
from epay_desktop.ui.window.status_line import StatusLine

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDialog, QMenu

    from epay_desktop.domain.listed import ListedPayments
    from epay_desktop.services import DeskSurface, Profile
    from epay_desktop.ui.aio import TaskRunner
    from epay_desktop.ui.errors import ErrorPresenter
    from epay_desktop.ui.flows.batch import BatchFlow
    from epay_desktop.ui.flows.cancel import CancelFlow
    from epay_desktop.ui.flows.in_flight import InFlightCalls
    from epay_desktop.ui.flows.money_move import MoneyMoveFlow
    from epay_desktop.ui.flows.recovery import RecoveryFlow
    from epay_desktop.ui.flows.refresh import RefreshFlow
    from epay_desktop.ui.flows.register_edits import RegisterEdits
    from epay_desktop.ui.table.changes import ChangesAdapter
    from epay_desktop.ui.table.model import PaymentsModel
    from epay_desktop.ui.window.customer_panel import CustomerPanel

# The smallest window everything is made to fit in (no clipped figures); tested.
SMALLEST = (1000, 650)


LOADING = N_("Loading the register…")


class MainWindow(QMainWindow):
    """Signals: ``profile_switch_requested(Profile)`` (Settings or the Switch profile menu; the
    composition root closes this session and opens that profile's); ``closed()`` (the window closed)."""

    profile_switch_requested = Signal(object)
    closed = Signal()

    # Made by bind().
    model: PaymentsModel
    changes: ChangesAdapter
    runner: TaskRunner
    cancel_flow: CancelFlow
    move_flow: MoneyMoveFlow
    batch_flow: BatchFlow
    refresh_flow: RefreshFlow
    recovery_flow: RecoveryFlow
    in_flight: InFlightCalls
    edits: RegisterEdits

    def __init__(
        self,
        desk: DeskSurface | None = None,
        *,
        locale: QLocale | None = None,
        auto_refresh_ms: int = 30_000,
        show_error_dialogs: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.desk: DeskSurface | None = None
        self.read_only = False
        self.locale_ = locale
        self.auto_refresh_ms = auto_refresh_ms
        self.show_error_dialogs = show_error_dialogs
        self.customer_panel: CustomerPanel | None = None
        self.context_menu: QMenu | None = None  # the table's context menu, while it is open
        self._listed_early: PaymentsModel | None = None  # the rows shown before a desk (show_list)
        self._presenter: ErrorPresenter | None = None
        self.setObjectName("MainWindow")
        self.setWindowTitle("epay-desktop")
        self.resize(fitted_size(1280, 760))

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        self.banner = ProfileBanner(central)
        layout.addWidget(self.banner)
        self.filter_bar = FilterBar(central)
        layout.addWidget(self.filter_bar)
        # Horizontal (the default); a keyword parent: a positional one makes PySide check the
        # (orientation, parent) overload, which builds the Qt namespace (ui/first_paint.py).
        splitter = QSplitter(parent=central)
        self.register_view = RegisterView(translate(LOADING), splitter)
        splitter.addWidget(self.register_view)
        self.side_panel = SidePanel(splitter, locale=locale)
        self.details = self.side_panel.details
        splitter.addWidget(self.side_panel)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([900, 380])  # the events timeline needs ~370 px before its key column
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)

        self.dialogs = WindowDialogs(self)
        self.profile_menu = ProfileMenu(self)
        self.action_set = ActionSet(
            self,
            {
                "new-payment": self.dialogs.open_new_payment,
                "add-payments": self.dialogs.open_add_payments,
                "import-csv": lambda: self.dialogs.open_add_payments(import_csv=True),
                "quit": self.close,
                "refresh-all": self.refresh_all,
                "refresh-payment": self.refresh_selected,
                "stop-refresh": self.stop_refresh,
                "cancel-payment": self.cancel_selected,
                "capture-payment": lambda: self.move_selected("capture"),
                "refund-payment": lambda: self.move_selected("refund"),
                "remove-payment": self.remove_selected,
                "check-pending": self.check_selected,
                "export-list": self.export_list,
                "history": lambda: self.status_line.open_history(),
                "batch-capture": lambda: self.batch_selected("capture"),
                "batch-cancel": lambda: self.batch_selected("cancel"),
                "undo-remove": self.undo_remove,
                "copy-reference": self.copy_reference,
                "find": self.filter_bar.focus_search,
                "settings": self.open_settings,
                "audit": self.dialogs.open_audit,
                "about": self.dialogs.show_about,
            },
            submenus={"switch-profile": self.profile_menu},
        )
        self.refresh_status = RefreshStatus(self.action("stop-refresh"), self)
        self.status_line = StatusLine(self, self.action("history"))
        self.statusBar().addPermanentWidget(self.status_line.history_button)
        self.statusBar().addPermanentWidget(self.refresh_status)
        self.statusBar().addPermanentWidget(self.status_line.counts_label)
        self._selected_refresh = QTimer(self, singleShot=True, interval=300)
        self.selected_details = SelectedDetails(self.details, self.selected_tracked, self)
        self._wire()
        self.setTabOrder(self.filter_bar.state_filter, self.details)
        self._selection_changed()
        if desk is not None:
            self.bind(desk)

    def _wire(self) -> None:
        view = self.register_view
        self.filter_bar.text_changed.connect(view.set_filter_text)
        self.filter_bar.states_changed.connect(view.set_filter_states)
        view.selection_changed.connect(lambda _t: self._selection_changed(moved=True))
        view.current_updated.connect(lambda _t: self._follow_current())
        view.counts_changed.connect(self.status_line.show_counts)
        view.context_menu_requested.connect(self._open_context_menu)
        # Delete takes the row out of the register (with undo); it never moves money.
        view.delete_requested.connect(self.remove_selected)
        view.activated.connect(self.details.setFocus)
        self.details.psp_reference_copied.connect(lambda _t: self.show_status(_("pspReference copied.")))
        self.refresh_status.running_changed.connect(lambda _r: self._update_actions())
        self.refresh_status.status_changed.connect(self.show_status)
        self.profile_menu.profile_chosen.connect(self.switch_profile)
        self.dialogs.profile_chosen.connect(self.switch_profile)
        self.dialogs.references_added.connect(self.refresh_references)
        self.dialogs.payment_created.connect(self.on_payment_created)
        self._selected_refresh.timeout.connect(self.refresh_selected)

    def action(self, action_id: str) -> QAction:
        """The window's action ``action_id`` (the ids are declared in ``action_specs.ACTIONS``)."""
        return self.action_set[action_id]

    @property
    def presenter(self) -> ErrorPresenter:
        """The one presenter of this window's errors (made on first use: the first paint needs none)."""
        if self._presenter is None:
            from epay_desktop.ui.errors import ErrorPresenter

            self._presenter = ErrorPresenter(self, show_dialogs=self.show_error_dialogs)
            self._presenter.presented.connect(lambda _t, line: self.show_status(line))
        return self._presenter

    @property
    def last_dialog(self) -> QDialog | None:
        """The dialog this window opened last (it may be closed and deleted by now)."""
        return self.dialogs.last

    # --- the desk -----------------------------------------------------------------------------------
    def bind(self, desk: DeskSurface, *, read_only: bool = False) -> None:
        """Attach the profile's desk: the table, the flows, the customer panel (Demo), the banner, the
        enabled actions; the table follows the desk's change feed from here on."""
        from epay_desktop.ui.aio import TaskRunner
        from epay_desktop.ui.flows.batch import BatchFlow
        from epay_desktop.ui.flows.cancel import CancelFlow
        from epay_desktop.ui.flows.in_flight import InFlightCalls
        from epay_desktop.ui.flows.money_move import MoneyMoveFlow
        from epay_desktop.ui.flows.recovery import RecoveryFlow
        from epay_desktop.ui.flows.refresh import RefreshFlow
        from epay_desktop.ui.flows.register_edits import RegisterEdits
        from epay_desktop.ui.table.changes import ChangesAdapter
        from epay_desktop.ui.table.model import PaymentsModel

        if self.desk is not None:
            raise RuntimeError("this window is bound to a desk already; open a new window")
        self.desk = desk
        self.read_only = read_only
        profile = desk.profile
        locale = self.locale_
        # Before anything of the binding can update the actions (they ask it whether Undo can).
        self.edits = RegisterEdits(desk, self.show_status, parent_widget=self, locale=locale)
        self.edits.undo_changed.connect(self._update_actions)
        self.edits.restored.connect(self.select_reference)
        early, self._listed_early = self._listed_early, None
        self.model = early if early is not None else PaymentsModel(self, locale=locale)
        self.changes = ChangesAdapter(self.model, self)
        self.changes.attach(desk.changes)
        table = self.register_view.table
        if early is None or table is None:
            table = self.register_view.show_model(self.model)
        self.setTabOrder(self.filter_bar.state_filter, table)
        self.setTabOrder(table, self.details)
        self.dialogs.bind(desk, self.model.payments)
        self.profile_menu.current = profile.name
        self.runner = TaskRunner(self._present_error, self)
        self.selected_details.bind(desk, self.runner)
        self.cancel_flow = CancelFlow(desk, self.show_status, parent_widget=self, locale=locale)
        self.move_flow = MoneyMoveFlow(desk, self.show_status, parent_widget=self, locale=locale)
        self.move_flow.reference_busy.connect(self.model.set_busy)
        self.batch_flow = BatchFlow(desk, self.show_status, parent_widget=self, locale=locale)
        self.batch_flow.references_busy.connect(self.model.set_busy_many)
        self.refresh_flow = RefreshFlow(
            desk, self.changes, self.runner, auto_interval_ms=self.auto_refresh_ms, parent=self
        )
        self.refresh_flow.clock_moved.connect(self.model.set_now)
        self.recovery_flow = RecoveryFlow(desk, self.runner, self.show_status, parent_widget=self)
        self.in_flight = InFlightCalls(desk, self.runner, self.show_status)
        self.cancel_flow.reference_busy.connect(self.model.set_busy)
        self.recovery_flow.reference_busy.connect(self.model.set_busy)
        # ``finished`` before ``status_changed``: the flow's offline / "online again" line replaces
        # "Refreshed N of M".
        self.refresh_flow.started.connect(self.refresh_status.started)
        self.refresh_flow.progressed.connect(self.refresh_status.progressed)
        self.refresh_flow.finished.connect(self.refresh_status.finished)
        self.refresh_flow.cut_short.connect(self.refresh_status.cut_short)
        self.refresh_flow.status_changed.connect(self.show_status)
        self.show_profile(profile, read_only=read_only, damage=getattr(desk, "damage", ""))
        if desk.demo is not None and not read_only:
            from epay_desktop.ui.window.customer_panel import CustomerPanel

            self.customer_panel = CustomerPanel(
                desk.demo,
                self.runner,
                self.show_status,
                merchant_serial_number=profile.merchant_serial_number,
                parent=self.side_panel.panel,
                locale=locale,
            )
            self.customer_panel.new_payment_created.connect(self.select_reference)
            self.customer_panel.reference_busy.connect(self.model.set_busy)
            self.side_panel.add_below(self.customer_panel)
            self.setTabOrder(self.details, self.customer_panel)
        self._selection_changed()
        self.action_set.name_toolbar_buttons()

    def show_profile(self, profile: Profile, *, read_only: bool = False, damage: str = "") -> None:
        """The banner and title that say where you are (also before a desk is bound)."""
        self.setWindowTitle(
            _("epay-desktop — {name} (MSN {merchant_serial_number})").format(
                name=profile.name, merchant_serial_number=profile.merchant_serial_number
            )
        )
        self.banner.show_profile(profile, read_only=read_only, damage=damage)
        self.dialogs.expect_profile(profile.name)

    @property
    def bound(self) -> bool:
        return self.desk is not None

    def show_list(self, payments: ListedPayments) -> None:
        """Show the register's rows before a desk is bound: the composition root reads them straight
        from the register file while the rest of the app is still starting (a first screenful, then
        all of them: a second call updates the rows shown and adds the others after them). Rows can be
        looked at and selected; every action waits for ``bind``, which keeps this model (the desk's
        load then publishes the same rows, which leaves them as they are)."""
        from epay_desktop.ui.table.model import PaymentsModel

        if self.desk is not None:
            raise RuntimeError("a desk is bound: its load fills the list")
        if self._listed_early is not None:
            self._listed_early.update_listed(payments)
            return
        self.model = self._listed_early = PaymentsModel(self, locale=self.locale_)
        self.register_view.show_model(self.model)
        self.model.set_listed(payments)
        self.register_view.show_table()

    def drop_list(self) -> None:
        """Take the rows ``show_list`` showed out of sight: their register failed its check. The
        placeholder says the register is loading until the session's open says what is wrong (or, when
        it opens after all, its own load replaces them)."""
        if self.desk is not None:
            raise RuntimeError("a desk is bound: its load fills the list")
        if self._listed_early is not None:
            self._listed_early.set_payments([])  # nor counted in the status bar
        self.show_placeholder(translate(LOADING))

    def show_placeholder(self, text: str) -> None:
        """Show ``text`` where the table goes (loading, or why the register could not be opened)."""
        self.register_view.show_placeholder(text)

    # --- start and stop -----------------------------------------------------------------------------
    async def load(self, *, refresh: bool = True) -> None:
        """Show the register from SQLite at once, then refresh everything from the API."""
        assert self.desk is not None, "bind a desk first"
        if not self.model.rowCount():  # rows shown before the desk (show_list) stay in sight
            self.show_placeholder(translate(LOADING))
        await self.desk.load_register()  # published: the table fills from the change feed
        register_loaded()  # the payments live on: out of the young collections' reach
        self.register_view.show_table()
        count = self.model.rowCount()
        if not count:
            # A new Test or Production register: say how payments get here instead of an empty grid.
            self.register_view.show_placeholder(self._empty_text())
            self.model.rowsInserted.connect(self.register_view.show_table)
            self.model.modelReset.connect(self.register_view.show_table)
        loaded = ngettext("{count} payment in the register.", "{count} payments in the register.", count)
        skipped = skipped_text(self.desk.skipped)
        self.show_status(" ".join(text for text in (loaded.format(count=count), skipped) if text))
        self.register_view.select_first()
        await self.show_pending()
        if refresh and self.model.rowCount():
            await self.refresh_flow.refresh(self.model.references())
        self.refresh_flow.auto_timer.start()

    def start(self) -> None:
        self.runner.start("load", self.load())

    def _empty_text(self) -> str:
        assert self.desk is not None
        if not self.desk.profile.is_team:
            return _(
                "No payments in this register yet.\n\nNew payment… (Ctrl+N) creates one; Add payments… "
                "(Ctrl+Shift+A) or Import CSV… (Ctrl+O) adds existing ones by their reference."
            )
        if self.desk.read_only:
            return _(
                "The team server cannot be reached, and no list of this profile was kept on this computer."
                "\n\nThe team's payments show here as soon as the server answers."
            )
        return _(
            "No payments on the team's list yet.\n\nThe shop's own system makes the payments; Add payments… "
            "(Ctrl+Shift+A) or Import CSV… (Ctrl+O) puts them on the list by their reference."
        )

    async def shutdown(self) -> None:
        """Stop timers, cancel every task of this window and wait for them (before its desk closes)."""
        self._selected_refresh.stop()
        self.selected_details.stop()
        if self.desk is not None:
            self.refresh_flow.close()
            await self.runner.shutdown()
            self.changes.detach()

    async def finish_in_flight(self) -> None:
        """Before closing or switching: wait until the money-moving calls already sent have finished
        (``ui/flows/in_flight.py``)."""
        if self.desk is not None:
            await self.in_flight.finish()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.action_set.fit_toolbar(event.size().width())
        super().resizeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.desk is not None and (busy := self.in_flight.pending()) and not self.runner.closed:
            # Keep the window open until the call in flight has an outcome; then close by itself.
            event.ignore()
            self.show_status(self.in_flight.describe(busy))
            self.runner.start("close", self._close_when_finished(), replace=False)
            return
        if self.desk is not None:
            self.refresh_flow.close()
        super().closeEvent(event)
        if event.isAccepted():
            self.closed.emit()

    async def _close_when_finished(self) -> None:
        await self.finish_in_flight()
        QTimer.singleShot(0, self.close)  # after this task ended (the runner forgets it)

    # --- slots --------------------------------------------------------------------------------------
    def selected_tracked(self) -> TrackedPayment | None:
        return self.register_view.selected_tracked()

    def selected_reference(self) -> str | None:
        return self.register_view.selected_reference()

    def select_reference(self, reference: str) -> bool:
        return self.register_view.select_reference(reference)

    def cancel_selected(self) -> None:
        tracked = self.selected_tracked()
        if tracked is not None and self.action("cancel-payment").isEnabled():
            self.runner.start(f"cancel:{tracked.reference}", self.cancel_flow.run(tracked), replace=False)

    def move_selected(self, what: str) -> None:
        """Capture… or Refund… (``what``) of the selected payment, after asking."""
        from epay_desktop.domain import Action

        action = Action(what)
        tracked = self.selected_tracked()
        if tracked is not None and self.action(f"{what}-payment").isEnabled():
            self.runner.start(
                f"{what}:{tracked.reference}", self.move_flow.run(tracked, action), replace=False
            )

    def batch_selected(self, what: str) -> None:
        """Cancel or capture (``what``) the selected payments; one row selected means every one shown."""
        from epay_desktop.domain import Action

        if not self.action(f"batch-{what}").isEnabled() or self.runner.is_running("batch"):
            return
        rows = self.register_view.selected_rows()
        if len(rows) <= 1:
            rows = self.register_view.shown_rows()
        self.runner.start("batch", self.batch_flow.run(Action(what), rows), replace=False)

    def check_selected(self) -> None:
        """Check now: settle the selected payment's pending operation from its event log."""
        tracked = self.selected_tracked()
        if tracked is not None and self.action("check-pending").isEnabled():
            self.runner.start(f"check:{tracked.reference}", self._check(tracked.reference), replace=False)

    async def _check(self, reference: str) -> None:
        assert self.desk is not None
        messages, left = await self.desk.check_pending(reference)
        await self.show_pending()
        if left:
            self.show_status(
                _(
                    "{reference}: the event log does not show the operation yet; it stays pending. "
                    "Check again later, or finish it from the notice (Send again / Abandon)."
                ).format(reference=reference)
            )
        elif messages:
            self.show_status(" ".join(messages))

    async def show_pending(self) -> None:
        """Mark the rows with an operation sent without a known outcome (from the journal)."""
        if self.desk is None:
            return
        pending = await self.desk.pending_intents()
        self.model.set_pending({intent.reference: intent.operation.value for intent in pending})
        self._update_actions()

    def export_list(self, path: str | None = None) -> None:
        """Export the list as shown to CSV (asks where, unless ``path`` is given)."""
        if self.bound and self.action("export-list").isEnabled():
            self.runner.start(
                "export", self.edits.export(self.register_view.shown_rows(), path), replace=False
            )

    def remove_selected(self) -> None:
        """Take the selected payment out of the register (never the API); Undo remove puts it back."""
        tracked = self.selected_tracked()
        if tracked is not None and self.action("remove-payment").isEnabled():
            self.runner.start(
                f"remove:{tracked.reference}",
                self.edits.remove([tracked.reference], self.model),
                replace=False,
            )

    def undo_remove(self) -> None:
        if self.bound and self.edits.can_undo and self.action("undo-remove").isEnabled():
            self.runner.start("restore", self.edits.undo(self.model), replace=False)

    def refresh_selected(self) -> None:
        if (reference := self.selected_reference()) is not None and self.bound:
            self.refresh_flow.refresh_one(reference)

    def refresh_all(self) -> None:
        if self.action("refresh-all").isEnabled():
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
        self.select_reference(references[0])
        self.show_status(
            ngettext(
                "Added {count} payment; reading it from the API…",
                "Added {count} payments; reading them from the API…",
                len(references),
            ).format(count=len(references))
        )
        await self.refresh_flow.refresh(references)

    def on_payment_created(self, tracked: TrackedPayment) -> None:
        self.select_reference(tracked.reference)
        self.show_status(_("New payment {reference} is in the register.").format(reference=tracked.reference))

    def copy_reference(self) -> None:
        if (reference := self.selected_reference()) is not None:
            QGuiApplication.clipboard().setText(reference)
            self.show_status(_("Copied {reference}.").format(reference=reference))

    def open_settings(self, select: str | None = None) -> None:
        """Settings, showing ``select`` (default: the open profile, or the one being opened)."""
        self.dialogs.open_settings(select=select)

    def switch_profile(self, profile: Profile) -> None:
        """Ask the composition root to open ``profile`` (it owns sessions; the window only asks)."""
        if self.desk is not None and profile == self.desk.profile:
            self.show_status(_("{name} is open already.").format(name=profile.name))
            return
        self.show_status(_("Opening {name}…").format(name=profile.name))
        self.profile_switch_requested.emit(profile)

    def show_status(self, text: str) -> None:
        """Say ``text`` in the status bar (and keep it in Recent messages)."""
        self.status_line.show(text)

    def _present_error(self, name: str, error: BaseException) -> None:
        if self.desk is not None and name.split(":", 1)[0] in ("cancel", "capture", "refund", "batch"):
            # An unknown outcome leaves its intent pending: the row says so until it is settled.
            self.runner.start("pending", self.show_pending())
        if name == "refresh-one":
            from epay_desktop.ui.errors import redact

            # Said about the payment selected then: cleared when the person moves to another one.
            self.status_line.show_about(
                self.selected_reference(),
                redact(_("Could not refresh the payment: {reason}").format(reason=error)),
            )
            return
        self.presenter.present(name, error)

    def _open_context_menu(self, global_pos: QPoint) -> None:
        self.context_menu = self.action_set.context_menu(self, global_pos)

    def _follow_current(self) -> None:
        """The selected payment's row changed: the actions and the customer panel at once (what can be
        clicked is never a frame behind), the details a frame later (``selected_details``)."""
        tracked = self.selected_tracked()
        if self.customer_panel is not None:
            self.customer_panel.set_payment(tracked)
        self._update_actions()
        self.selected_details.follow()

    def _selection_changed(self, *, moved: bool = False) -> None:
        tracked = self.selected_tracked()
        if moved:
            self.status_line.selection_moved(tracked.reference if tracked is not None else None)
        self.selected_details.show_now()
        if self.customer_panel is not None:
            self.customer_panel.set_payment(tracked)
        self._update_actions()
        if moved and self.bound:
            self._selected_refresh.start()

    def set_read_only(self, read_only: bool) -> None:
        """Allow or stop every change (a Team profile whose server went out of reach, or came back)."""
        self.read_only = read_only
        self._update_actions()

    def _update_actions(self) -> None:
        tracked = self.selected_tracked()
        self.action_set.update(
            ActionContext(
                bound=self.bound,
                read_only=self.read_only,
                selected=tracked,
                selected_busy=tracked is not None and self.bound and self.model.is_busy(tracked.reference),
                refreshing=self.refresh_status.running,
                can_undo=self.bound and self.edits.can_undo,
                selected_pending=self.model.pending_operation(tracked.reference)
                if tracked is not None and self.bound
                else "",
                team=self.desk is not None and self.desk.profile.is_team,
            )
        )
