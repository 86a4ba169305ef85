"""Numbers, money and dates for people, by CLDR rules (Babel) for the language in use.

"1 234,50 kr" (Norwegian, NOK), "1.234,50 kr." (Danish, DKK), "1 234,50 €" (Finnish, EUR): the local
symbol only for the locale's own currency ("kr" is both NOK and DKK, so a Norwegian sees "DKK" for a
Danish payment). English shows the ISO code after the number ("1,234.50 NOK"): no English-speaking
country owns these currencies, and "NOK1,234.50" reads badly.

Amounts arrive as integer minor units and become a ``Decimal`` exactly; never a float.

For the languages' own format locales the figures are written from the CLDR facts Babel gave for them
(``cldr_facts``: symbols, what stands around money and percentages, the date and time pattern), without
importing Babel: the first screen of the list is painted before Babel and its locale data load. Anything
else (another locale, a negative figure, a currency or pattern not in the table) goes through Babel.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from epay_desktop import i18n
from epay_desktop.i18n.cldr_facts import FACTS, Token

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
def cldr_locale(name: str) -> Locale:
    from babel import Locale

    return Locale.parse("en_GB" if name in {"C", "POSIX"} else name)


@lru_cache(maxsize=64)
def _number_pattern(pattern: str) -> NumberPattern:
    from babel.numbers import parse_pattern

    return parse_pattern(pattern)


@lru_cache(maxsize=32)
def _date_pattern(name: str) -> str:
    """The locale's short date pattern with the whole year."""
    pattern = str(cldr_locale(name).date_formats["short"].pattern)
    if "yy" in pattern and "yyyy" not in pattern:
        pattern = pattern.replace("yy", "yyyy")
    return pattern


@lru_cache(maxsize=32)
def datetime_pattern(name: str, seconds: bool) -> str:
    """The locale's short date (with the whole year) and time, with or without seconds."""
    loc = cldr_locale(name)
    time_pattern = loc.time_formats["medium" if seconds else "short"].pattern
    joined: str = loc.datetime_formats["short"]
    return joined.replace("{1}", _date_pattern(name)).replace("{0}", time_pattern)


def money_text(
    minor_units: int, currency: str, digits: int = 2, *, symbol: bool = True, locale: str | None = None
) -> str:
    """``123450, "NOK"`` → ``"1 234,50 kr"`` in Norwegian; without ``symbol`` just the number
    (``"1 234,50"``) for a column whose currency is shown elsewhere. ``locale``: a CLDR name
    (``"da_DK"``) instead of the language in use; ``"C"``/``"POSIX"`` mean no grouping at all."""
    name = locale or _locale()
    facts = FACTS.get(name)
    if facts is not None and minor_units >= 0 and (digits == 2 or not symbol):
        around = facts.money.get(currency) if symbol else ("", "")
        if around is not None:
            whole, part = divmod(minor_units, 10**digits)
            number = _grouped(whole, facts.group) + (f"{facts.decimal}{part:0{digits}d}" if digits else "")
            return f"{around[0]}{number}{around[1]}"
    return babel_money(minor_units, currency, digits, symbol=symbol, name=name)


def _grouped(whole: int, group: str) -> str:
    """``whole`` in groups of three digits (every locale in ``cldr_facts`` groups so)."""
    return f"{whole:,}".replace(",", group) if whole >= 1000 else str(whole)


def babel_money(minor_units: int, currency: str, digits: int, *, symbol: bool, name: str) -> str:
    """``money_text`` by Babel (also what ``cldr_facts`` is read from and held to)."""
    from babel.numbers import format_currency, format_decimal

    plain = name in {"C", "POSIX"} or name.endswith("_POSIX")
    name = "en_US_POSIX" if plain else name
    loc = cldr_locale(name)
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
    if whole <= 0:
        return "–"
    name = locale or _locale()
    facts = FACTS.get(name)
    if facts is None or part < 0:
        return babel_percent(part, whole, name)
    # Rounded as Babel rounds (the decimal context's half-even, to a whole percent).
    percent = int((Decimal(part) / Decimal(whole)).scaleb(2).normalize().quantize(Decimal(1)))
    return f"{facts.percent[0]}{_grouped(percent, facts.group)}{facts.percent[1]}"


def babel_percent(part: int, whole: int, name: str) -> str:
    """``percent_text`` by Babel, for a ``whole`` above zero."""
    from babel.numbers import format_percent

    return format_percent(Decimal(part) / Decimal(whole), locale=name)


def date_text(moment: datetime, *, locale: str | None = None) -> str:
    """The local day of a moment in the language's short numeric form, with the whole year
    (``"04.03.2026"`` in Norwegian)."""
    from babel.dates import format_date as _babel_date

    local = moment.astimezone() if moment.tzinfo is not None else moment
    name = locale or _locale()
    return _babel_date(local.date(), format=_date_pattern(name), locale=cldr_locale(name))


def time_text(moment: datetime, *, seconds: bool = True, locale: str | None = None) -> str:
    """The local time of a moment in the language's form (``"13:05:06"``; ``"13.05.06"`` in Finnish)."""
    from babel.dates import format_time as _babel_time

    local = moment.astimezone() if moment.tzinfo is not None else moment
    return _babel_time(
        local, format="medium" if seconds else "short", locale=cldr_locale(locale or _locale())
    )


def datetime_text(moment: datetime, *, seconds: bool = True, locale: str | None = None) -> str:
    """A moment in local time, in the language's short numeric form with the time
    (``"04.03.2026, 13:05:06"`` in Norwegian, ``"4.3.2026 13.05.06"`` in Finnish)."""
    local = moment.astimezone() if moment.tzinfo is not None else moment
    name = locale or _locale()
    facts = FACTS.get(name)
    if facts is not None:
        return _written(local, facts.seconds if seconds else facts.minutes)
    return babel_datetime(local, seconds, name)


def babel_datetime(local: datetime, seconds: bool, name: str) -> str:
    """``datetime_text`` of a moment in local time, by Babel."""
    from babel.dates import format_datetime as _babel_datetime

    return _babel_datetime(local, format=datetime_pattern(name, seconds), locale=cldr_locale(name))


def _written(moment: datetime, tokens: tuple[Token, ...]) -> str:
    """``moment`` by a pattern's tokens of numeric fields, as Babel's ``DateTimeFormat`` writes them."""
    out: list[str] = []
    for token in tokens:
        if isinstance(token, str):
            out.append(token)
            continue
        field, width = token
        if field == "y":
            year = f"{moment.year:0{width}d}"
            out.append(year[-2:] if width == 2 else year)
        else:
            out.append(f"{getattr(moment, _FIELDS[field]):0{width}d}")
    return "".join(out)


_FIELDS = {"d": "day", "M": "month", "H": "hour", "m": "minute", "s": "second"}
