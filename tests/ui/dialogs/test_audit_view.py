"""The audit table model and its filter proxy (qtmodeltester, offscreen)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt

from epay_desktop.domain import Currency, Money
from epay_desktop.store import AuditEntry
from epay_desktop.ui.dialogs.audit import (
    COLUMNS,
    ENTRY_ROLE,
    AuditFilterModel,
    AuditTableModel,
)

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def entry(
    i: int, action: str, reference: str, amount: Money | None, result: str, user: str = "kari"
) -> AuditEntry:
    return AuditEntry(
        id=i,
        at=T0 + timedelta(minutes=i),
        os_user=user,
        profile="Demo",
        merchant_serial_number="123456",
        action=action,
        reference=reference,
        amount=amount,
        result=result,
        detail=f"detail {i}",
        idempotency_key=f"key-{i}" if amount else "",
    )


ENTRIES = [
    entry(3, "cancel", "order-0003-cccc", Money(100_00, Currency.NOK), "failed", user="ola"),
    entry(2, "cancel", "order-0002-bbbb", Money(9_00, Currency.NOK), "ok"),
    entry(1, "add", "order-0001-aaaa", None, "ok"),
    entry(4, "capture", "order-0004-dddd", Money(25_50, Currency.NOK), "ok"),
]


def column(name: str) -> int:
    return [c.header for c in COLUMNS].index(name)


def test_model_passes_the_model_tester(qtmodeltester: Any) -> None:
    model = AuditTableModel()
    model.set_entries(ENTRIES)
    qtmodeltester.check(model)
    assert model.rowCount() == 4
    assert model.index(0, column("Reference")).data() == "order-0003-cccc"
    assert model.index(0, column("Result")).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert model.index(1, column("Result")).data(Qt.ItemDataRole.ForegroundRole) is None
    assert model.index(0, 0).data(ENTRY_ROLE) is ENTRIES[0]
    assert model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole) == ENTRIES[0].at.isoformat()
    assert model.index(2, column("Amount")).data() == ""


def test_sorting_uses_exact_values_not_display_text(qtmodeltester: Any) -> None:
    model = AuditTableModel()
    model.set_entries(ENTRIES)
    proxy = AuditFilterModel()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    proxy.sort(column("Amount"), Qt.SortOrder.AscendingOrder)
    # 9.00 < 25.50 < 100.00 as minor units; as text "100,00" would sort first. No amount sorts before all.
    refs = [proxy.index(r, column("Reference")).data() for r in range(proxy.rowCount())]
    assert refs == ["order-0001-aaaa", "order-0002-bbbb", "order-0004-dddd", "order-0003-cccc"]
    proxy.sort(column("When"), Qt.SortOrder.DescendingOrder)
    ids = [proxy.index(r, 0).data(ENTRY_ROLE).id for r in range(proxy.rowCount())]
    assert ids == [4, 3, 2, 1]


def test_filter_matches_every_word_in_any_column() -> None:
    model = AuditTableModel()
    model.set_entries(ENTRIES)
    proxy = AuditFilterModel()
    proxy.setSourceModel(model)
    proxy.set_filter_text("CANCEL Kari")
    assert proxy.rowCount() == 1
    assert proxy.index(0, column("Reference")).data() == "order-0002-bbbb"
    proxy.set_filter_text("ola")
    assert proxy.rowCount() == 1
    proxy.set_filter_text("  ")
    assert proxy.rowCount() == 4
    proxy.set_filter_text("nothing-like-this")
    assert proxy.rowCount() == 0
