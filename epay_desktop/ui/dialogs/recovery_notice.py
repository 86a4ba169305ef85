"""The non-modal notice that lists the money-moving operations a crash left without an outcome, each
with "Send again", "Abandon" and "Later"; it emits the person's choice per intent id and shows what came
of it. Shown with ``show()``, not ``open()``: ``open()`` makes a dialog window-modal, and the person may
want to refresh the payment or read the audit log before deciding. Never ``exec()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from epay_desktop.i18n import N_, _, translate
from epay_desktop.ui.errors import operation_label, redact

if TYPE_CHECKING:
    from epay_desktop.services import RecoveryResult

LATER = N_(
    "Left for later: it stays open (with its idempotency key), blocks other operations on this payment, "
    "and is looked at again at the next start."
)


class _Row(QFrame):
    def __init__(self, result: RecoveryResult, parent: QWidget) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.intent_id = result.intent_id
        self.reference = result.reference
        layout = QVBoxLayout(self)
        self.text = QLabel(redact(str(result)), self)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text)
        self.outcome = QLabel(self)
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.setStyleSheet("font-weight: bold;")
        self.outcome.hide()
        layout.addWidget(self.outcome)
        buttons = QHBoxLayout()
        what = _("{operation} of {reference}").format(
            operation=operation_label(result.operation.value), reference=result.reference
        )
        self.send_again = QPushButton(_("Send again"), self)
        self.send_again.setAccessibleName(_("Send again: {what}").format(what=what))
        self.send_again.setToolTip(_("Send it again with its own idempotency key: it cannot happen twice."))
        self.abandon = QPushButton(_("Abandon"), self)
        self.abandon.setAccessibleName(_("Abandon: {what}").format(what=what))
        self.abandon.setToolTip(
            _("Read the payment's event log first; if it did not happen, close it as failed.")
        )
        self.later = QPushButton(_("Later"), self)
        self.later.setAccessibleName(_("Decide later: {what}").format(what=what))
        decidable = result.needs_decision or result.outcome.value == "still unknown"
        self.send_again.setVisible(decidable)
        self.abandon.setVisible(decidable)
        buttons.addStretch(1)
        for button in (self.send_again, self.abandon, self.later):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.settled = False

    def set_busy(self, busy: bool, text: str = "") -> None:
        for button in (self.send_again, self.abandon, self.later):
            button.setEnabled(not busy)
        self._say(text)

    def settle(self, text: str) -> None:
        self.settled = True
        for button in (self.send_again, self.abandon, self.later):
            button.hide()
        self._say(text)

    def _say(self, text: str) -> None:
        self.outcome.setText(redact(text))
        self.outcome.setVisible(bool(text))


class RecoveryNotice(QDialog):
    """Lists the operations left without an outcome; emits the person's choice per intent id."""

    send_again_requested = Signal(int, str)  # intent id, reference
    abandon_requested = Signal(int, str)

    def __init__(self, results: Sequence[RecoveryResult], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RecoveryNotice")
        self.setWindowTitle(_("Unfinished operations from last time"))
        self.setAccessibleName(_("Unfinished operations from last time"))
        self.setModal(False)
        self.resize(620, 360)
        layout = QVBoxLayout(self)
        intro = QLabel(
            _(
                "<b>These money-moving operations have no known outcome.</b> Nothing is sent without your "
                "choice. Sending again reuses the same idempotency key, so it cannot move money twice."
            ),
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        area = QScrollArea(self)
        area.setWidgetResizable(True)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget(area)
        rows_layout = QVBoxLayout(inner)
        self.rows: dict[int, _Row] = {}
        for result in results:
            row = _Row(result, inner)
            row.send_again.clicked.connect(
                lambda _c=False, r=row: self.send_again_requested.emit(r.intent_id, r.reference)
            )
            row.abandon.clicked.connect(
                lambda _c=False, r=row: self.abandon_requested.emit(r.intent_id, r.reference)
            )
            row.later.clicked.connect(lambda _c=False, r=row: r.settle(translate(LATER)))
            self.rows[result.intent_id] = row
            rows_layout.addWidget(row)
        rows_layout.addStretch(1)
        area.setWidget(inner)
        layout.addWidget(area, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def set_busy(self, intent_id: int, busy: bool, text: str = "") -> None:
        if (row := self.rows.get(intent_id)) is not None:
            row.set_busy(busy, text)

    def settle(self, intent_id: int, text: str) -> None:
        if (row := self.rows.get(intent_id)) is not None:
            row.settle(text)

    def outcome_text(self, intent_id: int) -> str:
        row = self.rows.get(intent_id)
        return row.outcome.text() if row is not None else ""


__all__ = ["LATER", "RecoveryNotice"]
