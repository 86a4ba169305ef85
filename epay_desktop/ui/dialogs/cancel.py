"""The confirmation before a cancel. Hard to cancel by mistake:

- "Keep payment" is the default button and what Esc and Enter do; "Cancel payment" must be chosen.
- It says exactly how much is released and what happens to the state (text built in ``domain``), and
  plainly: "Cancelling cannot be undone."
- In Production, the destructive button stays disabled until the last four characters of the
  reference are typed.

Open it with ``open()`` and await ``aio.wait_finished(dialog)``; never ``exec()`` in a coroutine.
"""

from __future__ import annotations

from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from epay_desktop.domain import CancelOutcome, TrackedPayment
from epay_desktop.i18n import N_, _, translate
from epay_desktop.ui.formatting import format_money

CANNOT_BE_UNDONE = N_("Cancelling cannot be undone.")


class CancelDialog(QDialog):
    def __init__(
        self,
        tracked: TrackedPayment,
        outcome: CancelOutcome,
        *,
        production: bool = False,
        parent: QWidget | None = None,
        locale: QLocale | None = None,
        changed: str = "",
    ) -> None:
        super().__init__(parent)
        loc = locale if locale is not None else QLocale()
        self.reference = tracked.reference
        self.setObjectName("CancelDialog")
        self.setWindowTitle(_("Cancel payment {reference}?").format(reference=tracked.reference))
        self.setAccessibleName(_("Confirm cancel"))
        self.setModal(True)
        layout = QVBoxLayout(self)
        # Shown again after the payment changed since the person confirmed: say what changed first.
        self.changed_label: QLabel | None = None
        if changed:
            self.changed_label = QLabel(changed, self)
            self.changed_label.setObjectName("PaymentChanged")
            self.changed_label.setWordWrap(True)
            self.changed_label.setAccessibleName(changed)
            self.changed_label.setStyleSheet("color: #8a4b00; font-weight: bold;")
            layout.addWidget(self.changed_label)

        headline = QLabel(
            "<b>{}</b>".format(
                _("Release {amount} to the customer?").format(amount=format_money(outcome.released, loc))
            ),
            self,
        )
        headline.setObjectName("CancelHeadline")
        layout.addWidget(headline)

        form = QFormLayout()
        self.reference_label = QLabel(tracked.reference, self)
        self.reference_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(_("Reference"), self.reference_label)
        description = tracked.description or (tracked.payment.description if tracked.payment else "")
        self.description_label = QLabel(description or _("(no description)"), self)
        self.description_label.setWordWrap(True)
        form.addRow(_("Description"), self.description_label)
        self.amount_label = QLabel(format_money(outcome.released, loc), self)
        self.amount_label.setObjectName("ReleasedAmount")
        form.addRow(_("Released to the customer"), self.amount_label)
        layout.addLayout(form)

        self.outcome_label = QLabel(outcome.describe(), self)
        self.outcome_label.setWordWrap(True)
        layout.addWidget(self.outcome_label)
        self.warning_label = QLabel(f"<b>{translate(CANNOT_BE_UNDONE)}</b>", self)
        self.warning_label.setObjectName("CannotBeUndone")
        self.warning_label.setAccessibleName(translate(CANNOT_BE_UNDONE))
        layout.addWidget(self.warning_label)

        self.confirm_input: QLineEdit | None = None
        self._expected = tracked.reference[-4:]
        if production:
            prompt = QLabel(
                _(
                    "This is <b>PRODUCTION</b>: real money. To confirm, type the last four characters of "
                    "the reference (<b>{last_four}</b>):"
                ).format(last_four=self._expected),
                self,
            )
            prompt.setWordWrap(True)
            layout.addWidget(prompt)
            self.confirm_input = QLineEdit(self)
            self.confirm_input.setObjectName("ConfirmReference")
            self.confirm_input.setAccessibleName(_("Last four characters of the reference"))
            self.confirm_input.setMaxLength(len(self._expected))
            self.confirm_input.textChanged.connect(self._update_confirm)
            prompt.setBuddy(self.confirm_input)
            layout.addWidget(self.confirm_input)

        buttons = QDialogButtonBox(self)
        self.keep_button = QPushButton(_("Keep payment"), self)
        self.keep_button.setAccessibleName(_("Keep payment"))
        self.keep_button.setDefault(True)
        self.keep_button.setAutoDefault(True)
        self.cancel_button = QPushButton(_("Cancel payment"), self)
        self.cancel_button.setObjectName("DestructiveButton")
        self.cancel_button.setAccessibleName(_("Cancel payment"))
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.setDefault(False)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton(self.keep_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.keep_button.clicked.connect(self.reject)
        self.cancel_button.clicked.connect(self._confirm)
        layout.addWidget(buttons)
        self._update_confirm()
        if self.confirm_input is not None:
            self.confirm_input.setFocus()
        else:
            self.keep_button.setFocus()

    def _confirm(self) -> None:
        if self.cancel_button.isEnabled():
            self.accept()

    def _update_confirm(self) -> None:
        if self.confirm_input is None:
            self.cancel_button.setEnabled(True)
            return
        typed = self.confirm_input.text().strip()
        self.cancel_button.setEnabled(typed == self._expected)
        # Enter in the field must never cancel: Keep stays the default button.
        self.keep_button.setDefault(True)
