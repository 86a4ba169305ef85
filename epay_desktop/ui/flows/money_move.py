"""The capture and refund flows: confirm, then call the desk without freezing anything.

confirm (``MoneyMoveDialog`` opened with ``open()``) → ``reference_busy(reference, True)`` →
``desk.capture`` / ``desk.refund`` with a new Idempotency-Key → a status line says what moved and the
business state now. The row follows from what the desk publishes; this flow never touches the table.

- The payment changed since the person confirmed (the desk re-reads it first and refuses an amount above
  what can be moved now; nothing was sent): the confirmation opens again with the fresh figures and a
  line saying what changed.
- The API refused and asks for the same request again later with the same key (6280 "Capture failed,
  please try again later", and the other ``api.retry_with_same_key`` refusals): a message says so and
  offers "Try again", which sends it again WITH THE SAME KEY (the journal reopens the refused intent),
  so it can never happen twice.
- The same amount was captured (refunded) on this payment minutes ago: nothing was sent; a message
  shows what already happened and the second one is sent only if the person says so (``again``), so a
  re-run after a crash or a double click does not move the money twice.
- An unknown outcome: the payment is read once more so the row shows what the API says now, and the
  error reaches the runner's presenter (like the cancel flow).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QMessageBox

from epay_desktop.api import (
    ApiError,
    EPaymentError,
    OutcomeUnknownError,
    new_idempotency_key,
    retry_with_same_key,
)
from epay_desktop.domain import Action, Money, TrackedPayment, check_action, state_sentence
from epay_desktop.i18n import _
from epay_desktop.services import ActionNotPossibleError, RepeatNotConfirmedError
from epay_desktop.ui.aio import wait_finished
from epay_desktop.ui.dialogs.money_move import MoneyMoveDialog
from epay_desktop.ui.flows.desk_flow import DeskFlow
from epay_desktop.ui.formatting import format_money
from epay_desktop.ui.theme import DESTRUCTIVE_BUTTON_STYLE

if TYPE_CHECKING:
    from epay_desktop.services import OperationResult


class MoneyMoveFlow(DeskFlow):
    payment_moved = Signal(str, str)  # reference, message
    reference_busy = Signal(str, bool)
    dialog: MoneyMoveDialog | None = None  # the confirmation, while it is open
    retry_box: QMessageBox | None = None  # "try again later", while it is open

    async def run(self, tracked: TrackedPayment, action: Action) -> OperationResult | None:
        """Capture or refund (``action``) of ``tracked`` (as the person sees it now), after asking."""
        reference = tracked.reference
        changed = ""
        amount: Money | None = None
        while True:
            if tracked.payment is None:
                self._status(_("{reference}: refresh the payment first.").format(reference=reference))
                return None
            check = check_action(tracked.payment, action)
            if not check.allowed:
                self._status(
                    _("{reference} cannot be changed now: {reason}").format(
                        reference=reference, reason=check.reason
                    )
                )
                return None
            confirmed = await self._confirm(tracked, action, changed, amount)
            if confirmed is None:
                self._status(_("Kept payment {reference}: nothing was sent.").format(reference=reference))
                return None
            amount, reason = confirmed
            try:
                return await self._send(reference, action, amount, reason, new_idempotency_key())
            except ActionNotPossibleError as stale:
                # Nothing was sent: the payment as it is now, and the dialog again with the fresh figures.
                fresh = await self._desk.tracked(reference)
                tracked = fresh if fresh is not None else tracked
                changed = _(
                    "This payment changed since you opened this dialog: {why} Nothing was sent."
                ).format(why=str(stale))
                self._status(changed)

    async def _confirm(
        self, tracked: TrackedPayment, action: Action, changed: str, amount: Money | None
    ) -> tuple[Money, str] | None:
        dialog = MoneyMoveDialog(
            tracked,
            action,
            production=self._desk.profile.is_production,
            parent=self._parent_widget,
            locale=self._locale,
            changed=changed,
            amount=amount,
        )
        dialog.setStyleSheet(DESTRUCTIVE_BUTTON_STYLE)
        self.dialog = dialog
        self.dialog_opened.emit(dialog)
        try:
            answer = await wait_finished(dialog)
            chosen = dialog.amount()
            reason = dialog.reason()
        finally:
            self.dialog = None
            dialog.deleteLater()
        if answer != QDialog.DialogCode.Accepted or chosen is None:
            return None
        return chosen, reason

    async def _send(
        self, reference: str, action: Action, amount: Money, reason: str, key: str
    ) -> OperationResult | None:
        again = False
        while True:
            shown = format_money(amount, self._locale)
            if action is Action.CAPTURE:
                self._status(
                    _("Capturing {amount} from {reference}…").format(amount=shown, reference=reference)
                )
            else:
                self._status(
                    _("Refunding {amount} of {reference}…").format(amount=shown, reference=reference)
                )
            self.reference_busy.emit(reference, True)
            try:
                if action is Action.CAPTURE:
                    result = await self._desk.capture(reference, amount, key=key, reason=reason, again=again)
                else:
                    result = await self._desk.refund(reference, amount, key=key, reason=reason, again=again)
            except RepeatNotConfirmedError as repeat:
                # Nothing was sent and nothing was journaled under ``key``: it can carry the second one.
                if not await self._ask_second_one(action, repeat):
                    self._status(_("{reference}: nothing was sent.").format(reference=reference))
                    return None
                again = True
                continue
            except ApiError as error:
                if not retry_with_same_key(error.error_code, error.status):
                    raise
                if not await self._ask_try_again(reference, action, error):
                    self._status(
                        _(
                            "{reference}: nothing was moved; the payment service asked to try again later."
                        ).format(reference=reference)
                    )
                    return None
                continue  # the same key: the journal reopens the refused intent
            except OutcomeUnknownError:
                await self._read_again(reference)
                raise
            finally:
                self.reference_busy.emit(reference, False)
            message = self.describe(result, action)
            self._status(message)
            self.payment_moved.emit(reference, message)
            return result

    async def _ask_try_again(self, reference: str, action: Action, error: ApiError) -> bool:
        box = QMessageBox(self._parent_widget)
        box.setObjectName("TryAgainLater")
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowTitle(_("Try again later"))
        what = _("Nothing was captured.") if action is Action.CAPTURE else _("Nothing was refunded.")
        box.setText(
            _(
                "The payment service could not do it now and asks to try again later: {title}. {what} "
                "“Try again” sends the same request with the same idempotency key, so it cannot happen twice."
            ).format(title=error.title, what=what)
        )
        box.setInformativeText(error.summary())
        again = box.addButton(_("Try again"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(_("Not now"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(again)
        self.retry_box = box
        self.dialog_opened.emit(box)
        try:
            await wait_finished(box)
            return box.clickedButton() is again
        finally:
            self.retry_box = None
            box.deleteLater()

    async def _ask_second_one(self, action: Action, repeat: RepeatNotConfirmedError) -> bool:
        previous = repeat.previous
        when = (previous.finished_at or previous.created_at).astimezone().strftime("%H:%M:%S")
        shown = format_money(previous.amount, self._locale) if previous.amount is not None else ""
        box = QMessageBox(self._parent_widget)
        box.setObjectName("SecondOneCheck")
        box.setIcon(QMessageBox.Icon.Warning)
        if action is Action.CAPTURE:
            box.setWindowTitle(_("Capture the same amount again?"))
            text = _(
                "{amount} was already captured from {reference} at {time} by {user}. Nothing was sent "
                "now. Capture {amount} a second time?"
            )
            send = _("Capture again")
        else:
            box.setWindowTitle(_("Refund the same amount again?"))
            text = _(
                "{amount} was already refunded on {reference} at {time} by {user}. Nothing was sent now. "
                "Refund {amount} a second time?"
            )
            send = _("Refund again")
        box.setText(text.format(amount=shown, reference=previous.reference, time=when, user=previous.os_user))
        again = box.addButton(send, QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton(_("Don't send"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        self.retry_box = box
        self.dialog_opened.emit(box)
        try:
            await wait_finished(box)
            return box.clickedButton() is again
        finally:
            self.retry_box = None
            box.deleteLater()

    def describe(self, result: OperationResult, action: Action) -> str:
        payment = result.tracked.payment
        moved = format_money(result.amount, self._locale)
        now = state_sentence(payment) if payment is not None else ""
        reference = result.tracked.reference
        if action is Action.CAPTURE:
            text = _("Captured {amount} from {reference}; now {state}.")
        else:
            text = _("Refunded {amount} of {reference} to the customer; now {state}.")
        message = text.format(amount=moved, reference=reference, state=now)
        if result.reconciled:
            message = _(
                "{sentence} (The answer was lost; this was read from the payment's event log.)"
            ).format(sentence=message)
        return message

    async def _read_again(self, reference: str) -> None:
        try:
            await self._desk.refresh(reference)
        except EPaymentError:
            return


__all__ = ["MoneyMoveFlow"]
