from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from epay_desktop.domain import Currency, Money, MoneyError


def test_money_refuses_floats_and_bools() -> None:
    with pytest.raises(MoneyError):
        Money(10.5, Currency.NOK)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(True, Currency.NOK)


def test_money_refuses_mixing_currencies() -> None:
    with pytest.raises(MoneyError):
        Money(1, Currency.NOK) + Money(1, Currency.DKK)
    with pytest.raises(MoneyError):
        _ = Money(1, Currency.NOK) < Money(1, Currency.EUR)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0.00 NOK"), (5, "0.05 NOK"), (100, "1.00 NOK"), (123456, "1234.56 NOK"), (-250, "-2.50 NOK")],
)
def test_plain_format_is_exact(value: int, text: str) -> None:
    assert Money(value, Currency.NOK).plain() == text


@given(st.integers(-(10**12), 10**12), st.integers(-(10**12), 10**12))
def test_add_then_subtract_round_trips(a: int, b: int) -> None:
    x, y = Money(a, Currency.EUR), Money(b, Currency.EUR)
    assert (x + y) - y == x
