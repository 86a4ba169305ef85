"""Store cells: a zero amount survives the round trip (only None is NULL); CSV cells never run."""

from __future__ import annotations

import csv
from pathlib import Path

from epay_desktop.domain import Currency, Money
from epay_desktop.store import Store
from epay_desktop.store.db import money_columns, money_from_columns


def test_zero_money_is_kept_as_zero_not_null() -> None:
    zero = Money(0, Currency.DKK)
    assert money_columns(zero) == (0, "DKK")
    assert money_from_columns(*money_columns(zero)) == zero


def test_none_is_null_both_ways() -> None:
    assert money_columns(None) == (None, None)
    assert money_from_columns(None, None) is None


def test_audit_csv_keeps_every_formula_lead_as_text(tmp_path: Path) -> None:
    """Through the real register file and the real export: what a person typed never runs as a formula
    in a spreadsheet."""
    leads = ("=", "+", "-", "@", "\t", "\r")
    with Store(tmp_path / "register.sqlite3") as store:
        for lead in leads:
            store.audit.record(
                os_user=f"{lead}cmd",
                profile=f"{lead}1+1",
                msn="123456",
                action="add",
                result="ok",
                detail=f"{lead}HYPERLINK(1)",
            )
        store.audit.record(os_user="kari", profile="Kaffe", msn="123456", action="add", result="ok")
        assert store.audit.export_csv(tmp_path / "audit.csv") == len(leads) + 1
    with (tmp_path / "audit.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row, lead in zip(rows[: len(leads)], leads, strict=True):
        assert row["os_user"] == f"'{lead}cmd"
        assert row["profile"] == f"'{lead}1+1"
        assert row["detail"] == f"'{lead}HYPERLINK(1)"
    assert (rows[-1]["os_user"], rows[-1]["profile"]) == ("kari", "Kaffe")
