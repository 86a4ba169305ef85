"""The one amount field: money as people type it in their locale, exact, ambiguity refused, the
maximum shown and enforced."""

from __future__ import annotations

from typing import Any

import pytest

from epay_desktop.domain import Currency, Money
from epay_desktop.ui.dialogs.amount_field import AmountField
from epay_desktop.ui.dialogs.inputs import InputError, amount_text, read_amount

NOK = Currency.NOK


@pytest.mark.parametrize(
    ("text", "locale", "minor"),
    [
        ("249,50", "nb_NO", 24950),
        ("249.50", "en_GB", 24950),
        ("1 234,50", "nb_NO", 123450),
        ("1\u00a0234,50", "nb_NO", 123450),  # Norwegian's own group symbol, as a keyboard may give it
        ("1.234,50", "da_DK", 123450),
        ("1,234.50", "en_US", 123450),
        ("1'234.50", "de_CH", 123450),
        ("kr 99", "nb_NO", 9900),
        ("99,-", "nb_NO", 9900),
        ("99 NOK", "fi_FI", 9900),
    ],
)
def test_amounts_are_read_as_people_type_them(text: str, locale: str, minor: int) -> None:
    assert read_amount(text, NOK, locale) == Money(minor, NOK)


@pytest.mark.parametrize("locale", ["nb_NO", "en_US", "da_DK"])
def test_a_lone_mark_before_three_digits_is_refused_in_every_locale(locale: str) -> None:
    for text in ("1,234", "1.234"):
        with pytest.raises(InputError, match="ambiguous"):
            read_amount(text, NOK, locale)


def test_the_limits_are_enforced_with_a_sentence() -> None:
    with pytest.raises(InputError, match=r"largest amount is 750\.00"):
        read_amount("750,01", NOK, "nb_NO", maximum=Money(75000, NOK))
    assert read_amount("750", NOK, "nb_NO", maximum=Money(75000, NOK)) == Money(75000, NOK)


def test_an_unknown_locale_name_falls_back_instead_of_breaking() -> None:
    assert read_amount("12.50", NOK, "xx_NOPE") == Money(1250, NOK)
    assert amount_text(Money(1250, NOK), "C") == "12.50"


def test_amount_text_reads_back_exactly() -> None:
    for locale in ("nb_NO", "en_GB", "de_CH", "fi_FI"):
        for minor in (1, 99, 100, 24950, 6_500_000_000):
            money = Money(minor, NOK)
            assert read_amount(amount_text(money, locale), NOK, locale) == money
    assert amount_text(Money(24950, NOK), "nb_NO") == "249,50"


def test_the_field_shows_what_it_read_the_maximum_and_why_not(qtbot: Any) -> None:
    field = AmountField(NOK, locale="nb_NO", maximum=Money(75000, NOK))
    qtbot.addWidget(field)
    assert field.limit.text() == "At most 750,00\u00a0kr"
    assert field.edit.placeholderText() == "for example 249,50"
    seen: list[object] = []
    field.value_changed.connect(seen.append)
    field.set_amount(Money(25000, NOK))
    assert field.edit.text() == "250,00"
    assert field.value() == Money(25000, NOK)
    assert field.check.text() == "= 250,00\u00a0kr"
    assert seen[-1] == Money(25000, NOK)
    field.edit.setText("800")
    assert field.value() is None
    assert seen[-1] is None
    assert "750,00" in field.check.text() or "750.00" in field.check.text()
    field.edit.setText("1,234")
    assert "ambiguous" in field.problem()
