"""``Money.parse``: the one reader of amounts people type (the dialogs and the command line use it)."""

from __future__ import annotations

import contextlib
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from epay_desktop.domain import Currency, Money, MoneyError

NOK, DKK, EUR = Currency.NOK, Currency.DKK, Currency.EUR
PAYMENT_MAX = Money(65_000_000, NOK)


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("249.50", 24950),
        ("249,50", 24950),
        ("249,5", 24950),
        ("12.5", 1250),
        ("12", 1200),
        ("12.", 1200),
        (".5", 50),
        ("0.01", 1),
        (" 7.05 ", 705),
        ("1 234,50", 123450),
        ("1\u00a0234,50", 123450),
        ("1\u202f234,50", 123450),
        ("1'234.50", 123450),
        ("1\u2019234.50", 123450),
        ("1.234,50", 123450),
        ("1,234.50", 123450),
        ("1,234,567.5", 123456750),
        ("1.234.567", 123456700),
        ("1 000", 100000),
        ("250 kr", 25000),
        ("250 kr.", 25000),
        ("kr 250,-", 25000),
        ("250,-", 25000),
        ("NOK 99.90", 9990),
        ("99.90 nok", 9990),
        ("NOK99.90", 9990),
        ("+5", 500),
        ("000012.50", 1250),
    ],
)
def test_amounts_parse_exactly(text: str, minor: int) -> None:
    assert Money.parse(text, NOK) == Money(minor, NOK)


def test_each_currency_takes_its_own_code_and_word() -> None:
    assert Money.parse("€ 12,50", EUR) == Money(1250, EUR)
    assert Money.parse("12.50 EUR", EUR) == Money(1250, EUR)
    assert Money.parse("12,50 kr", DKK) == Money(1250, DKK)
    assert Money.parse("DKK 0,01", DKK) == Money(1, DKK)


@pytest.mark.parametrize(
    ("text", "currency", "reason"),
    [
        ("", NOK, "Type an amount"),
        ("   ", NOK, "Type an amount"),
        ("kr", NOK, "Type an amount"),
        ("-5", NOK, "positive"),
        ("\u22125", NOK, "positive"),
        ("kr -250", NOK, "positive"),
        ("1,234", NOK, "ambiguous"),
        ("1.234", NOK, "ambiguous"),
        ("12.345", NOK, "decimals"),
        ("1.255", DKK, "ambiguous"),
        ("1.2345", NOK, "2 decimals"),
        ("12.505", NOK, "ambiguous"),
        ("1,234.567", NOK, "2 decimals"),
        ("0", NOK, "more than zero"),
        ("0.00", EUR, "more than zero"),
        ("0,-", NOK, "more than zero"),
        ("12 EUR", NOK, "not EUR"),
        ("€12", DKK, "not EUR"),
        ("NOK 12", DKK, "not NOK"),
        ("12 kr", EUR, "not kroner"),
        ("1e3", NOK, "not an amount"),
        ("abc", NOK, "not an amount"),
        ("nan", NOK, "not an amount"),
        ("inf", NOK, "not an amount"),
        ("0x10", NOK, "not an amount"),
        ("1_000", NOK, "not an amount"),
        ("\u0663", NOK, "not an amount"),  # an Arabic-Indic three: a digit to str.isdigit, not to us
        ("\u00b2", NOK, "not an amount"),  # superscript two: isdigit() is True, int() fails
        ("12.34.56", NOK, "groups of three"),
        ("1,2,3", NOK, "groups of three"),
        ("12 34", NOK, "groups of three"),
        ("1 2345", NOK, "groups of three"),
        ("1.234,56.78", NOK, "more than one decimal mark"),
        ("12,5 0", NOK, "digits only"),
        ("9" * 40, NOK, "too large"),
        ("9" * 5000, NOK, "too large"),  # int() would refuse past 4300 digits with a ValueError of its own
    ],
)
def test_bad_amounts_say_why(text: str, currency: Currency, reason: str) -> None:
    with pytest.raises(MoneyError, match=reason):
        Money.parse(text, currency)


def test_limits_are_checked_with_a_sentence() -> None:
    smallest = Money(100, NOK)
    assert Money.parse("1", NOK, minimum=smallest, maximum=PAYMENT_MAX) == smallest
    assert Money.parse("650 000", NOK, minimum=smallest, maximum=PAYMENT_MAX) == PAYMENT_MAX
    with pytest.raises(MoneyError, match=re.escape("smallest NOK amount is 1.00 NOK")):
        Money.parse("0.99", NOK, minimum=smallest)
    with pytest.raises(MoneyError, match=re.escape("largest amount is 650000.00 NOK")):
        Money.parse("650000.01", NOK, maximum=PAYMENT_MAX)
    with pytest.raises(MoneyError, match=re.escape("largest amount is 650000.00 NOK")):
        Money.parse("1.234.567", NOK, maximum=PAYMENT_MAX)  # read as grouping, not decimals


def test_limits_in_another_currency_are_a_programming_error() -> None:
    with pytest.raises(MoneyError, match="cannot combine"):
        Money.parse("5", EUR, minimum=Money(1, NOK))


def test_a_pasted_page_is_shortened_in_the_message() -> None:
    with pytest.raises(MoneyError) as caught:
        Money.parse("x" * 10_000, NOK)
    assert len(str(caught.value)) < 120


@given(
    st.integers(min_value=1, max_value=10**15),
    st.sampled_from([".", ","]),
    st.sampled_from([" ", "\u00a0", "\u202f", "'", "\u2019", "", "other mark"]),
    st.sampled_from(list(Currency)),
    st.sampled_from(["", "before", "after", "word"]),
)
@example(1, ".", "", NOK, "")
def test_every_amount_round_trips_through_its_text(
    minor: int, mark: str, group: str, currency: Currency, affix: str
) -> None:
    if group == "other mark":
        group = "," if mark == "." else "."
    units, cents = divmod(minor, 100)
    text = f"{units:,}".replace(",", group) + f"{mark}{cents:02d}"
    if affix == "before":
        text = f"{currency.value} {text}"
    elif affix == "after":
        text = f"{text} {currency.value.lower()}"
    elif affix == "word":
        text = f"€{text}" if currency is EUR else f"{text} kr"
    assert Money.parse(text, currency) == Money(minor, currency)


@given(st.integers(min_value=1, max_value=10**17 - 1), st.sampled_from(list(Currency)))  # 15 whole digits
def test_plain_text_reads_back(minor: int, currency: Currency) -> None:
    money = Money(minor, currency)
    assert Money.parse(money.plain(), currency) == money


@given(st.text(alphabet=st.sampled_from("0123456789.,- +\u00a0'kKrRnNoOeE€x\u2212"), max_size=24))
def test_any_text_is_money_or_a_money_error(text: str) -> None:
    try:
        money = Money.parse(text, NOK)
    except MoneyError as error:
        message = str(error)
    else:
        assert money.value > 0
        assert money.currency is NOK
        return
    assert message.endswith(".")  # a sentence, never an empty or internal message


@given(st.text(max_size=30))
def test_arbitrary_unicode_never_escapes_as_another_error(text: str) -> None:
    with contextlib.suppress(MoneyError):
        Money.parse(text, EUR)
