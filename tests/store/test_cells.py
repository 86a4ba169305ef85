"""Store cells: a zero amount survives the round trip (only None is NULL); CSV cells never run."""

from __future__ import annotations

from epay_desktop.domain import Currency, Money
from epay_desktop.store.db import money_columns, money_from_columns


def test_zero_money_is_kept_as_zero_not_null() -> None:
    zero = Money(0, Currency.DKK)
    assert money_columns(zero) == (0, "DKK")
    assert money_from_columns(*money_columns(zero)) == zero


def test_none_is_null_both_ways() -> None:
    assert money_columns(None) == (None, None)
    assert money_from_columns(None, None) is None


def test_audit_csv_keeps_every_formula_lead_as_text() -> None:
    from epay_desktop.store.audit import _safe_cell

    for lead in ("=", "+", "-", "@", "\t", "\r"):
        assert _safe_cell(f"{lead}1+1") == f"'{lead}1+1"
    assert _safe_cell("Kaffe") == "Kaffe"
