"""A new demo payment: its amount and description (Demo mode's "New demo payment…")."""

from __future__ import annotations

from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from epay_desktop.domain import Currency, Money
from epay_desktop.ui.formatting import AmountError, parse_money

# The demo merchants of the sandbox (shared contract): the currency a demo payment uses.
DEMO_CURRENCIES = {"123456": Currency.NOK, "223344": Currency.DKK, "334455": Currency.EUR}


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


__all__ = ["DEMO_CURRENCIES", "NewDemoPaymentDialog"]
