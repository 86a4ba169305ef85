"""The Notifications view: each webhook as it arrives (time, event, reference, amount, whether its
signature was verified), newest first, in a dock of the main window (Profile ▸ Notifications). The
link that feeds it is ``ui/window/live_updates.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QDockWidget, QHeaderView, QLabel, QTableView

from epay_desktop.i18n import _
from epay_desktop.ui.formatting import format_datetime, format_money

if TYPE_CHECKING:
    from epay_desktop.services.webhook_inbox import Received

COLUMNS = ("Time", "Event", "Reference", "Amount", "Signature")
KEPT_ROWS = 1000
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
        return _("verified by epay-webhooks")
    if received.outcome == "duplicate":
        return _("verified (duplicate)") if received.verified else _("NOT verified (duplicate)")
    if received.outcome == "untracked":
        return (
            _("verified (not in the register)")
            if received.verified
            else _("NOT verified (not in the register)")
        )
    return _("verified") if received.verified else _("NOT verified")


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
        self.table.setAccessibleName(_("Webhook notifications"))
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
        self.empty = QLabel(_("No webhooks yet. They appear here the moment the API sends them."), self)
        self.empty.setWordWrap(True)
        self.empty.setMargin(12)
        self.setWidget(self.empty)
        self.toggleViewAction().setText(_("&Notifications"))
        self.toggleViewAction().setStatusTip(
            _("Show each webhook as it arrives (time, event, reference, amount).")
        )

    def add(self, received: Received) -> None:
        if self.widget() is self.empty:
            self.empty.hide()
            self.setWidget(self.table)
        self.model.add(received)
