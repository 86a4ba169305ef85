"""Webhooks in the window: the Notifications view (each webhook as it arrives: time, event, reference,
amount, signature verified) and the live link that keeps the table current from them.

:func:`attach_live_updates` binds one window to its profile's ``WebhookFeed``:

- rows change from the desk's change feed, for changes whose source is ``"webhook"`` (the customer
  approves, a capture lands, a cancel is confirmed: the row moves without a poll);
- the Notifications dock lists every delivery (Profile ▸ Notifications; open from the start in Demo);
- polling stays as the fallback, slower while webhooks flow (``SLOWER`` times its usual intervals);
- a profile whose register is fed by ``epay-webhooks`` is checked every ``WATCH_MS`` for what it wrote.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QDockWidget, QHeaderView, QLabel, QMenu, QTableView

from epay_desktop.ui.formatting import format_datetime, format_money

if TYPE_CHECKING:
    from epay_desktop.services.changes import Change
    from epay_desktop.services.webhook_feed import WebhookFeed
    from epay_desktop.services.webhook_inbox import Received
    from epay_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)

COLUMNS = ("Time", "Event", "Reference", "Amount", "Signature")
KEPT_ROWS = 1000
SLOWER = 4
LIVE_CHECK_MS = 5_000
WATCH_MS = 2_000
DOCK_HEIGHT = 170  # about five notifications
# Wide enough for typical values (the person can still drag them).
_COLUMN_SAMPLES = (
    "2026-12-01 12:00:00",
    "epayments.payment.authorized.v1",
    "fjordkaffe-ord-100228",
    "1 234.00 NOK",
)
_AnyIndex = QModelIndex | QPersistentModelIndex


def _signature_text(received: Received) -> str:
    if received.via == "register":
        return "verified by epay-webhooks"
    text = "verified" if received.verified else "NOT verified"
    notes = {"duplicate": " (duplicate)", "untracked": " (not in the register)"}
    return text + notes.get(received.outcome, "")


class NotificationsModel(QAbstractTableModel):
    """The newest deliveries first (at most ``KEPT_ROWS``)."""

    def __init__(self, parent: Any = None, *, locale: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Received] = []
        self._locale = locale

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        received = self._rows[index.row()]
        event = received.notification.event
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return format_datetime(received.received_at.astimezone(), self._locale)
            if column == 1:
                return received.notification.event_type
            if column == 2:
                return event.reference
            if column == 3:
                return format_money(event.amount, self._locale) + ("" if event.success else " (failed)")
            return _signature_text(received)
        if role == Qt.ItemDataRole.ToolTipRole and column == 1:
            return f"{event.display_name} · event pspReference {event.psp_reference or '—'}"
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def add(self, received: Received) -> None:
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._rows.insert(0, received)
        self.endInsertRows()
        if len(self._rows) > KEPT_ROWS:
            self.beginRemoveRows(QModelIndex(), KEPT_ROWS, len(self._rows) - 1)
            del self._rows[KEPT_ROWS:]
            self.endRemoveRows()

    def received_at(self, row: int) -> Received:
        return self._rows[row]


class NotificationsDock(QDockWidget):
    def __init__(self, parent: Any = None, *, locale: Any = None) -> None:
        super().__init__("Notifications", parent)
        self.setObjectName("NotificationsDock")
        self.model = NotificationsModel(self, locale=locale)
        self.table = QTableView()  # shown in place of ``empty`` when the first webhook arrives
        self.table.setObjectName("NotificationsTable")
        self.table.setAccessibleName("Webhook notifications")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        # Compact rows, as in the details panel's event list: more notifications in a short dock.
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        width = self.table.fontMetrics().horizontalAdvance
        for column, sample in enumerate(_COLUMN_SAMPLES):
            header.resizeSection(column, width(sample) + 24)
        self.empty = QLabel("No webhooks yet. They appear here the moment the API sends them.", self)
        self.empty.setWordWrap(True)
        self.empty.setMargin(12)
        self.setWidget(self.empty)
        self.toggleViewAction().setText("&Notifications")
        self.toggleViewAction().setStatusTip(
            "Show each webhook as it arrives (time, event, reference, amount)."
        )

    def add(self, received: Received) -> None:
        if self.widget() is self.empty:
            self.empty.hide()
            self.setWidget(self.table)
        self.model.add(received)


class LiveUpdates:
    """The link between one window and its profile's webhooks (see the module docstring)."""

    def __init__(self, window: MainWindow, feed: WebhookFeed) -> None:
        self.window = window
        self.feed = feed
        self.dock = NotificationsDock(window, locale=window.locale_)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        # Once the dock is laid out (a resize asked before that is ignored).
        QTimer.singleShot(0, self.dock, self._size_dock)
        _profile_menu(window).addAction(self.dock.toggleViewAction())
        self.dock.setVisible(feed.in_process)
        self.indicator = QLabel(window)
        self.indicator.setObjectName("WebhooksIndicator")
        window.statusBar().addPermanentWidget(self.indicator)
        flow = window.refresh_flow
        self._auto_ms = flow.auto_timer.interval()
        self._poll_ms = flow.poll_timer.interval()
        desk = window.desk
        assert desk is not None, "bind the window to its desk first"
        self._unsubscribe = [feed.subscribe(self._received)]
        if getattr(window, "changes", None) is None:
            # No changes adapter in this window applies the desk's changes to the table: apply the
            # webhooks' here (an adapter, where there is one, applies them with every other change).
            self._unsubscribe.append(desk.changes.subscribe(self._changed))
        self._live_timer = QTimer(window, interval=LIVE_CHECK_MS)
        self._live_timer.timeout.connect(self._pace)
        self._live_timer.start()
        self._watch_timer: QTimer | None = None
        if feed.watch is not None:
            self._watch_timer = QTimer(window, interval=WATCH_MS)
            self._watch_timer.timeout.connect(self._check_register)
            self._watch_timer.start()
        self._pace()

    def _size_dock(self) -> None:
        self.window.resizeDocks([self.dock], [DOCK_HEIGHT], Qt.Orientation.Vertical)

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._live_timer.stop()
        if self._watch_timer is not None:
            self._watch_timer.stop()

    def _changed(self, changes: Sequence[Change]) -> None:
        from epay_desktop.services.changes import PaymentChanged

        rows = [c.tracked for c in changes if isinstance(c, PaymentChanged) and c.source == "webhook"]
        if rows:
            self.window.model.update_payments(rows)

    def _received(self, received: Received) -> None:
        self.dock.add(received)
        event = received.notification.event
        self.window.show_status(f"Webhook: {event.display_name} for {event.reference}.")
        self._pace()

    def _pace(self) -> None:
        """Polling is the fallback: slower while webhooks flow, as usual otherwise."""
        flowing = self.feed.flowing()
        flow = self.window.refresh_flow
        factor = SLOWER if flowing else 1
        for timer, base in ((flow.auto_timer, self._auto_ms), (flow.poll_timer, self._poll_ms)):
            if timer.interval() != base * factor:
                timer.setInterval(base * factor)
        if flowing:
            self.indicator.setText(f"Webhooks live · {self.feed.received} received")
            self.indicator.setToolTip("Rows change as webhooks arrive; polling runs slower as a fallback.")
        elif self.feed.in_process:
            self.indicator.setText("Webhooks on (Demo)")
            self.indicator.setToolTip("The Demo sandbox sends webhooks to this window.")
        else:
            self.indicator.setText("Webhooks: none lately · polling")
            self.indicator.setToolTip(
                "No webhook reached the register lately (epay-webhooks feeds it); polling keeps it current."
            )

    def _check_register(self) -> None:
        self.window.runner.start("register-watch", self._watch_once(), replace=False)

    async def _watch_once(self) -> None:
        from epay_desktop.store import RegisterError

        try:
            await self.feed.check_register()
        except RegisterError as error:  # busy for a moment (epay-webhooks writing): next tick
            log.info("could not check the register for webhooks: %s", error)


def _profile_menu(window: MainWindow) -> QMenu:
    for action in window.menuBar().actions():
        menu = action.menu()
        if isinstance(menu, QMenu) and menu.title().replace("&", "") == "Profile":
            return menu
    return window.menuBar().addMenu("&Profile")


def attach_live_updates(window: MainWindow, feed: WebhookFeed) -> LiveUpdates:
    """Link ``window`` (bound to its desk) to ``feed``; the link ends when the window closes."""
    live = LiveUpdates(window, feed)
    window.closed.connect(live.close)
    return live
