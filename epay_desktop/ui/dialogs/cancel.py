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
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QVBoxLayout, QWidget

from epay_desktop.domain import CancelOutcome, TrackedPayment
from epay_desktop.i18n import N_, _, translate
from epay_desktop.ui.dialogs.confirmation import ConfirmButtons, changed_label
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
        self.changed_label = changed_label(self, layout, changed)

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

        self.confirm = ConfirmButtons(
            self,
            layout,
            reference=tracked.reference,
            action_text=_("Cancel payment"),
            production=production,
        )
        self.confirm_input = self.confirm.confirm_input
        self.keep_button = self.confirm.keep_button
        self.cancel_button = self.confirm.action_button
        self.confirm.allow()
        self.confirm.focus()
