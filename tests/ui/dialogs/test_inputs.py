"""The pure input checks behind the register's dialogs: references, amounts, phones, descriptions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from epay_desktop.domain import Currency, Money
from epay_desktop.ui.dialogs.inputs import (
    AMOUNT_MAX_MINOR,
    InputError,
    check_description,
    check_reference_lines,
    normalize_phone,
    parse_amount,
)


def test_reference_lines_report_line_numbers_reasons_and_duplicates() -> None:
    text = "\n".join(
        [
            "order-1001-aaaa",  # 1 ok
            "",  # 2 blank: skipped, still counted
            "  order-1002-bbbb  ",  # 3 ok, trimmed
            "short",  # 4 too short
            "order_1003",  # 5 underscore
            "order-1001-aaaa",  # 6 duplicate of 1
            "x" * 65,  # 7 too long
            "a-ref-0001, 'a-ref-0002';x",  # 8 a spreadsheet row: split like the services do
        ]
    )
    check = check_reference_lines(text)
    assert check.references == ("order-1001-aaaa", "order-1002-bbbb", "a-ref-0001", "a-ref-0002")
    bad = {line.number: line.problem for line in check.bad}
    assert set(bad) == {4, 5, 7, 8}
    assert "too short (5 characters" in bad[4]
    assert "'_'" in bad[5]
    assert "too long (65" in bad[7]
    assert "too short (1 character" in bad[8]
    assert [(d.number, d.duplicate_of) for d in check.duplicates] == [(6, 1)]
    assert check.summary() == "4 references to add, 1 repeated (added once), 4 lines with problems."


def test_reference_limits_are_8_and_64_characters() -> None:
    check = check_reference_lines("a" * 8 + "\n" + "b" * 64 + "\n" + "c" * 7)
    assert check.references == ("a" * 8, "b" * 64)
    assert [line.number for line in check.bad] == [3]


def test_empty_text_has_a_hint() -> None:
    assert check_reference_lines("\n \n").summary() == "Paste or type one reference per line."


# How amounts are read is Money.parse's business (tests/domain/test_money_parse.py); here: the
# API's limits for a new payment, and that every refusal arrives as an InputError with the reason.


def test_amounts_are_read_by_money_parse() -> None:
    assert parse_amount("1 234,50 kr", Currency.NOK) == Money(123450, Currency.NOK)
    assert parse_amount("650000", Currency.NOK) == Money(AMOUNT_MAX_MINOR, Currency.NOK)


@pytest.mark.parametrize(
    ("text", "currency", "reason"),
    [
        ("", Currency.NOK, "Type an amount"),
        ("1,234", Currency.NOK, "ambiguous"),
        ("12 EUR", Currency.NOK, "not EUR"),
        ("0.00", Currency.EUR, "more than zero"),
        ("0.99", Currency.NOK, "smallest NOK amount is 1.00 NOK"),
        ("650000.01", Currency.NOK, "largest amount"),
        ("650000.01", Currency.EUR, "largest amount is 650000.00 EUR"),
        ("1.234.567", Currency.NOK, "largest amount is 650000.00"),  # read as grouping, not decimals
    ],
)
def test_bad_amounts_say_why(text: str, currency: Currency, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        parse_amount(text, currency)


def test_smallest_dkk_and_eur_amounts_are_one_minor_unit() -> None:
    assert parse_amount("0,01", Currency.DKK) == Money(1, Currency.DKK)
    assert parse_amount("0.01", Currency.EUR) == Money(1, Currency.EUR)


@given(st.integers(min_value=100, max_value=AMOUNT_MAX_MINOR), st.sampled_from([".", ","]))
def test_every_payment_amount_is_accepted(minor: int, mark: str) -> None:
    units, cents = divmod(minor, 100)
    grouped = f"{units:,}".replace(",", " ")
    assert parse_amount(f"{grouped}{mark}{cents:02d}", Currency.NOK).value == minor


@pytest.mark.parametrize(
    ("text", "msisdn"),
    [
        ("+47 912 34 567", "4791234567"),
        ("0047 91234567", "4791234567"),
        ("4791234567", "4791234567"),
        ("+45 (20) 12-34-56", "4520123456"),
    ],
)
def test_phone_numbers_normalize_to_msisdn(text: str, msisdn: str) -> None:
    assert normalize_phone(text) == msisdn


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "country code"),
        ("9123456", "no country code"),
        ("+47 91x34567", "only digits"),
        ("1" * 16, "too long"),
    ],
)
def test_bad_phone_numbers_say_why(text: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        normalize_phone(text)


@pytest.mark.parametrize(
    ("text", "currency", "msisdn"),
    [
        ("912 34 567", Currency.NOK, "4791234567"),
        ("20 12 34 56", Currency.DKK, "4520123456"),
        ("040 123 4567", Currency.EUR, "358401234567"),
        ("+47 912 34 567", Currency.EUR, "4791234567"),  # a Norwegian customer of a Finnish shop
    ],
)
def test_a_local_number_gets_the_sales_units_country_code(text: str, currency: Currency, msisdn: str) -> None:
    assert normalize_phone(text, currency) == msisdn


def test_descriptions_are_3_to_100_characters_trimmed() -> None:
    assert check_description("  Coffee beans  ") == "Coffee beans"
    assert check_description("x" * 100) == "x" * 100
    with pytest.raises(InputError, match="at least 3"):
        check_description(" ab ")
    with pytest.raises(InputError, match="at most 100"):
        check_description("x" * 101)
