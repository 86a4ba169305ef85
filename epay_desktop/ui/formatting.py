"""Money, times and amounts for people: the one place where values become text (and back).

Money is formatted from its integer minor units with the locale's digits, group separator and decimal
point and the currency's own number of decimals; never through a float. The ISO code is shown rather
than a symbol because "kr" is both NOK and DKK.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QDateTime, QLocale

from epay_desktop.domain import Currency, Money, MoneyError

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


# Kept for callers: what parse_money raises is the domain's MoneyError, with a sentence for people.
AmountError = MoneyError


def parse_money(text: str, currency: Currency, locale: QLocale | None = None) -> Money:
    """``"1 234,5"`` or ``"1234.50"`` to ``Money(123450, NOK)``, exactly: :meth:`Money.parse`, plus the
    locale's own thousands separator (whatever character it is: it becomes a space, which Money.parse
    reads as one, so groups of three are still checked)."""
    loc = locale if locale is not None else QLocale()
    group = loc.groupSeparator()
    if group and group not in ".,":
        text = text.replace(group, " ")
    return Money.parse(text, currency)


def skipped_text(skipped: list[str], shown: int = 3) -> str:
    """ " N row(s) could not be read and were skipped: …" (empty when nothing was skipped)."""
    if not skipped:
        return ""
    more = f" and {len(skipped) - shown} more" if len(skipped) > shown else ""
    return (
        f" {len(skipped)} row(s) could not be read and were skipped (the log has each): "
        + "; ".join(skipped[:shown])
        + more
        + "."
    )
