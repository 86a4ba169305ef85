"""The selected payment's own history in Team mode: who did what to it, when, with what result, as the
team server's audit has it (every role may read a payment's own history; the whole audit is the
supervisors'). A tab beside the event timeline; read again when another payment is selected and when a
colleague starts or finishes an operation on it. When the server is out of reach it says so in a
sentence and keeps the last lines shown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from epay_desktop.i18n import N_, _, translate
from epay_desktop.ui.formatting import format_datetime, format_money

if TYPE_CHECKING:
    from epay_desktop.store import AuditEntry

HISTORY_COLUMNS = (N_("When"), N_("Who"), N_("Action"), N_("Result"), N_("Amount"))

ReadHistory = Callable[[str], Awaitable[Sequence["AuditEntry"]]]


class PaymentHistory(QWidget):
    """``load(reference)`` reads and shows the lines of ``reference`` (``None``: nothing selected)."""

    def __init__(self, read: ReadHistory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PaymentHistory")
        self._read = read
        self.reference: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.note = QLabel(self)
        self.note.setObjectName("PaymentHistoryNote")
        self.note.setWordWrap(True)
        self.note.hide()
        layout.addWidget(self.note)
        self.lines = QTreeWidget(self)
        self.lines.setObjectName("PaymentHistoryLines")
        self.lines.setAccessibleName(_("Who did what to this payment"))
        self.lines.setRootIsDecorated(False)
        self.lines.setUniformRowHeights(True)
        self.lines.setAlternatingRowColors(True)
        self.lines.setHeaderLabels([translate(title) for title in HISTORY_COLUMNS])
        header = self.lines.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.lines.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(self.lines)

    async def load(self, reference: str | None) -> None:
        from epay_desktop.api import EPaymentError
        from epay_desktop.services import DeskError

        if reference != self.reference:
            self.lines.clear()
        self.reference = reference
        if reference is None:
            self._say("")
            return
        try:
            entries = await self._read(reference)
        except (DeskError, EPaymentError) as error:
            # Said in the panel, not in a dialog: it is read in the background on every selection.
            if self.reference == reference:
                self._say(str(error))
            return
        if self.reference != reference:
            return  # another payment was selected meanwhile: its own read fills the panel
        self.show_entries(entries)

    def show_entries(self, entries: Sequence[AuditEntry]) -> None:
        self.lines.clear()
        for entry in entries:
            item = QTreeWidgetItem(
                [
                    format_datetime(entry.at),
                    entry.os_user,
                    entry.action,
                    entry.result,
                    format_money(entry.amount) if entry.amount else "",
                ]
            )
            item.setTextAlignment(4, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if entry.detail:
                item.setToolTip(3, entry.detail)
            self.lines.addTopLevelItem(item)
        self._say("" if entries else _("Nobody has done anything to this payment through the team yet."))

    def _say(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))


__all__ = ["HISTORY_COLUMNS", "PaymentHistory"]
