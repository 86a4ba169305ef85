"""The audit table model and its filter proxy (qtmodeltester, offscreen)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt

from epay_desktop import i18n
from epay_desktop.domain import Currency, Money
from epay_desktop.paths import resource
from epay_desktop.store import AuditEntry
from epay_desktop.ui.audit_words import action_text, result_text
from epay_desktop.ui.dialogs.audit import (
    COLUMNS,
    ENTRY_ROLE,
    AuditFilterModel,
    AuditTableModel,
    AuditView,
)

# Words that read the same in a language as in English.
UNCHANGED = {"nb": ("ok", "import"), "da": ("ok", "import", "login", "logout"), "fi": ("ok",)}
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
    return [c.key for c in COLUMNS].index(name.casefold())


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


def shown(model: AuditTableModel, name: str) -> list[str]:
    return [model.index(row, column(name)).data() for row in range(model.rowCount())]


@pytest.mark.parametrize(
    ("language", "when", "cancel", "failed"),
    [
        ("nb", "Når", "kansellering", "mislyktes"),
        ("da", "Hvornår", "annullering", "mislykkedes"),
        ("fi", "Milloin", "peruutus", "epäonnistui"),
    ],
)
def test_the_log_speaks_the_language_in_use_and_keeps_the_stored_words(
    language: str, when: str, cancel: str, failed: str
) -> None:
    assert i18n.set_language(language, resource("translations")) == language
    model = AuditTableModel()
    model.set_entries([*ENTRIES, entry(5, "teleport", "order-0005-eeee", None, "beamed")])
    proxy = AuditFilterModel()
    proxy.setSourceModel(model)

    assert model.headerData(column("When"), Qt.Orientation.Horizontal) == when
    assert shown(model, "Action")[:2] == [cancel, cancel]
    assert shown(model, "Result")[0] == failed
    # A word this version does not know (a newer version's, the team server's) is shown as written.
    assert shown(model, "Action")[4] == "teleport"
    assert shown(model, "Result")[4] == "beamed"
    # The filter finds a line by the word shown and by the word stored (what the CSV export keeps).
    for words in (cancel, "cancel"):
        proxy.set_filter_text(words)
        assert proxy.rowCount() == 2, words
    assert all(entry.action == "cancel" for entry in ENTRIES[:2])


def test_every_audit_word_is_translated() -> None:
    from epay_desktop.ui.audit_words import ACTIONS, RESULTS

    for language in ("nb", "da", "fi"):
        assert i18n.set_language(language, resource("translations")) == language
        for word in (*ACTIONS, *RESULTS):
            text = action_text(word) if word in ACTIONS else result_text(word)
            assert text, (language, word)
            assert text != word or word in UNCHANGED.get(language, ()), (language, word)


def test_the_count_fits_the_number(qtbot: Any, desk: Any) -> None:
    view = AuditView(desk)
    qtbot.addWidget(view)
    view.model.set_entries(ENTRIES[:1])
    view.filter_edit.setText("ola")
    assert view.count_label.text() == "1 entry"
    view.model.set_entries(ENTRIES)
    view.filter_edit.setText("cancel")
    assert view.count_label.text() == "2 of 4 entries"
    view.filter_edit.clear()
    assert view.count_label.text() == "4 entries"
