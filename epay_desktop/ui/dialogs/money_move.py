"""The confirmation before a capture or a refund, made with the same care as the cancel dialog:

- the amount is prefilled with what can still be captured (refunded), editable for a partial amount
  in the one :class:`~.amount_field.AmountField`, the maximum shown and enforced;
- a picture of the payment's bar now and after, each with its parts in words;
- what cannot be undone, said plainly; "Keep payment" is the default button and what Esc and Enter do;
- in Production the action's button stays disabled until the last four characters of the reference are
  typed;
- an optional reason, kept in the audit log.

Open it with ``open()`` and await ``aio.wait_finished(dialog)``; never ``exec()`` in a coroutine.
"""

from __future__ import annotations

from PySide6.QtCore import QLocale, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from epay_desktop.domain import Action, Money, Payment, TrackedPayment, check_action, projected
from epay_desktop.domain.breakdown import breakdown
from epay_desktop.i18n import _
from epay_desktop.ui.dialogs.amount_field import AmountField
from epay_desktop.ui.dialogs.confirmation import ConfirmButtons, changed_label
from epay_desktop.ui.formatting import format_money
from epay_desktop.ui.table.delegates import PART_COLORS, bar_segments


def part_words(payment: Payment, locale: QLocale) -> str:
    """The bar's parts in words (a picture is never the only way to read it)."""
    names = {
        "captured": _("captured {amount}"),
        "refunded": _("refunded {amount}"),
        "cancelled": _("released {amount}"),
        "reserved": _("reserved {amount}"),
        "awaiting": _("awaiting {amount}"),
    }
    parts = [
        names[name].format(amount=format_money(money, locale))
        for name, money in breakdown(payment).parts()
        if money
    ]
    return ", ".join(parts) or _("nothing moved")


class BarPicture(QWidget):
    """One payment's amount bar (the table's colours and segments), for before and after."""

    def __init__(self, payment: Payment, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._payment = payment
        self.setMinimumHeight(16)

    def set_payment(self, payment: Payment) -> None:
        self._payment = payment
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(240, 16)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(1, 2, -1, -2)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(self.palette().color(self.palette().ColorRole.Mid)))
        painter.drawRoundedRect(rect, 3, 3)
        for name, segment in bar_segments(rect, breakdown(self._payment)):
            painter.setBrush(PART_COLORS[name])
            painter.drawRect(segment)
        painter.end()


class MoneyMoveDialog(QDialog):
    """Confirm a capture or a refund of ``tracked`` (``action`` is ``Action.CAPTURE`` or ``REFUND``).

    After ``accepted``: :meth:`amount` (within the maximum) and :meth:`reason` (may be "")."""

    def __init__(
        self,
        tracked: TrackedPayment,
        action: Action,
        *,
        production: bool = False,
        parent: QWidget | None = None,
        locale: QLocale | None = None,
        locale_name: str | None = None,
        changed: str = "",
        amount: Money | None = None,
    ) -> None:
        super().__init__(parent)
        assert tracked.payment is not None
        assert action in (Action.CAPTURE, Action.REFUND)
        self._loc = locale if locale is not None else QLocale()
        self._payment = tracked.payment
        self.action = action
        self.reference = tracked.reference
        check = check_action(tracked.payment, action)
        self.maximum = check.amount
        capture = action is Action.CAPTURE
        self.setObjectName("CaptureDialog" if capture else "RefundDialog")
        title = _("Capture payment {reference}?") if capture else _("Refund payment {reference}?")
        self.setWindowTitle(title.format(reference=tracked.reference))
        self.setAccessibleName(_("Confirm capture") if capture else _("Confirm refund"))
        self.setModal(True)
        layout = QVBoxLayout(self)
        self.changed_label = changed_label(self, layout, changed)

        self.headline = QLabel(self)
        self.headline.setObjectName("MoveHeadline")
        self.headline.setWordWrap(True)
        layout.addWidget(self.headline)

        form = QFormLayout()
        self.reference_label = QLabel(tracked.reference, self)
        self.reference_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(_("Reference"), self.reference_label)
        description = tracked.description or tracked.payment.description
        self.description_label = QLabel(description or _("(no description)"), self)
        self.description_label.setWordWrap(True)
        form.addRow(_("Description"), self.description_label)
        self.amount_field = AmountField(
            tracked.payment.currency,
            self,
            locale=locale_name,
            minimum=Money(1, tracked.payment.currency),
            maximum=self.maximum,
            accessible_name=_("Amount to capture") if capture else _("Amount to refund"),
        )
        self.amount_field.set_amount(
            amount if amount is not None and amount <= self.maximum else self.maximum
        )
        amount_label = QLabel(_("&Amount to capture") if capture else _("&Amount to refund"), self)
        amount_label.setBuddy(self.amount_field.edit)
        form.addRow(amount_label, self.amount_field)
        self.before_bar = BarPicture(tracked.payment, self)
        self.before_words = QLabel(part_words(tracked.payment, self._loc), self)
        self.before_words.setObjectName("BeforeWords")
        self.before_words.setWordWrap(True)
        form.addRow(_("Now"), self.before_bar)
        form.addRow("", self.before_words)
        self.after_bar = BarPicture(tracked.payment, self)
        self.after_words = QLabel(self)
        self.after_words.setObjectName("AfterWords")
        self.after_words.setWordWrap(True)
        form.addRow(_("After"), self.after_bar)
        form.addRow("", self.after_words)
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setObjectName("Reason")
        self.reason_edit.setMaxLength(200)
        self.reason_edit.setPlaceholderText(_("optional; kept in the audit log"))
        self.reason_edit.setAccessibleName(_("Reason, kept in the audit log"))
        reason_label = QLabel(_("&Reason"), self)
        reason_label.setBuddy(self.reason_edit)
        form.addRow(reason_label, self.reason_edit)
        layout.addLayout(form)

        undone = (
            _(
                "A capture cannot be undone: the money is taken from the customer's reservation. "
                "Only a refund can give it back."
            )
            if capture
            else _("A refund cannot be undone: the money goes back to the customer.")
        )
        self.warning_label = QLabel(f"<b>{undone}</b>", self)
        self.warning_label.setObjectName("CannotBeUndone")
        self.warning_label.setWordWrap(True)
        self.warning_label.setAccessibleName(undone)
        layout.addWidget(self.warning_label)

        self.confirm = ConfirmButtons(
            self,
            layout,
            reference=tracked.reference,
            action_text=_("Capture") if capture else _("Refund"),
            production=production,
            on_typed=self._update,
        )
        self.confirm_input = self.confirm.confirm_input
        self.keep_button = self.confirm.keep_button
        self.move_button = self.confirm.action_button
        self.amount_field.value_changed.connect(lambda _v: self._update())
        self._update()
        self.confirm.focus()

    def amount(self) -> Money | None:
        """The amount to move: what was typed, within the maximum; None while it cannot be used."""
        return self.amount_field.value()

    def reason(self) -> str:
        return self.reason_edit.text().strip()

    def _update(self) -> None:
        amount = self.amount()
        capture = self.action is Action.CAPTURE
        if amount is None:
            self.headline.setText(
                _("<b>Type the amount to capture (at most {maximum}).</b>")
                if capture
                else _("<b>Type the amount to refund (at most {maximum}).</b>")
            )
            self.headline.setText(self.headline.text().format(maximum=format_money(self.maximum, self._loc)))
            self.after_bar.set_payment(self._payment)
            self.after_words.setText("")
        else:
            shown = format_money(amount, self._loc)
            text = (
                _("<b>Capture {amount} from the customer's reservation?</b>")
                if capture
                else _("<b>Refund {amount} to the customer?</b>")
            )
            self.headline.setText(text.format(amount=shown))
            after = projected(self._payment, self.action, amount)
            self.after_bar.set_payment(after)
            self.after_words.setText(part_words(after, self._loc))
        self.confirm.allow(amount is not None)


__all__ = ["BarPicture", "MoneyMoveDialog", "part_words"]
