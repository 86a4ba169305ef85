"""Demo mode: play the customer's part on the selected payment, for training (issue 5 item 7).

Approve, reject, start and finish authorizing (3-D Secure), expire; and "New demo payment…" with an
amount and a description. Every action goes to ``desk.demo`` (the sandbox controls) through the runner;
the answer updates the row. Only shown when the desk has demo controls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QLocale, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from epay_desktop.domain import Currency, Money, State, TrackedPayment
from epay_desktop.ui.aio import TaskRunner, wait_finished
from epay_desktop.ui.formatting import AmountError, format_money, parse_money
from epay_desktop.ui.payments_model import PaymentsModel

if TYPE_CHECKING:
    from epay_desktop.services import DemoControls

# The demo merchants of the sandbox (shared contract): the currency a new demo payment uses.
DEMO_CURRENCIES = {"123456": Currency.NOK, "223344": Currency.DKK, "334455": Currency.EUR}

CUSTOMER_BUTTONS = (
    ("approve", "Approve", "The customer approves in the app: the payment becomes AUTHORIZED."),
    ("reject", "Reject", "The customer rejects: the payment becomes ABORTED."),
    ("start-authorizing", "Start 3-D Secure", "The customer starts card authentication (3-D Secure)."),
    ("finish-authorizing", "Finish 3-D Secure", "The customer completes 3-D Secure: AUTHORIZED."),
    ("expire", "Expire", "The customer never answers: the payment becomes EXPIRED."),
)
_TIPS = {action: tip for action, _, tip in CUSTOMER_BUTTONS}


class NewDemoPaymentDialog(QDialog):
    """Amount and description of a new demo payment; OK only when the amount is exact and positive."""

    def __init__(self, currency: Currency, parent: QWidget | None = None, locale: QLocale | None = None):
        super().__init__(parent)
        self._currency = currency
        self._locale = locale if locale is not None else QLocale()
        self.setWindowTitle("New demo payment")
        self.setAccessibleName("New demo payment")
        form = QFormLayout(self)
        self.amount = QLineEdit(self)
        self.amount.setPlaceholderText(f"e.g. 149.50 ({currency.value})")
        self.amount.setAccessibleName(f"Amount in {currency.value}")
        form.addRow(f"&Amount ({currency.value})", self.amount)
        self.description = QLineEdit("Demo purchase", self)
        self.description.setMaxLength(100)
        self.description.setAccessibleName("Description")
        form.addRow("&Description", self.description)
        self.problem = QLabel(self)
        self.problem.setObjectName("InputProblem")
        self.problem.setWordWrap(True)
        form.addRow(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Create payment")
        self.buttons.accepted.connect(self._accept_if_valid)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.amount.textChanged.connect(self._validate)
        self.description.textChanged.connect(self._validate)
        self._validate()

    def value(self) -> tuple[Money, str] | None:
        try:
            money = parse_money(self.amount.text(), self._currency, self._locale)
        except AmountError:
            return None
        description = self.description.text().strip()
        return (money, description) if description else None

    def _validate(self) -> None:
        problem = ""
        if self.amount.text().strip():
            try:
                parse_money(self.amount.text(), self._currency, self._locale)
            except AmountError as error:
                problem = str(error)
        if not problem and not self.description.text().strip():
            problem = "Enter a description (the customer sees it in the app)."
        self.problem.setText(problem)
        self.ok_button.setEnabled(self.value() is not None)

    def _accept_if_valid(self) -> None:
        if self.value() is not None:
            self.accept()


class CustomerPanel(QGroupBox):
    """Buttons for the customer's part; enabled only when the selected payment waits for the customer."""

    new_payment_created = Signal(str)  # reference

    def __init__(
        self,
        demo: DemoControls,
        model: PaymentsModel,
        runner: TaskRunner,
        status: Callable[[str], None],
        *,
        merchant_serial_number: str = "",
        parent: QWidget | None = None,
        locale: QLocale | None = None,
    ) -> None:
        super().__init__("Customer (demo)", parent)
        self.setObjectName("CustomerPanel")
        self.setAccessibleName("Customer actions, demo mode")
        self._demo = demo
        self._model = model
        self._runner = runner
        self._status = status
        self._locale = locale if locale is not None else QLocale()
        self.currency = DEMO_CURRENCIES.get(merchant_serial_number, Currency.NOK)
        self._reference: str | None = None
        self.dialog: NewDemoPaymentDialog | None = None
        grid = QGridLayout(self)
        self.buttons: dict[str, QPushButton] = {}
        for i, (action, label, tip) in enumerate(CUSTOMER_BUTTONS):
            button = QPushButton(label, self)
            button.setToolTip(tip)
            button.setAccessibleName(f"Customer: {label}")
            button.clicked.connect(_bind(self.run_action, action))
            self.buttons[action] = button
            grid.addWidget(button, i // 3, i % 3)
        self.new_button = QPushButton("New demo payment…", self)
        self.new_button.setAccessibleName("New demo payment")
        self.new_button.setToolTip("Create a payment in the sandbox, as a shop would.")
        self.new_button.clicked.connect(self.new_payment)
        grid.addWidget(self.new_button, 1, 2)
        self.set_payment(None)

    def set_payment(self, tracked: TrackedPayment | None) -> None:
        self._reference = tracked.reference if tracked is not None else None
        waiting = (
            tracked is not None and tracked.payment is not None and tracked.payment.state is State.CREATED
        )
        why = "" if waiting else "Select a payment that waits for the customer (state CREATED)."
        for action, button in self.buttons.items():
            button.setEnabled(waiting)
            button.setToolTip(why or _TIPS[action])

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
        self._model.set_busy(reference, True)
        try:
            tracked = await self._demo.customer(reference, action)
        finally:
            self._model.set_busy(reference, False)
        self._model.update_payment(tracked)
        state = tracked.payment.display_state if tracked.payment is not None else "unknown"
        self._status(f"Customer: {action.replace('-', ' ')} on {reference}. The payment is {state}.")
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
        self._model.update_payment(tracked)
        self._status(
            f"New demo payment {tracked.reference} for {format_money(amount, self._locale)}: "
            "it waits for the customer (use Approve)."
        )
        self.new_payment_created.emit(tracked.reference)
        return tracked


def _bind(slot: Callable[[str], None], value: str) -> Callable[[], None]:
    def call() -> None:
        slot(value)

    return call


__all__ = ["CUSTOMER_BUTTONS", "CustomerPanel", "NewDemoPaymentDialog"]
