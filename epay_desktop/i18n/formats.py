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
from functools import lru_cache
from typing import TYPE_CHECKING

from epay_desktop import i18n

if TYPE_CHECKING:
    from babel import Locale
    from babel.numbers import NumberPattern

# Babel's data loads on the first formatted figure, not at import: ``domain`` imports this module and the
# window's first paint (no figures yet) must not wait some 90 ms for it.


def _locale() -> str:
    return i18n.format_locale()


# Parsed once per name and pattern: a changed row's texts are formatted while the table repaints, and
# parsing the locale's name and the number pattern again was half of each figure's cost.
@lru_cache(maxsize=32)
def _cldr(name: str) -> Locale:
    from babel import Locale

    return Locale.parse("en_GB" if name in {"C", "POSIX"} else name)


@lru_cache(maxsize=64)
def _number_pattern(pattern: str) -> NumberPattern:
    from babel.numbers import parse_pattern

    return parse_pattern(pattern)


@lru_cache(maxsize=32)
def _date_pattern(name: str) -> str:
    """The locale's short date pattern with the whole year."""
    pattern = str(_cldr(name).date_formats["short"].pattern)
    if "yy" in pattern and "yyyy" not in pattern:
        pattern = pattern.replace("yy", "yyyy")
    return pattern


@lru_cache(maxsize=32)
def _datetime_pattern(name: str, seconds: bool) -> str:
    loc = _cldr(name)
    time_pattern = loc.time_formats["medium" if seconds else "short"].pattern
    joined: str = loc.datetime_formats["short"]
    return joined.replace("{1}", _date_pattern(name)).replace("{0}", time_pattern)


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
    loc = _cldr(name)
    amount = Decimal(minor_units).scaleb(-digits)
    number = ("0" if plain else "#,##0") + (f".{'0' * digits}" if digits else "")
    if not symbol:
        return format_decimal(amount, format=_number_pattern(number), locale=loc)
    if name.startswith("en"):
        return format_currency(
            amount,
            currency,
            format=_number_pattern(f"{number}\u00a0¤¤"),
            locale=loc,
            currency_digits=False,
        )
    return format_currency(amount, currency, locale=loc)


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
    from babel.dates import format_date as _babel_date

    local = moment.astimezone() if moment.tzinfo is not None else moment
    name = locale or _locale()
    return _babel_date(local.date(), format=_date_pattern(name), locale=_cldr(name))


def time_text(moment: datetime, *, seconds: bool = True, locale: str | None = None) -> str:
    """The local time of a moment in the language's form (``"13:05:06"``; ``"13.05.06"`` in Finnish)."""
    from babel.dates import format_time as _babel_time

    local = moment.astimezone() if moment.tzinfo is not None else moment
    return _babel_time(local, format="medium" if seconds else "short", locale=_cldr(locale or _locale()))


def datetime_text(moment: datetime, *, seconds: bool = True, locale: str | None = None) -> str:
    """A moment in local time, in the language's short numeric form with the time
    (``"04.03.2026, 13:05:06"`` in Norwegian, ``"4.3.2026 13.05.06"`` in Finnish)."""
    from babel.dates import format_datetime as _babel_datetime

    local = moment.astimezone() if moment.tzinfo is not None else moment
    name = locale or _locale()
    return _babel_datetime(local, format=_datetime_pattern(name, seconds), locale=_cldr(name))
