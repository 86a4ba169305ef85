"""The one amount field of every dialog (new payment, new demo payment, capture, refund).

It reads money as people type it in their locale (:func:`~.inputs.read_amount`: ``"249,50"``,
``"1 234,50"``, ``"1.234,50"``, ``"kr 99"``, ``"99,-"``; ambiguous text such as ``"1,234"`` is refused),
says under the field what it read or why it cannot ("= 1 234,50 NOK"), shows the largest amount
allowed when there is one, and enforces it: :meth:`value` is None for anything outside the limits.
The locale is a name (``nb_NO``); None means the app's (``i18n.format_locale()``, which follows the
language chosen).
"""

from __future__ import annotations

from PySide6.QtCore import QLocale, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget

from epay_desktop.domain import Currency, Money
from epay_desktop.i18n import _, format_locale
from epay_desktop.ui.dialogs.inputs import InputError, amount_text, read_amount
from epay_desktop.ui.formatting import format_money

ERROR_STYLE = "color: #b00020;"


class AmountField(QWidget):
    """``edit`` (the line the person types in) and ``check`` (what was read, or why not).

    Signals: ``value_changed(object)``: the amount now read (a :class:`Money`), or None."""

    value_changed = Signal(object)

    def __init__(
        self,
        currency: Currency,
        parent: QWidget | None = None,
        *,
        locale: str | None = None,
        minimum: Money | None = None,
        maximum: Money | None = None,
        accessible_name: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("AmountField")
        self._currency = currency
        self._locale_name = locale or format_locale()
        self._qlocale = QLocale(self._locale_name)
        self._minimum = minimum
        self._maximum = maximum
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(self)
        self.edit.setObjectName("Amount")
        self.edit.setAccessibleName(accessible_name or _("Amount"))
        self.check = QLabel(self)
        self.check.setObjectName("AmountCheck")
        self.check.setWordWrap(True)
        self.check.setAccessibleName(_("What the amount was read as"))
        self.limit = QLabel(self)
        self.limit.setObjectName("AmountLimit")
        layout.addWidget(self.edit)
        layout.addWidget(self.check)
        layout.addWidget(self.limit)
        self.setFocusProxy(self.edit)
        self.edit.textChanged.connect(self._changed)
        self._update_placeholder()
        self._update_limit()

    # --- settings ------------------------------------------------------------------------------------
    @property
    def currency(self) -> Currency:
        return self._currency

    @property
    def locale_name(self) -> str:
        return self._locale_name

    def set_currency(
        self, currency: Currency, *, minimum: Money | None = None, maximum: Money | None = None
    ) -> None:
        self._currency = currency
        self._minimum = minimum
        self._maximum = maximum
        self._update_placeholder()
        self._update_limit()
        self._changed()

    def set_maximum(self, maximum: Money | None) -> None:
        self._maximum = maximum
        self._update_limit()
        self._changed()

    def set_amount(self, money: Money) -> None:
        """Fill the field with ``money`` as the person would type it in their locale."""
        self.edit.setText(amount_text(money, self._locale_name))

    # --- reading ------------------------------------------------------------------------------------
    def read(self) -> Money:
        """The amount typed, within the limits; :class:`InputError` with the reason otherwise."""
        return read_amount(
            self.edit.text(), self._currency, self._locale_name, minimum=self._minimum, maximum=self._maximum
        )

    def value(self) -> Money | None:
        try:
            return self.read()
        except InputError:
            return None

    def problem(self) -> str:
        """Why the text cannot be used ("" when it can, or when nothing is typed yet)."""
        if not self.edit.text().strip():
            return ""
        try:
            self.read()
        except InputError as error:
            return str(error)
        return ""

    # --- what the person sees -----------------------------------------------------------------------
    def _changed(self, _text: str = "") -> None:
        problem = self.problem()
        value = None if problem else self.value()
        if problem:
            self.check.setText(problem)
            self.check.setStyleSheet(ERROR_STYLE)
        elif value is not None:
            self.check.setText(_("= {amount}").format(amount=format_money(value, self._qlocale)))
            self.check.setStyleSheet("")
        else:
            self.check.setText("")
            self.check.setStyleSheet("")
        self.value_changed.emit(value)

    def _update_placeholder(self) -> None:
        example = Money(24950, self._currency) if self._currency.minor_digits else Money(249, self._currency)
        self.edit.setPlaceholderText(
            _("for example {amount}").format(amount=amount_text(example, self._locale_name))
        )

    def _update_limit(self) -> None:
        if self._maximum is None:
            self.limit.setText("")
            self.limit.hide()
            return
        self.limit.setText(_("At most {amount}").format(amount=format_money(self._maximum, self._qlocale)))
        self.limit.show()


__all__ = ["ERROR_STYLE", "AmountField"]
