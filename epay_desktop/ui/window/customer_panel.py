"""Demo mode: play the customer's part on the selected payment, for training.

Approve, reject, start and finish authorizing (3-D Secure), expire; and "New demo payment…" with an
amount and a description. Every action goes to ``desk.demo`` (the sandbox controls) through the runner;
the desk publishes the answer, which updates the row (``ui/table/changes.py``). Only shown when the desk
has demo controls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QLocale, Signal
from PySide6.QtWidgets import QDialog, QGridLayout, QGroupBox, QPushButton, QWidget

from epay_desktop.domain import Currency, State, TrackedPayment
from epay_desktop.i18n import N_, _, translate
from epay_desktop.ui.aio import TaskRunner, wait_finished
from epay_desktop.ui.dialogs.demo_payment import DEMO_CURRENCIES, NewDemoPaymentDialog
from epay_desktop.ui.formatting import format_money

if TYPE_CHECKING:
    from epay_desktop.services import DemoControls

CUSTOMER_BUTTONS = (
    ("approve", N_("Approve"), N_("The customer approves in the app: the payment becomes AUTHORIZED.")),
    ("reject", N_("Reject"), N_("The customer rejects: the payment becomes ABORTED.")),
    (
        "start-authorizing",
        N_("Start 3-D Secure"),
        N_("The customer starts card authentication (3-D Secure)."),
    ),
    ("finish-authorizing", N_("Finish 3-D Secure"), N_("The customer completes 3-D Secure: AUTHORIZED.")),
    ("expire", N_("Expire"), N_("The customer never answers: the payment becomes EXPIRED.")),
)
_TIPS = {action: tip for action, _label, tip in CUSTOMER_BUTTONS}
_LABELS = {action: label for action, label, _tip in CUSTOMER_BUTTONS}


class CustomerPanel(QGroupBox):
    """Buttons for the customer's part; enabled only when the selected payment waits for the customer."""

    new_payment_created = Signal(str)  # reference
    reference_busy = Signal(str, bool)  # the customer's action on this payment runs / has ended

    def __init__(
        self,
        demo: DemoControls,
        runner: TaskRunner,
        status: Callable[[str], None],
        *,
        merchant_serial_number: str = "",
        parent: QWidget | None = None,
        locale: QLocale | None = None,
    ) -> None:
        super().__init__(_("Customer (demo)"), parent)
        self.setObjectName("CustomerPanel")
        self.setAccessibleName(_("Customer actions, demo mode"))
        self._demo = demo
        self._runner = runner
        self._status = status
        self._locale = locale if locale is not None else QLocale()
        self.currency = DEMO_CURRENCIES.get(merchant_serial_number, Currency.NOK)
        self._reference: str | None = None
        self.dialog: NewDemoPaymentDialog | None = None
        grid = QGridLayout(self)
        self.buttons: dict[str, QPushButton] = {}
        for i, (action, label, tip) in enumerate(CUSTOMER_BUTTONS):
            button = QPushButton(translate(label), self)
            button.setToolTip(translate(tip))
            button.setAccessibleName(_("Customer: {label}").format(label=translate(label)))
            button.clicked.connect(_bind(self.run_action, action))
            self.buttons[action] = button
            grid.addWidget(button, i // 3, i % 3)
        self.new_button = QPushButton(_("New demo payment…"), self)
        self.new_button.setAccessibleName(_("New demo payment"))
        self.new_button.setToolTip(_("Create a payment in the sandbox, as a shop would."))
        self.new_button.clicked.connect(self.new_payment)
        grid.addWidget(self.new_button, 1, 2)
        self.set_payment(None)

    def set_payment(self, tracked: TrackedPayment | None) -> None:
        self._reference = tracked.reference if tracked is not None else None
        waiting = (
            tracked is not None and tracked.payment is not None and tracked.payment.state is State.CREATED
        )
        why = "" if waiting else _("Select a payment that waits for the customer (state CREATED).")
        authorizing = tracked is not None and tracked.authorizing
        # The sandbox refuses to start 3-D Secure twice, or to finish one that never started.
        not_now = {
            "start-authorizing": _("3-D Secure is running already: finish it, or approve, reject or expire.")
            if authorizing
            else "",
            "finish-authorizing": ""
            if authorizing
            else _("3-D Secure has not been started for this payment: start it first."),
        }
        for action, button in self.buttons.items():
            reason = why or not_now.get(action, "")
            button.setEnabled(not reason)
            button.setToolTip(reason or translate(_TIPS[action]))

    # --- slots (one line each) ----------------------------------------------------------------------
    def run_action(self, action: str) -> None:
        if self._reference is not None:
            self._runner.start(
                f"customer:{self._reference}", self.act(self._reference, action), replace=False
            )

    def new_payment(self) -> None:
        self._runner.start("new-demo-payment", self.create_payment(), replace=False)

    # --- coroutines ---------------------------------------------------------------------------------
    async def act(self, reference: str, action: str) -> TrackedPayment:
        self.reference_busy.emit(reference, True)
        try:
            tracked = await self._demo.customer(reference, action)
        finally:
            self.reference_busy.emit(reference, False)
        state = tracked.payment.display_state if tracked.payment is not None else "unknown"
        self._status(
            _("Customer: {action} on {reference}. The payment is {state}.").format(
                action=translate(_LABELS[action]) if action in _LABELS else action,
                reference=reference,
                state=state,
            )
        )
        return tracked

    async def create_payment(self) -> TrackedPayment | None:
        dialog = NewDemoPaymentDialog(self.currency, self.window(), self._locale)
        self.dialog = dialog
        try:
            answer = await wait_finished(dialog)
            value = dialog.value()
        finally:
            self.dialog = None
            dialog.deleteLater()
        if answer != QDialog.DialogCode.Accepted or value is None:
            return None
        amount, description = value
        tracked = await self._demo.new_payment(amount, description)
        self._status(
            _("New demo payment {reference} for {amount}: it waits for the customer (use Approve).").format(
                reference=tracked.reference, amount=format_money(amount, self._locale)
            )
        )
        self.new_payment_created.emit(tracked.reference)
        return tracked


def _bind(slot: Callable[[str], None], value: str) -> Callable[[], None]:
    def call() -> None:
        slot(value)

    return call


__all__ = ["CUSTOMER_BUTTONS", "CustomerPanel"]
