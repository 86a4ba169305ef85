"""What a crash left unfinished, put to the person (after ``desk.recover_pending()`` on start).

Finished results (sent again and confirmed, settled from the event log, closed as failed) get one
status line; each is in the log and the audit log. Unfinished ones (the person must decide, or the
outcome is still unknown) are listed in a non-modal :class:`RecoveryNotice`, each with "Send again"
(``desk.resume_intent``: the same idempotency key, so it cannot happen twice), "Abandon"
(``desk.abandon_intent``: the event log is read first; if it did happen it is recorded as such) and
"Later" (it stays open, blocks other operations on that payment and is looked at again next start).

The notice is shown with ``show()``, not ``open()``: ``open()`` makes a dialog window-modal, and the
person may want to refresh the payment or read the audit log before deciding. Never ``exec()``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
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

from epay_desktop.ui.errors import redact

if TYPE_CHECKING:
    from epay_desktop.services import PaymentDesk, RecoveryResult
    from epay_desktop.ui.aio import TaskRunner
    from epay_desktop.ui.payments_model import PaymentsModel

log = logging.getLogger(__name__)

LATER = (
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
        what = f"{result.operation.value} of {result.reference}"
        self.send_again = QPushButton("Send again", self)
        self.send_again.setAccessibleName(f"Send the {what} again")
        self.send_again.setToolTip("Send it again with its own idempotency key: it cannot happen twice.")
        self.abandon = QPushButton("Abandon", self)
        self.abandon.setAccessibleName(f"Abandon the {what}")
        self.abandon.setToolTip(
            "Read the payment's event log first; if it did not happen, close it as failed."
        )
        self.later = QPushButton("Later", self)
        self.later.setAccessibleName(f"Decide later about the {what}")
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
        self.setWindowTitle("Unfinished operations from last time")
        self.setAccessibleName("Unfinished operations from last time")
        self.setModal(False)
        self.resize(620, 360)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "<b>These money-moving operations have no known outcome.</b> Nothing is sent without your "
            "choice. Sending again reuses the same idempotency key, so it cannot move money twice.",
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
            row.later.clicked.connect(lambda _c=False, r=row: r.settle(LATER))
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


class RecoveryFlow(QObject):
    """Presents ``recover_pending``'s results and runs the person's choices through the TaskRunner."""

    def __init__(
        self,
        desk: PaymentDesk,
        model: PaymentsModel,
        runner: TaskRunner,
        status: Callable[[str], None],
        *,
        parent_widget: QWidget | None = None,
    ) -> None:
        super().__init__(parent_widget)
        self._desk = desk
        self._model = model
        self._runner = runner
        self._status = status
        self._parent_widget = parent_widget
        self.notice: RecoveryNotice | None = None
        # What was said about last time's operations: the status bar forgets (a refresh overwrites it).
        self.reported: list[str] = []

    def _say(self, text: str) -> None:
        self.reported.append(text)
        self._status(text)

    def present(self, results: Sequence[RecoveryResult]) -> RecoveryNotice | None:
        for result in results:
            log.info("recovery: %s", redact(str(result)))
        finished = [r for r in results if r.finished]
        unfinished = [r for r in results if not r.finished]
        if finished:
            more = f" (and {len(finished) - 1} more: see the audit log)" if len(finished) > 1 else ""
            self._say(redact(f"From last time: {finished[0]}{more}"))
        if not unfinished:
            return None
        if self.notice is not None:
            self.notice.close()
        notice = RecoveryNotice(unfinished, self._parent_widget)
        notice.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        notice.send_again_requested.connect(self.send_again)
        notice.abandon_requested.connect(self.abandon)
        notice.destroyed.connect(lambda _o=None: setattr(self, "notice", None))
        self.notice = notice
        if not finished:
            self._say(
                f"{len(unfinished)} operation(s) from last time have no known outcome: decide in the notice."
            )
        notice.show()
        notice.raise_()
        return notice

    def send_again(self, intent_id: int, reference: str) -> None:
        self._runner.start(f"resume:{reference}", self._resume(intent_id, reference), replace=False)

    def abandon(self, intent_id: int, reference: str) -> None:
        self._runner.start(f"abandon:{reference}", self._abandon(intent_id, reference), replace=False)

    async def _resume(self, intent_id: int, reference: str) -> None:
        await self._run(intent_id, reference, "Sending again…", self._resumed(intent_id))

    async def _resumed(self, intent_id: int) -> str:
        result = await self._desk.resume_intent(intent_id)
        self._model.update_payment(result.tracked)
        return result.message

    async def _abandon(self, intent_id: int, reference: str) -> None:
        await self._run(intent_id, reference, "Reading the event log…", self._abandoned(intent_id, reference))

    async def _abandoned(self, intent_id: int, reference: str) -> str:
        result = await self._desk.abandon_intent(intent_id)
        if (tracked := await self._desk.tracked(reference)) is not None:
            self._model.update_payment(tracked)
        return str(result)

    async def _run(self, intent_id: int, reference: str, doing: str, work: Awaitable[str]) -> None:
        from epay_desktop.services import OperationFinishedError

        self._set_busy(intent_id, True, doing)
        self._model.set_busy(reference, True)
        try:
            message = await work
        except OperationFinishedError as finished:
            # Finished meanwhile elsewhere (another window abandoned or settled it): nothing was sent,
            # and there is nothing left to choose.
            message = redact(str(finished))
        except BaseException:
            # The presenter says what went wrong; the row offers the choice again.
            self._set_busy(intent_id, False, "Not finished: see the message. You can choose again.")
            raise
        finally:
            self._model.set_busy(reference, False)
        if self.notice is not None:
            self.notice.settle(intent_id, message)
        self._status(redact(message))

    def _set_busy(self, intent_id: int, busy: bool, text: str) -> None:
        if self.notice is not None:
            self.notice.set_busy(intent_id, busy, text)


__all__ = ["LATER", "RecoveryFlow", "RecoveryNotice"]
