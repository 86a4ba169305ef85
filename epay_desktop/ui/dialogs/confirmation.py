"""What the confirmation of one payment's money move (cancel, capture, refund) shares, whatever it
moves: what changed since the person last confirmed, said first; in Production the last four
characters of the reference to type; "Keep payment" as the default button (Esc and Enter); and the
destructive button, enabled only when the dialog says it may be used and what had to be typed is.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QPushButton, QVBoxLayout

from epay_desktop.i18n import _


def changed_label(dialog: QDialog, layout: QVBoxLayout, changed: str) -> QLabel | None:
    """Shown again after the payment changed since the person confirmed: say what changed, first."""
    if not changed:
        return None
    label = QLabel(changed, dialog)
    label.setObjectName("PaymentChanged")
    label.setWordWrap(True)
    label.setAccessibleName(changed)
    label.setStyleSheet("color: #8a4b00; font-weight: bold;")
    layout.addWidget(label)
    return label


class ConfirmButtons:
    """The Production prompt (when ``production``) and the button row, added to ``layout``. As the
    person types in the prompt, ``on_typed`` runs (a dialog with more to check calls ``allow`` from
    it); without it, the action is allowed as soon as the right characters are typed."""

    def __init__(
        self,
        dialog: QDialog,
        layout: QVBoxLayout,
        *,
        reference: str,
        action_text: str,
        production: bool,
        on_typed: Callable[[], None] | None = None,
    ) -> None:
        self._dialog = dialog
        self.expected = reference[-4:]
        self.confirm_input: QLineEdit | None = None
        if production:
            prompt = QLabel(
                _(
                    "This is <b>PRODUCTION</b>: real money. To confirm, type the last four characters of "
                    "the reference (<b>{last_four}</b>):"
                ).format(last_four=self.expected),
                dialog,
            )
            prompt.setWordWrap(True)
            layout.addWidget(prompt)
            self.confirm_input = QLineEdit(dialog)
            self.confirm_input.setObjectName("ConfirmReference")
            self.confirm_input.setAccessibleName(_("Last four characters of the reference"))
            self.confirm_input.setMaxLength(len(self.expected))
            typed = on_typed or self.allow
            self.confirm_input.textChanged.connect(lambda _text: typed())
            prompt.setBuddy(self.confirm_input)
            layout.addWidget(self.confirm_input)

        buttons = QDialogButtonBox(dialog)
        self.keep_button = QPushButton(_("Keep payment"), dialog)
        self.keep_button.setAccessibleName(_("Keep payment"))
        self.keep_button.setDefault(True)
        self.keep_button.setAutoDefault(True)
        self.action_button = QPushButton(action_text, dialog)
        self.action_button.setObjectName("DestructiveButton")
        self.action_button.setAccessibleName(action_text)
        self.action_button.setAutoDefault(False)
        self.action_button.setDefault(False)
        buttons.addButton(self.action_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton(self.keep_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.keep_button.clicked.connect(dialog.reject)
        self.action_button.clicked.connect(self._confirm)
        layout.addWidget(buttons)

    def typed(self) -> bool:
        """Whether what Production asks for is typed (always, outside Production)."""
        return self.confirm_input is None or self.confirm_input.text().strip() == self.expected

    def allow(self, ready: bool = True) -> None:
        """Enable the action when the dialog is ``ready`` and what had to be typed is."""
        self.action_button.setEnabled(ready and self.typed())
        # Enter in a field never moves money: Keep stays the default button.
        self.keep_button.setDefault(True)

    def focus(self) -> None:
        (self.confirm_input or self.keep_button).setFocus()

    def _confirm(self) -> None:
        if self.action_button.isEnabled():
            self._dialog.accept()
