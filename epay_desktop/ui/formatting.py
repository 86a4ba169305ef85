"""Money, times and amounts for people: the one place where values become text (and back).

Money is formatted from its integer minor units with the locale's digits, group separator and decimal
point and the currency's own number of decimals; never through a float. The ISO code is shown rather
than a symbol because "kr" is both NOK and DKK.
"""

from __future__ import annotations

import re
from datetime import datetime

from PySide6.QtCore import QDateTime, QLocale

from epay_desktop.domain import Currency, Money

_NBSP = "\u00a0"


def format_money(money: Money | None, locale: QLocale | None = None, *, code: bool = True) -> str:
    if money is None:
        return ""
    loc = locale if locale is not None else QLocale()
    digits = money.currency.minor_digits
    units, minor = divmod(abs(money.value), 10**digits)
    text = loc.toString(units)
    if digits:
        text += loc.decimalPoint() + f"{minor:0{digits}d}"
    if money.value < 0:
        text = loc.negativeSign() + text
    return f"{text}{_NBSP}{money.currency.value}" if code else text


def format_datetime(moment: datetime | None, locale: QLocale | None = None, *, seconds: bool = True) -> str:
    """Local time, ISO-like; seconds included by default (events often share a minute)."""
    if moment is None:
        return ""
    loc = locale if locale is not None else QLocale()
    local = moment.astimezone() if moment.tzinfo is not None else moment
    qdt = QDateTime(local.year, local.month, local.day, local.hour, local.minute, local.second)
    return loc.toString(qdt, "yyyy-MM-dd HH:mm:ss" if seconds else "yyyy-MM-dd HH:mm")


def format_percent(part: int, whole: int) -> str:
    if whole <= 0:
        return "–"
    return f"{round(100 * part / whole)}\u2009%"


class AmountError(ValueError):
    """Text that is not an exact amount of the currency."""


_AMOUNT = re.compile(r"^(?P<units>\d+)(?:[.,](?P<minor>\d*))?$")


def parse_money(text: str, currency: Currency, locale: QLocale | None = None) -> Money:
    """``"1 234,5"`` or ``"1234.50"`` to ``Money(123450, NOK)``, exactly (no float on the way).

    Accepts the locale's group separator, spaces, and either ``.`` or ``,`` as the decimal point.
    Refuses negative amounts, more decimals than the currency has, and anything else, with a
    sentence that says what is wrong."""
    loc = locale if locale is not None else QLocale()
    cleaned = text.strip().replace(_NBSP, "").replace(" ", "").replace("\u202f", "")
    group = loc.groupSeparator()
    if group and group not in ".," and group.strip():
        cleaned = cleaned.replace(group, "")
    if cleaned.upper().endswith(currency.value):
        cleaned = cleaned[: -len(currency.value)]
    if not cleaned:
        raise AmountError("Enter an amount, for example 149.50.")
    if cleaned.startswith(("-", "−")):
        raise AmountError("The amount must be positive.")
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        raise AmountError(f"“{text.strip()}” is not an amount; write it like 149.50.")
    digits = currency.minor_digits
    minor_text = match.group("minor") or ""
    if len(minor_text) > digits:
        raise AmountError(f"{currency.value} has {digits} decimals; “{text.strip()}” has more.")
    value = int(match.group("units")) * 10**digits + int((minor_text or "0").ljust(digits, "0"))
    if value <= 0:
        raise AmountError("The amount must be more than zero.")
    return Money(value, currency)
