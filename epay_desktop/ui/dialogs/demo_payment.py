"""A new demo payment: its amount and description (Demo mode's "New demo payment…")."""

from __future__ import annotations

from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from epay_desktop.domain import Currency, Money
from epay_desktop.i18n import _
from epay_desktop.ui.dialogs.amount_field import AmountField
from epay_desktop.ui.dialogs.inputs import new_payment_limits

# The demo merchants of the sandbox (shared contract): the currency a demo payment uses.
DEMO_CURRENCIES = {"123456": Currency.NOK, "223344": Currency.DKK, "334455": Currency.EUR}


class NewDemoPaymentDialog(QDialog):
    """Amount and description of a new demo payment; OK only when the amount is exact and positive."""

    def __init__(self, currency: Currency, parent: QWidget | None = None, locale: QLocale | None = None):
        super().__init__(parent)
        self._currency = currency
        self._locale = locale if locale is not None else QLocale()
        self.setWindowTitle(_("New demo payment"))
        self.setAccessibleName(_("New demo payment"))
        form = QFormLayout(self)
        low, high = new_payment_limits(currency)
        self.amount_field = AmountField(
            currency,
            self,
            locale=self._locale.name(),
            minimum=low,
            maximum=high,
            accessible_name=_("Amount in {currency}").format(currency=currency.value),
        )
        self.amount_field.limit.hide()
        self.amount = self.amount_field.edit
        label = QLabel(_("&Amount ({currency})").format(currency=currency.value), self)
        label.setBuddy(self.amount)
        form.addRow(label, self.amount_field)
        self.description = QLineEdit("Demo purchase", self)
        self.description.setMaxLength(100)
        self.description.setAccessibleName(_("Description"))
        form.addRow(_("&Description"), self.description)
        self.problem = QLabel(self)
        self.problem.setObjectName("InputProblem")
        self.problem.setWordWrap(True)
        form.addRow(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(_("Create payment"))
        self.buttons.accepted.connect(self._accept_if_valid)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.amount.textChanged.connect(self._validate)
        self.description.textChanged.connect(self._validate)
        self._validate()

    def value(self) -> tuple[Money, str] | None:
        money = self.amount_field.value()
        if money is None:
            return None
        description = self.description.text().strip()
        return (money, description) if description else None

    def _validate(self) -> None:
        problem = ""  # the amount's problem is said under the amount (AmountField)
        if not self.amount_field.problem() and not self.description.text().strip():
            problem = _("Enter a description (the customer sees it in the app).")
        self.problem.setText(problem)
        self.ok_button.setEnabled(self.value() is not None)

    def _accept_if_valid(self) -> None:
        if self.value() is not None:
            self.accept()


__all__ = ["DEMO_CURRENCIES", "NewDemoPaymentDialog"]
