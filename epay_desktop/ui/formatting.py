"""Money, times and amounts for people: the one place where values become text (and back).

Money is formatted from its integer minor units by CLDR's rules (Babel, ``i18n.formats``) for the
language in use and the payment's own currency; never through a float. The local symbol ("kr", "kr.",
"€") only for the locale's own currency: "kr" is both NOK and DKK.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QLocale

from epay_desktop.domain import Currency, Money, MoneyError
from epay_desktop.i18n import _, ngettext
from epay_desktop.i18n.formats import datetime_text, money_text, percent_text


def format_money(money: Money | None, locale: QLocale | None = None, *, code: bool = True) -> str:
    """CLDR's form for the language in use (or ``locale``), with the payment's own currency:
    "1 234,50 kr" (Norwegian, NOK), "1.234,50 kr." (Danish, DKK), "1 234,50 €" (Finnish, EUR);
    ``code=False``: the number alone."""
    if money is None:
        return ""
    return money_text(
        money.value,
        money.currency.value,
        money.currency.minor_digits,
        symbol=code,
        locale=locale.name() if locale is not None else None,
    )


def format_datetime(moment: datetime | None, locale: QLocale | None = None, *, seconds: bool = True) -> str:
    """Local time in the language's short numeric form ("04.03.2026, 13:05:06" in Norwegian); seconds
    included by default (events often share a minute)."""
    if moment is None:
        return ""
    return datetime_text(moment, seconds=seconds, locale=locale.name() if locale is not None else None)


def format_percent(part: int, whole: int) -> str:
    return percent_text(part, whole)


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
    """ "N rows could not be read and were skipped: …" (empty when nothing was skipped)."""
    if not skipped:
        return ""
    rows = "; ".join(skipped[:shown])
    if len(skipped) > shown:
        rows = _("{rows} and {count} more").format(rows=rows, count=len(skipped) - shown)
    said = ngettext(
        "{count} row could not be read and was skipped (the log has it): {rows}.",
        "{count} rows could not be read and were skipped (the log has each): {rows}.",
        len(skipped),
    )
    return said.format(count=len(skipped), rows=rows)
