"""Money, numbers and dates by CLDR rules for each language."""

from __future__ import annotations

from datetime import datetime

import pytest

from epay_desktop import i18n
from epay_desktop.i18n.formats import datetime_text, money_text, percent_text

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("language", "currency", "shown"),
    [
        ("nb", "NOK", f"1{NBSP}234,50{NBSP}kr"),
        ("da", "DKK", f"1.234,50{NBSP}kr."),
        ("fi", "EUR", f"1{NBSP}234,50{NBSP}€"),
        # "kr" alone would be ambiguous across the border: another country's krone shows its code.
        ("nb", "DKK", f"1{NBSP}234,50{NBSP}DKK"),
        ("da", "NOK", f"1.234,50{NBSP}NOK"),
        ("en", "NOK", f"1,234.50{NBSP}NOK"),
        ("en", "EUR", f"1,234.50{NBSP}EUR"),
    ],
)
def test_money_in_each_language_with_the_payments_own_currency(
    language: str, currency: str, shown: str
) -> None:
    i18n.set_language(language, None)
    assert money_text(123450, currency) == shown


def test_money_is_exact_for_large_and_small_amounts() -> None:
    i18n.set_language("nb", None)
    assert money_text(99999999999999999, "NOK", symbol=False) == "999 999 999 999 999,99".replace(" ", NBSP)
    assert money_text(1, "NOK", symbol=False) == "0,01"
    assert money_text(0, "NOK") == f"0,00{NBSP}kr"


def test_percent_and_dates_follow_the_language() -> None:
    moment = datetime(2026, 3, 4, 13, 5, 6)
    i18n.set_language("nb", None)
    assert percent_text(1, 2) == f"50{NBSP}%"
    assert datetime_text(moment) == "04.03.2026, 13:05:06"
    i18n.set_language("fi", None)
    assert datetime_text(moment, seconds=False) == "4.3.2026 13.05"
    i18n.set_language("en", None)
    assert percent_text(1, 2) == "50%"
    assert percent_text(1, 0) == "–"
