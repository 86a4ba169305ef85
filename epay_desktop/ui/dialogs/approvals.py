"""The approvals inbox of a supervisor (four eyes): refunds and batches the team server holds until a
second supervisor decides.

Each request shows who asked, what and why, and until when it waits. Approve sends it (once, by the
server); Reject… needs a reason, which whoever asked reads; nothing of a rejected request is ever sent.
"Show" switches to every request with how it ended (sent, failed with why, rejected with the reason,
expired), so whoever asked sees what became of it.
The server checks every decision (a supervisor cannot approve their own request): a refusal is shown as
the server's sentence in the dialog's status line. The dialog is opened with ``show()`` (never
``exec()``); its calls run in its own runner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from epay_desktop.i18n import _, ngettext
from epay_desktop.ui.dialogs.feedback import StatusLabel, Tone, dialog_runner
from epay_desktop.ui.formatting import format_money

if TYPE_CHECKING:
    from epay_desktop.services.team_inbox import ApprovalRequest, ApprovalsInbox


class ApprovalsDialog(QDialog):
    """Signals: ``decided(str)`` a request was approved or rejected (the sentence said)."""

    decided = Signal(str)

    def __init__(self, inbox: ApprovalsInbox, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.inbox = inbox
        self.requests: list[ApprovalRequest] = []
        self.setObjectName("ApprovalsDialog")
        self.setWindowTitle(_("Approvals inbox"))
        self.resize(860, 420)
        self.table = QTableWidget(0, 8, self)
        self.table.setObjectName("ApprovalsTable")
        self.table.setAccessibleName(_("Requests waiting for a second supervisor"))
        self.table.setHorizontalHeaderLabels(
            [
                _("Request"),
                _("What"),
                _("Asked by"),
                _("Why"),
                _("Asked at"),
                _("Waits until"),
                _("Status"),
                _("How it ended"),
            ]
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.note_edit = QLineEdit(self)
        self.note_edit.setObjectName("ApprovalNote")
        self.note_edit.setAccessibleName(_("Note, or the reason for rejecting"))
        self.note_edit.setPlaceholderText(_("A note to approve with; the reason to reject with (required)"))
        note_label = QLabel(_("&Note / reason"), self)
        note_label.setBuddy(self.note_edit)
        self.view = QComboBox(self)
        self.view.setObjectName("ApprovalsView")
        self.view.addItem(_("Waiting for a decision"), "pending")
        self.view.addItem(_("All requests, with how each ended"), "all")
        self.view.currentIndexChanged.connect(lambda _index: self.start_reload())
        view_label = QLabel(_("&Show"), self)
        view_label.setBuddy(self.view)
        self.refresh_button = QPushButton(_("&Refresh"), self)
        self.refresh_button.clicked.connect(self.start_reload)
        self.approve_button = QPushButton(_("&Approve and send"), self)
        self.approve_button.setObjectName("ApproveButton")
        self.approve_button.clicked.connect(self.start_approve)
        self.reject_button = QPushButton(_("Re&ject"), self)
        self.reject_button.setObjectName("RejectButton")
        self.reject_button.clicked.connect(self.start_reject)
        self.close_button = QPushButton(_("Close"), self)
        self.close_button.clicked.connect(self.close)
        self.status = StatusLabel(_("Approvals inbox status"), self)
        self.status.setObjectName("ApprovalsStatus")
        self.runner = dialog_runner(self.status, self._busy_changed)

        note_row = QHBoxLayout()
        note_row.addWidget(note_label)
        note_row.addWidget(self.note_edit, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        buttons.addWidget(self.reject_button)
        buttons.addWidget(self.approve_button)
        buttons.addWidget(self.close_button)
        view_row = QHBoxLayout()
        view_row.addWidget(view_label)
        view_row.addWidget(self.view)
        view_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(view_row)
        layout.addWidget(self.table, 1)
        layout.addLayout(note_row)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self._selection_changed()

    # --- slots (one line each) -------------------------------------------------------------------
    def start_reload(self) -> None:
        self.runner.start("reload", self.reload())

    def start_approve(self) -> None:
        self.runner.start("decide", self.approve_selected(), replace=False)

    def start_reject(self) -> None:
        self.runner.start("decide", self.reject_selected(), replace=False)

    # --- work ------------------------------------------------------------------------------------
    async def reload(self) -> None:
        everything = self.view.currentData() == "all"
        self.requests = await self.inbox.requests(str(self.view.currentData()))
        self.table.setColumnHidden(6, not everything)
        self.table.setColumnHidden(7, not everything)
        self.table.setRowCount(len(self.requests))
        for row, request in enumerate(self.requests):
            cells = (
                f"#{request.id}",
                self._what(request),
                request.requested_by,
                request.reason,
                request.requested_at.astimezone().strftime("%d.%m %H:%M") if request.requested_at else "",
                request.expires_at.astimezone().strftime("%d.%m %H:%M") if request.expires_at else "",
                status_text(request.status),
                request.failure or (request.note if request.status == "rejected" else ""),
            )
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        if self.requests:
            self.table.selectRow(0)
        elif everything:
            self.status.show_message(_("No requests yet."))
        else:
            self.status.show_message(_("No requests are waiting for approval."))
        self._selection_changed()

    def _what(self, request: ApprovalRequest) -> str:
        total = format_money(request.total) if request.total is not None else ""
        count = len(request.items)
        one = {
            "cancel": _("Cancel {reference}"),
            "capture": _("Capture on {reference}"),
            "refund": _("Refund on {reference}"),
        }
        many = {
            "cancel": ngettext("Cancel {count} payment", "Cancel {count} payments", count),
            "capture": ngettext("Capture on {count} payment", "Capture on {count} payments", count),
            "refund": ngettext("Refund on {count} payment", "Refund on {count} payments", count),
        }
        if count == 1:
            sentence = one.get(request.operation, "{reference}")
            what = sentence.format(reference=request.items[0].reference)
        else:
            what = many.get(request.operation, "{count}").format(count=count)
        return f"{what}, {total}" if total else what

    def selected(self) -> ApprovalRequest | None:
        rows = self.table.selectionModel().selectedRows()
        return self.requests[rows[0].row()] if rows and rows[0].row() < len(self.requests) else None

    async def approve_selected(self) -> None:
        request = self.selected()
        if request is None:
            return
        decision = await self.inbox.approve(request, self.note_edit.text().strip())
        await self._decided(decision.message)

    async def reject_selected(self) -> None:
        request = self.selected()
        if request is None:
            return
        decision = await self.inbox.reject(request, self.note_edit.text())
        await self._decided(decision.message)

    async def _decided(self, message: str) -> None:
        self.note_edit.clear()
        await self.reload()
        self.status.show_message(message, Tone.OK)
        self.decided.emit(message)

    def _selection_changed(self) -> None:
        request = self.selected()
        chosen = request is not None and request.status == "pending"  # only a waiting one is decided
        busy = self.runner.is_running("decide")
        self.approve_button.setEnabled(chosen and not busy)
        self.reject_button.setEnabled(chosen and not busy)

    def _busy_changed(self, _name: str = "", _busy: bool = False) -> None:
        self._selection_changed()


def status_text(status: str) -> str:
    """A request's status in the person's language (an unknown one as the server said it)."""
    texts = {
        "pending": _("waiting"),
        "approved": _("approved, being sent"),
        "sent": _("sent"),
        "failed": _("failed"),
        "rejected": _("rejected"),
        "expired": _("expired"),
    }
    return texts.get(status, status)


__all__ = ["ApprovalsDialog", "status_text"]
