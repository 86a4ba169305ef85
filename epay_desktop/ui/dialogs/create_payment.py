""" "New payment": amount, description, and either the customer's phone (push message) or a QR code.

The amount is typed in major units and parsed exactly (:func:`~.inputs.parse_amount`, no floats) in the
profile's currency; the description must be 3 to 100 characters; the phone number is normalized to an
MSISDN. The reference is made by the services (``desk.create_payment``) and shown afterwards. For the QR
way, the payment's redirect URL is rendered with ``segno`` into a PNG shown in the dialog, so the
customer can scan it from the screen; the link can also be copied.

Usage (main window)::

    dialog = CreatePaymentDialog(desk, currency=Currency.NOK, parent=window)
    dialog.payment_created.connect(window.on_payment_created)   # TrackedPayment
    dialog.open()
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import segno
import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from epay_desktop.domain import Currency, Money, TrackedPayment, country_for
from epay_desktop.i18n import _
from epay_desktop.ui.dialogs.amount_field import AmountField
from epay_desktop.ui.dialogs.feedback import StatusLabel, Tone, dialog_runner
from epay_desktop.ui.dialogs.inputs import (
    DESCRIPTION_MAX,
    InputError,
    check_description,
    new_payment_limits,
    normalize_phone,
)
from epay_desktop.ui.formatting import format_money

if TYPE_CHECKING:
    from epay_desktop.services import DeskSurface

PUSH_MESSAGE = "PUSH_MESSAGE"
QR = "QR"
QR_SCALE = 6  # pixels per module: about 250 px for a typical landing-page link, easy to scan on screen


def qr_png(text: str, *, scale: int = QR_SCALE) -> bytes:
    """``text`` as a QR code PNG (error correction M, a quiet zone of 4 modules as the standard asks)."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(text: str, *, scale: int = QR_SCALE) -> bytes:
    """The same QR code as SVG (for printing or saving)."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="svg", scale=scale, border=4)
    return buffer.getvalue()


class CreatePaymentDialog(QDialog):
    """Create a payment for the desk's profile.

    Args:
        desk: the open ``PaymentDesk`` (``desk.create_payment`` makes the reference and sends it).
        currency: the profile's currency; when None a currency box is shown (NOK first).

    Signals:
        payment_created(TrackedPayment): the API confirmed the new payment (it is in the register).
    """

    payment_created = Signal(object)

    def __init__(
        self,
        desk: DeskSurface,
        parent: QWidget | None = None,
        *,
        currency: Currency | None = None,
        locale: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.desk = desk
        self.fixed_currency = currency
        self.created: TrackedPayment | None = None
        self.setObjectName("CreatePaymentDialog")
        self.setWindowTitle(_("New payment: {name}").format(name=desk.profile.name))

        first = currency or Currency.NOK
        low, high = new_payment_limits(first)
        self.amount_field = AmountField(first, self, locale=locale, minimum=low, maximum=high)
        self.amount_field.limit.hide()  # the API's maximum is no news to anyone creating a payment
        self.amount_edit = self.amount_field.edit
        self.amount_check = self.amount_field.check
        self.currency_combo = QComboBox(self)
        self.currency_combo.setObjectName("Currency")
        self.currency_combo.setAccessibleName(_("Currency"))
        for code in Currency:
            self.currency_combo.addItem(code.value, code.value)
        if currency is not None:
            self.currency_combo.setCurrentIndex(self.currency_combo.findData(currency.value))
            self.currency_combo.setEnabled(False)
            self.currency_combo.setToolTip(_("The profile's currency"))
        amount_row = QHBoxLayout()
        amount_row.addWidget(self.amount_field, 1)
        amount_row.addWidget(self.currency_combo)

        self.description_edit = QLineEdit(self)
        self.description_edit.setObjectName("Description")
        self.description_edit.setAccessibleName(_("Description the customer sees"))
        self.description_edit.setMaxLength(DESCRIPTION_MAX)
        self.description_edit.setPlaceholderText(_("What the customer pays for (3 to 100 characters)"))
        self.description_count = QLabel(self)

        self.push_radio = QRadioButton(_("Send to the customer's &phone (push message)"), self)
        self.push_radio.setAccessibleName(_("Send to the customer's phone"))
        self.qr_radio = QRadioButton(_("Show a &QR code to scan here"), self)
        self.qr_radio.setAccessibleName(_("Show a QR code to scan"))
        self.flow_group = QButtonGroup(self)
        self.flow_group.addButton(self.push_radio)
        self.flow_group.addButton(self.qr_radio)
        self.push_radio.setChecked(True)
        self.phone_edit = QLineEdit(self)
        self.phone_edit.setObjectName("PhoneNumber")
        self.phone_edit.setAccessibleName(_("Customer's mobile number with country code"))
        self.phone_edit.setPlaceholderText(country_for(self.currency).example)

        form = QFormLayout()
        form.addRow(self._buddy(_("&Amount"), self.amount_edit), amount_row)
        form.addRow(self._buddy(_("&Description"), self.description_edit), self.description_edit)
        form.addRow("", self.description_count)
        form.addRow(_("Customer"), self.push_radio)
        form.addRow(self._buddy(_("Mobile &number"), self.phone_edit), self.phone_edit)
        form.addRow("", self.qr_radio)

        self.qr_label = QLabel(self)
        self.qr_label.setObjectName("QrCode")
        self.qr_label.setAccessibleName(_("QR code for the customer to scan"))
        self.qr_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr_label.hide()
        self.link_label = QLabel(self)
        self.link_label.setObjectName("PaymentLink")
        self.link_label.setWordWrap(True)
        self.link_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.link_label.hide()
        self.copy_button = QPushButton(_("Copy &link"), self)
        self.copy_button.setAccessibleName(_("Copy the payment link"))
        self.copy_button.clicked.connect(self.copy_link)
        self.copy_button.hide()
        self.status = StatusLabel(_("New payment status"), self)
        self.status.setObjectName("CreateStatus")
        self.runner = dialog_runner(self.status, self._busy_changed)

        self.create_button = QPushButton(_("&Create payment"), self)
        self.create_button.setAccessibleName(_("Create the payment"))
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self.start_create)
        self.another_button = QPushButton(_("&New payment"), self)
        self.another_button.setAccessibleName(_("Start another payment"))
        self.another_button.clicked.connect(self.reset)
        self.another_button.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName(_("Close"))
        row = QHBoxLayout()
        row.addWidget(self.copy_button)
        row.addStretch(1)
        row.addWidget(self.another_button)
        row.addWidget(self.create_button)
        row.addWidget(buttons)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.qr_label)
        layout.addWidget(self.link_label)
        layout.addWidget(self.status)
        layout.addStretch(1)
        layout.addLayout(row)

        self.amount_edit.textChanged.connect(self._inputs_changed)
        self.currency_combo.currentIndexChanged.connect(self._inputs_changed)
        self.currency_combo.currentIndexChanged.connect(self._show_phone_example)
        self.description_edit.textChanged.connect(self._inputs_changed)
        self.phone_edit.textChanged.connect(self._inputs_changed)
        self.flow_group.buttonToggled.connect(self._inputs_changed)
        self._inputs_changed()
        self.resize(520, 360)

    def _buddy(self, text: str, field: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(field)
        return label

    # --- reading the form ------------------------------------------------------------------------

    def _show_phone_example(self) -> None:
        self.phone_edit.setPlaceholderText(country_for(self.currency).example)

    @property
    def currency(self) -> Currency:
        return Currency(self.currency_combo.currentData())

    @property
    def user_flow(self) -> str:
        return QR if self.qr_radio.isChecked() else PUSH_MESSAGE

    def read_form(self) -> tuple[Money, str, str | None]:
        """Amount, description and phone number (None for QR), or :class:`InputError` with the reason."""
        amount = self.amount_field.read()
        description = check_description(self.description_edit.text())
        phone = (
            normalize_phone(self.phone_edit.text(), self.currency) if self.user_flow == PUSH_MESSAGE else None
        )
        return amount, description, phone

    def _inputs_changed(self) -> None:
        self.phone_edit.setEnabled(self.user_flow == PUSH_MESSAGE and self.created is None)
        if self.amount_field.currency is not self.currency:
            low, high = new_payment_limits(self.currency)
            self.amount_field.set_currency(self.currency, minimum=low, maximum=high)
            self.amount_field.limit.hide()
        self.description_count.setText(
            _("{count}/{DESCRIPTION_MAX} characters").format(
                count=len(self.description_edit.text().strip()), DESCRIPTION_MAX=DESCRIPTION_MAX
            )
        )
        try:
            self.read_form()
        except InputError as error:
            self.create_button.setToolTip(str(error))
            ready = False
        else:
            self.create_button.setToolTip("")
            ready = True
        self.create_button.setEnabled(ready and not self.runner.is_running("create"))

    def _busy_changed(self, _name: str, _busy: bool) -> None:
        busy = self.runner.is_running("create")
        for widget in (self.amount_edit, self.description_edit, self.push_radio, self.qr_radio):
            widget.setEnabled(not busy and self.created is None)
        self._inputs_changed()

    # --- actions ---------------------------------------------------------------------------------

    def start_create(self) -> None:
        self.runner.start("create", self.create_payment(), replace=False)

    async def create_payment(self) -> TrackedPayment | None:
        try:
            amount, description, phone = self.read_form()
        except InputError as error:
            self.status.show_error(str(error))
            return None
        self.status.show_message(_("Creating a payment of {amount}…").format(amount=format_money(amount)))
        tracked = await self.desk.create_payment(
            amount, description, phone_number=phone, user_flow=self.user_flow
        )
        # A create is never cancelled when the dialog closes (the payment may already exist at the API);
        # if the dialog is gone by now, the register still has the payment.
        if not shiboken6.isValid(self):
            return tracked
        self.created = tracked
        self._show_created(tracked, phone)
        self.payment_created.emit(tracked)
        return tracked

    def _show_created(self, tracked: TrackedPayment, phone: str | None) -> None:
        for widget in (
            self.amount_edit,
            self.description_edit,
            self.phone_edit,
            self.push_radio,
            self.qr_radio,
        ):
            widget.setEnabled(False)
        self.currency_combo.setEnabled(False)
        self.create_button.hide()
        self.another_button.show()
        url = tracked.payment.redirect_url if tracked.payment is not None else None
        if phone is not None:
            self.status.show_message(
                _(
                    "Payment {reference} created and sent to +{phone}. The customer approves it in the app; "
                    "the register shows its state."
                ).format(reference=tracked.reference, phone=phone),
                Tone.OK,
            )
        elif url and self.desk.profile.is_demo:
            self.show_qr(url)
            # The link points into the built-in sandbox, which no phone or browser can reach: say so.
            self.qr_label.setToolTip(
                _(
                    "A picture for training: this link leads into the built-in sandbox, which no phone can "
                    "open."
                )
            )
            self.status.show_message(
                _(
                    "Payment {reference} created. Demo: the code is a picture for training; no phone can "
                    "open it. Play the customer with Approve in the customer panel."
                ).format(reference=tracked.reference),
                Tone.OK,
            )
        elif url:
            self.show_qr(url)
            self.status.show_message(
                _("Payment {reference} created. Let the customer scan the code.").format(
                    reference=tracked.reference
                ),
                Tone.OK,
            )
        else:
            self.status.show_message(
                _("Payment {reference} created, but the API returned no link to show as a QR code.").format(
                    reference=tracked.reference
                ),
                Tone.WARNING,
            )
        self.another_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_qr(self, url: str) -> None:
        pixmap = QPixmap()
        pixmap.loadFromData(qr_png(url), "PNG")
        self.qr_label.setPixmap(pixmap)
        self.qr_label.setToolTip(url)
        self.qr_label.show()
        self.link_label.setText(url)
        self.link_label.show()
        self.copy_button.show()

    def copy_link(self) -> None:
        QGuiApplication.clipboard().setText(self.link_label.text())
        self.status.show_message(_("Link copied."), Tone.OK)

    def reset(self) -> None:
        """Clear the form for another payment (the amount's currency stays)."""
        self.created = None
        for edit in (self.amount_edit, self.description_edit, self.phone_edit):
            edit.clear()
        for widget in (self.amount_edit, self.description_edit, self.push_radio, self.qr_radio):
            widget.setEnabled(True)
        self.currency_combo.setEnabled(self.fixed_currency is None)
        self.qr_label.clear()
        for shown in (self.qr_label, self.link_label, self.copy_button, self.another_button):
            shown.hide()
        self.create_button.show()
        self.status.show_message("")
        self._inputs_changed()
        self.amount_edit.setFocus(Qt.FocusReason.OtherFocusReason)


__all__ = ["PUSH_MESSAGE", "QR", "CreatePaymentDialog", "qr_png", "qr_svg"]
