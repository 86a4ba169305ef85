"""The cancel flow: confirm, then call the desk without freezing anything.

confirm (``CancelDialog`` opened with ``open()``) → ``reference_busy(reference, True)`` → ``desk.cancel``
→ a status message says what was released. The row and the details follow from what the desk publishes
(``ui/table/changes.py``); this flow never touches the table. An error propagates to the runner's
presenter (title, detail, code, traceId, advice) and the row keeps its last known state. When the desk
cannot settle an unknown outcome it re-raises; the flow then reads the payment once more so the row
shows what the API says now. When the payment changed between the confirmation and the send (the desk
re-reads it first and raises ``StaleConfirmationError``; nothing was sent), the confirmation opens
again with the fresh figures and a line saying what changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog

from epay_desktop.api import EPaymentError, OutcomeUnknownError
from epay_desktop.domain import Action, CancelOutcome, Money, TrackedPayment, check_action, state_sentence
from epay_desktop.domain.rules import cancel_outcome
from epay_desktop.i18n import _
from epay_desktop.services import StaleConfirmationError
from epay_desktop.ui.aio import wait_finished
from epay_desktop.ui.dialogs.cancel import CancelDialog
from epay_desktop.ui.flows.desk_flow import DeskFlow
from epay_desktop.ui.formatting import format_money
from epay_desktop.ui.theme import DESTRUCTIVE_BUTTON_STYLE

if TYPE_CHECKING:
    from epay_desktop.services import CancelResult


class CancelFlow(DeskFlow):
    payment_cancelled = Signal(str, str)  # reference, message
    reference_busy = Signal(str, bool)  # the cancel of this payment is being sent / has ended
    dialog: CancelDialog | None = None  # the confirmation, while it is open

    async def run(self, tracked: TrackedPayment) -> CancelResult | None:
        """Cancel ``tracked`` (as the person sees it now) after asking."""
        reference = tracked.reference
        changed = ""  # why the dialog is shown again (the payment changed since it was confirmed)
        while True:
            if tracked.payment is None:
                self._status(
                    _("{reference}: refresh the payment before cancelling it.").format(reference=reference)
                )
                return None
            outcome = cancel_outcome(tracked.payment)
            if outcome is None:
                reason = check_action(tracked.payment, Action.CANCEL).reason
                self._status(f"{changed} {reference} cannot be cancelled: {reason}".strip())
                return None
            if not await self._confirm(tracked, outcome, changed):
                self._status(_("Kept payment {reference}: nothing was sent.").format(reference=reference))
                return None
            try:
                return await self._send(reference, outcome.released)
            except StaleConfirmationError as stale:
                # Nothing was sent: ask again with the fresh figures, saying what changed.
                tracked = stale.tracked
                changed = self.what_changed(stale)
                self._status(changed)

    def what_changed(self, stale: StaleConfirmationError) -> str:
        expected = format_money(stale.expected, self._locale)
        now = format_money(stale.now, self._locale)
        return (
            f"This payment changed since you opened this dialog: a cancel now releases {now}, not "
            f"{expected}. Nothing was sent."
        )

    async def _confirm(self, tracked: TrackedPayment, outcome: CancelOutcome, changed: str) -> bool:
        dialog = CancelDialog(
            tracked,
            outcome,
            production=self._desk.profile.is_production,
            parent=self._parent_widget,
            locale=self._locale,
            changed=changed,
        )
        dialog.setStyleSheet(DESTRUCTIVE_BUTTON_STYLE)
        self.dialog = dialog
        self.dialog_opened.emit(dialog)
        try:
            answer = await wait_finished(dialog)
        finally:
            self.dialog = None
            dialog.deleteLater()
        return bool(answer == QDialog.DialogCode.Accepted)

    async def _send(self, reference: str, released: Money) -> CancelResult:
        self._status(_("Cancelling {reference}…").format(reference=reference))
        self.reference_busy.emit(reference, True)
        try:
            # The desk re-reads the payment first and refuses (nothing sent) when a cancel would now
            # release another amount than the one the person just confirmed.
            result = await self._desk.cancel(reference, expected_release=released)
        except OutcomeUnknownError:
            await self._read_again(reference)
            raise
        finally:
            self.reference_busy.emit(reference, False)
        message = self.describe(result)
        self._status(message)
        self.payment_cancelled.emit(reference, message)
        return result

    def describe(self, result: CancelResult) -> str:
        payment = result.tracked.payment
        released = format_money(result.released, self._locale)
        reference = result.tracked.reference
        if payment is not None:
            text = _("Cancelled {reference}: {released} released to the customer; now {state}.").format(
                reference=reference, released=released, state=state_sentence(payment)
            )
        else:
            text = _("Cancelled {reference}: {released} released to the customer.").format(
                reference=reference, released=released
            )
        if result.reconciled:
            text = _("{message} (The answer was lost; this was read from the payment's event log.)").format(
                message=text
            )
        return text

    async def _read_again(self, reference: str) -> None:
        try:
            await self._desk.refresh(reference)  # published: the row shows what the API says now
        except EPaymentError:
            return  # the presenter already reports the unknown outcome; the row keeps its last state
