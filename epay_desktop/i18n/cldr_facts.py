"""The CLDR facts the list's figures need, for each language's format locale, as Babel says them.

The window's first screen of rows shows money, percentages and times. Babel's import and the reading of
its locale data took some 40 ms before the first row could be painted, for the same few facts each time:
the decimal and group symbols, what stands around a sum of money and a percentage, and the date and time
pattern. They are written out here, read from Babel by :func:`read_facts`; ``formats`` formats with them
when it can (a locale, currency or pattern not here: Babel does it, as before).

``tests/i18n/test_cldr_facts.py`` holds these to Babel: the table must equal :func:`read_facts` for every
locale (a Babel upgrade with other CLDR data fails it: print the new table with
``uv run python -m epay_desktop.i18n.cldr_facts`` and paste it below), and a property test holds every
figure formatted from it to Babel's own output.
"""

from __future__ import annotations

from typing import NamedTuple

# A pattern of a date and time, tokenised as Babel does (``babel.dates.tokenize_pattern``): literal text,
# or a field as (letter, width). Only numeric fields are kept here (day, month, year, hour, minute,
# second); a pattern with another field is not in the table.
Token = str | tuple[str, int]


class Facts(NamedTuple):
    decimal: str
    group: str  # between groups of three digits
    money: dict[str, tuple[str, str]]  # currency code -> (before, after) the number, with its symbol
    percent: tuple[str, str]  # (before, after) the whole number of percent
    minutes: tuple[Token, ...]  # ``formats.datetime_text(seconds=False)``
    seconds: tuple[Token, ...]  # ``formats.datetime_text(seconds=True)``


# Fields formatted from the table (anything else is left to Babel).
NUMERIC_FIELDS = frozenset("dMyHms")
CURRENCIES = ("NOK", "DKK", "EUR")
# The format locales of the languages (``i18n._FORMAT_LOCALES``).
LOCALES = ("da_DK", "en_GB", "fi_FI", "nb_NO")

FACTS: dict[str, Facts] = {
    "da_DK": Facts(
        decimal=",",
        group=".",
        money={"NOK": ("", "\xa0NOK"), "DKK": ("", "\xa0kr."), "EUR": ("", "\xa0€")},
        percent=("", "\xa0%"),
        minutes=(("d", 2), ".", ("M", 2), ".", ("y", 1), " ", ("H", 2), ".", ("m", 2)),
        seconds=(("d", 2), ".", ("M", 2), ".", ("y", 1), " ", ("H", 2), ".", ("m", 2), ".", ("s", 2)),
    ),
    "en_GB": Facts(
        decimal=".",
        group=",",
        money={"NOK": ("", "\xa0NOK"), "DKK": ("", "\xa0DKK"), "EUR": ("", "\xa0EUR")},
        percent=("", "%"),
        minutes=(("d", 2), "/", ("M", 2), "/", ("y", 1), ", ", ("H", 2), ":", ("m", 2)),
        seconds=(("d", 2), "/", ("M", 2), "/", ("y", 1), ", ", ("H", 2), ":", ("m", 2), ":", ("s", 2)),
    ),
    "fi_FI": Facts(
        decimal=",",
        group="\xa0",
        money={"NOK": ("", "\xa0NOK"), "DKK": ("", "\xa0DKK"), "EUR": ("", "\xa0€")},
        percent=("", "\xa0%"),
        minutes=(("d", 1), ".", ("M", 1), ".", ("y", 1), " ", ("H", 1), ".", ("m", 2)),
        seconds=(("d", 1), ".", ("M", 1), ".", ("y", 1), " ", ("H", 1), ".", ("m", 2), ".", ("s", 2)),
    ),
    "nb_NO": Facts(
        decimal=",",
        group="\xa0",
        money={"NOK": ("", "\xa0kr"), "DKK": ("", "\xa0DKK"), "EUR": ("", "\xa0€")},
        percent=("", "\xa0%"),
        minutes=(("d", 2), ".", ("M", 2), ".", ("y", 1), ", ", ("H", 2), ":", ("m", 2)),
        seconds=(("d", 2), ".", ("M", 2), ".", ("y", 1), ", ", ("H", 2), ":", ("m", 2), ":", ("s", 2)),
    ),
}


def read_facts(name: str) -> Facts | None:
    """``name``'s facts as Babel says them now; None when its figures cannot be written from such facts
    (grouping other than by three, a date pattern with names in it)."""
    from babel.dates import tokenize_pattern
    from babel.numbers import parse_pattern

    from epay_desktop.i18n import formats

    locale = formats.cldr_locale(name)
    symbols = locale.number_symbols["latn"]
    decimal, group = str(symbols["decimal"]), str(symbols["group"])
    for pattern in (
        locale.decimal_formats[None],
        locale.currency_formats["standard"],
        locale.percent_formats[None],
    ):
        if parse_pattern(pattern.pattern).grouping != (3, 3):
            return None
    # A probe with every digit place the grouping has, and its number as the table would write it.
    number = f"1{group}234{group}567"
    money: dict[str, tuple[str, str]] = {}
    for currency in CURRENCIES:
        shown = formats.babel_money(123456789, currency, 2, symbol=True, name=name)
        before, found, after = shown.partition(f"{number}{decimal}89")
        if not found or shown.count(found) != 1:
            return None
        money[currency] = (before, after)
    shown = formats.babel_percent(12345670, 1000, name)
    before, found, after = shown.partition(number)
    if not found:
        return None
    tokens: list[tuple[Token, ...]] = []
    for seconds in (False, True):
        parts: list[Token] = []
        for kind, value in tokenize_pattern(formats.datetime_pattern(name, seconds)):
            if kind == "chars":
                parts.append(str(value))
                continue
            field, width = str(value[0]), int(value[1])
            if field not in NUMERIC_FIELDS or (field == "M" and width > 2):
                return None
            parts.append((field, width))
        tokens.append(tuple(parts))
    return Facts(decimal, group, money, (before, after), tokens[0], tokens[1])


if __name__ == "__main__":
    # The table above, as Babel says it now (see the module docstring).
    import pprint

    pprint.pprint({name: read_facts(name) for name in LOCALES}, width=110, sort_dicts=False)
