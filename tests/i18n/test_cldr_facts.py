"""The figures written from ``cldr_facts`` (no Babel) are Babel's, for every language, amount and time."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from hypothesis import example, given, settings
from hypothesis import strategies as st

from epay_desktop import i18n
from epay_desktop.i18n import formats
from epay_desktop.i18n.cldr_facts import CURRENCIES, FACTS, LOCALES, read_facts

NAMES = st.sampled_from(LOCALES)
ZONES = st.sampled_from(
    [
        None,
        UTC,
        timezone(timedelta(hours=1)),
        timezone(timedelta(hours=-9, minutes=-30)),
        ZoneInfo("Europe/Oslo"),
    ]
)


def test_the_table_is_what_babel_says_now() -> None:
    for name in LOCALES:
        assert read_facts(name) == FACTS[name], (
            f"regenerate: uv run python -m epay_desktop.i18n.cldr_facts ({name})"
        )


def test_every_language_formats_from_the_table() -> None:
    for code in i18n.LANGUAGES:
        i18n.set_language(code, None)
        assert i18n.format_locale() in FACTS
    i18n.set_language("en", None)


@settings(max_examples=400, deadline=None)
@given(
    name=NAMES,
    minor=st.integers(-(10**20), 10**20) | st.integers(0, 10**7),
    currency=st.sampled_from([*CURRENCIES, "SEK"]),
    digits=st.integers(0, 3),
    symbol=st.booleans(),
)
def test_money_is_babels(name: str, minor: int, currency: str, digits: int, symbol: bool) -> None:
    assert formats.money_text(minor, currency, digits, symbol=symbol, locale=name) == formats.babel_money(
        minor, currency, digits, symbol=symbol, name=name
    )


@settings(max_examples=400, deadline=None)
@given(
    name=NAMES,
    part=st.integers(-(10**12), 10**12) | st.integers(0, 1000),
    whole=st.integers(1, 10**12) | st.integers(1, 1000),
)
@example(name="nb_NO", part=1, whole=200)  # 0.5 %: a tie, rounded to even
@example(name="en_GB", part=3, whole=200)
def test_percent_is_babels(name: str, part: int, whole: int) -> None:
    assert formats.percent_text(part, whole, locale=name) == formats.babel_percent(part, whole, name)


@settings(max_examples=400, deadline=None)
@given(
    name=NAMES,
    moment=st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 1, 1)),
    zone=ZONES,
    seconds=st.booleans(),
)
def test_times_are_babels(name: str, moment: datetime, zone: tzinfo | None, seconds: bool) -> None:
    moment = moment.replace(tzinfo=zone)
    local = moment.astimezone() if moment.tzinfo is not None else moment
    babel = format_datetime(
        local, format=formats.datetime_pattern(name, seconds), locale=formats.cldr_locale(name)
    )
    assert formats.datetime_text(moment, seconds=seconds, locale=name) == babel


def test_a_locale_not_in_the_table_is_formatted_by_babel() -> None:
    assert formats.money_text(123450, "NOK", locale="de_DE") == "1.234,50\u00a0NOK"
    assert formats.money_text(123450, "NOK", locale="C") == "1234.50\u00a0NOK"
    assert formats.datetime_text(datetime(2026, 3, 4, 13, 5, 6), locale="de_DE") == "04.03.2026, 13:05:06"
    assert formats.percent_text(1, 2, locale="de_DE") == "50\u00a0%"


def test_the_first_screens_figures_need_no_babel() -> None:
    code = (
        "import sys\n"
        "from datetime import datetime, UTC\n"
        "from epay_desktop import i18n\n"
        "from epay_desktop.i18n import formats\n"
        "for language in i18n.LANGUAGES:\n"
        "    i18n.set_language(language, None)\n"
        "    formats.money_text(123450, 'NOK'); formats.money_text(1, 'EUR', symbol=False)\n"
        "    formats.percent_text(1, 3); formats.datetime_text(datetime.now(UTC), seconds=False)\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'babel'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
