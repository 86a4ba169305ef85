"""The selected payment's own history in Team mode: who did what to it, when, with what result, as the
team server's audit has it (every role may read a payment's own history; the whole audit is the
supervisors'). A tab beside the event timeline; read again when another payment is selected and when a
colleague starts or finishes an operation on it. When the server is out of reach it says so in a
sentence and keeps the last lines shown.

The lines are grouped under their day, so each line needs only its time. The panel is narrow: the time,
action, result and amount keep the width their text needs (the amount right-aligned, never cut) and
the agent's name takes what is left, elided (its tooltip has it whole); the widget asks for room for
all of them (``minimumSizeHint``), so the side panel is never made narrower than that.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from epay_desktop.domain import Currency, Money
from epay_desktop.i18n import N_, _, translate
from epay_desktop.i18n.formats import date_text, time_text
from epay_desktop.ui.audit_words import action_text, result_text
from epay_desktop.ui.formatting import format_datetime, format_money

if TYPE_CHECKING:
    from epay_desktop.store import AuditEntry

HISTORY_COLUMNS = (N_("When"), N_("Who"), N_("Action"), N_("Result"), N_("Amount"))
WHEN, WHO, ACTION, RESULT, AMOUNT = range(len(HISTORY_COLUMNS))
# What the room is measured for (a wider text widens its column; the agent's name gives way first).
ACTION_SAMPLES = ("capture", "cancel", "refund")
RESULT_SAMPLES = ("succeeded", "reconciled", "requested", "refused")
AMOUNT_SAMPLE = Money(1_234_500, Currency.NOK)
WHO_SAMPLE = "Kari…"
CELL_PADDING = 10  # a cell's margins in the usual styles, and a little air

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
        self.lines.headerItem().setTextAlignment(
            AMOUNT, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        )
        # Days are headings, always open: the lines under them are not indented.
        self.lines.setIndentation(0)
        self.lines.setItemsExpandable(False)
        self.lines.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.lines.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(WHO, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)  # a stretched last section never goes below 100 px
        header.setMinimumSectionSize(24)
        header.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.lines.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(self.lines)

    def minimumSizeHint(self) -> QSize:
        """Room for a line: the time, action, result and amount whole, and a few letters of a name."""
        hint = super().minimumSizeHint()
        metrics = self.lines.fontMetrics()
        header = self.lines.header().fontMetrics()

        def widest(*texts: str) -> int:
            return max(max(metrics.horizontalAdvance(t), header.horizontalAdvance(t)) for t in texts)

        from datetime import datetime

        titles = [translate(title) for title in HISTORY_COLUMNS]
        columns = (
            widest(titles[WHEN], time_text(datetime(2026, 12, 31, 23, 59, 59).astimezone())),
            widest(WHO_SAMPLE),
            widest(titles[ACTION], *map(action_text, ACTION_SAMPLES)),
            widest(titles[RESULT], *map(result_text, RESULT_SAMPLES)),
            widest(titles[AMOUNT], format_money(AMOUNT_SAMPLE)),
        )
        frame = 2 * self.lines.frameWidth() + self.lines.verticalScrollBar().sizeHint().width()
        return QSize(max(hint.width(), sum(columns) + CELL_PADDING * len(columns) + frame), hint.height())

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
        day: QTreeWidgetItem | None = None
        for entry in entries:
            heading = date_text(entry.at)
            if day is None or day.text(WHEN) != heading:
                day = QTreeWidgetItem([heading])
                day.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a heading, not a line to select
                font = day.font(WHEN)
                font.setBold(True)
                day.setFont(WHEN, font)
                self.lines.addTopLevelItem(day)
                day.setFirstColumnSpanned(True)
                day.setExpanded(True)
            item = QTreeWidgetItem(
                [
                    time_text(entry.at),
                    entry.os_user,
                    action_text(entry.action),
                    result_text(entry.result),
                    format_money(entry.amount) if entry.amount else "",
                ]
            )
            item.setToolTip(WHEN, format_datetime(entry.at))
            item.setToolTip(WHO, entry.os_user)
            item.setTextAlignment(AMOUNT, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if entry.detail:
                item.setToolTip(RESULT, entry.detail)
            day.addChild(item)
        self._say("" if entries else _("Nobody has done anything to this payment through the team yet."))

    def entry_items(self) -> list[QTreeWidgetItem]:
        """The lines shown (under their days), newest first as read."""
        found: list[QTreeWidgetItem] = []
        for index in range(self.lines.topLevelItemCount()):
            day = self.lines.topLevelItem(index)
            if day is not None:
                found.extend(item for row in range(day.childCount()) if (item := day.child(row)) is not None)
        return found

    def _say(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))


__all__ = ["HISTORY_COLUMNS", "PaymentHistory"]
