"""Numbers, money and dates for people, by CLDR rules (Babel) for the language in use.

"1 234,50 kr" (Norwegian, NOK), "1.234,50 kr." (Danish, DKK), "1 234,50 €" (Finnish, EUR): the local
symbol only for the locale's own currency ("kr" is both NOK and DKK, so a Norwegian sees "DKK" for a
Danish payment). English shows the ISO code after the number ("1,234.50 NOK"): no English-speaking
country owns these currencies, and "NOK1,234.50" reads badly.

Amounts arrive as integer minor units and become a ``Decimal`` exactly; never a float.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from epay_desktop import i18n

# Babel's data loads on the first formatted figure, not at import: ``domain`` imports this module and the
# window's first paint (no figures yet) must not wait some 90 ms for it.


def _locale() -> str:
    return i18n.format_locale()


def money_text(
    minor_units: int, currency: str, digits: int = 2, *, symbol: bool = True, locale: str | None = None
) -> str:
    """``123450, "NOK"`` → ``"1 234,50 kr"`` in Norwegian; without ``symbol`` just the number
    (``"1 234,50"``) for a column whose currency is shown elsewhere. ``locale``: a CLDR name
    (``"da_DK"``) instead of the language in use; ``"C"``/``"POSIX"`` mean no grouping at all."""
    from babel.numbers import format_currency, format_decimal

    name = locale or _locale()
    plain = name in {"C", "POSIX"} or name.endswith("_POSIX")
    name = "en_US_POSIX" if plain else name
    amount = Decimal(minor_units).scaleb(-digits)
    number = ("0" if plain else "#,##0") + (f".{'0' * digits}" if digits else "")
    if not symbol:
        return format_decimal(amount, format=number, locale=name)
    if name.startswith("en"):
        return format_currency(
            amount, currency, format=f"{number}\u00a0¤¤", locale=name, currency_digits=False
        )
    return format_currency(amount, currency, locale=name)


def number_text(value: int | Decimal) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale=_locale())


def percent_text(part: int, whole: int, *, locale: str | None = None) -> str:
    """``part`` of ``whole`` as a whole percentage (``"42 %"`` in Norwegian, ``"42%"`` in English);
    ``"–"`` when there is no whole."""
    from babel.numbers import format_percent

    if whole <= 0:
        return "–"
    return format_percent(Decimal(part) / Decimal(whole), locale=locale or _locale())


def date_text(moment: datetime, *, locale: str | None = None) -> str:
    """The local day of a moment in the language's short numeric form, with the whole year
    (``"04.03.2026"`` in Norwegian)."""
    from babel import Locale
    from babel.dates import format_date as _babel_date

    local = moment.astimezone() if moment.tzinfo is not None else moment
    name = locale or _locale()
    loc = Locale.parse("en_GB" if name in {"C", "POSIX"} else name)
    pattern = loc.date_formats["short"].pattern
    if "yy" in pattern and "yyyy" not in pattern:
        pattern = pattern.replace("yy", "yyyy")
    return _babel_date(local.date(), format=pattern, locale=loc)


def time_text(moment: datetime, *, seconds: bool = True, locale: str | None = None) -> str:
    """The local time of a moment in the language's form (``"13:05:06"``; ``"13.05.06"`` in Finnish)."""
    from babel import Locale
    from babel.dates import format_time as _babel_time

    local = moment.astimezone() if moment.tzinfo is not None else moment
    name = locale or _locale()
    loc = Locale.parse("en_GB" if name in {"C", "POSIX"} else name)
    return _babel_time(local, format="medium" if seconds else "short", locale=loc)


def datetime_text(moment: datetime, *, seconds: bool = True, locale: str | None = None) -> str:
    """A moment in local time, in the language's short numeric form with the time
    (``"04.03.2026, 13:05:06"`` in Norwegian, ``"4.3.2026 13.05.06"`` in Finnish)."""
    from babel.dates import format_datetime as _babel_datetime

    local = moment.astimezone() if moment.tzinfo is not None else moment
    from babel import Locale

    name = locale or _locale()
    loc = Locale.parse("en_GB" if name in {"C", "POSIX"} else name)
    date_pattern = loc.date_formats["short"].pattern
    if "yy" in date_pattern and "yyyy" not in date_pattern:
        date_pattern = date_pattern.replace("yy", "yyyy")
    time_pattern = loc.time_formats["medium" if seconds else "short"].pattern
    joined = loc.datetime_formats["short"].replace("{1}", date_pattern).replace("{0}", time_pattern)
    return _babel_datetime(local, format=joined, locale=loc)
