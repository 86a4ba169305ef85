"""captureGuaranteedUntil in the window: a line in the details, a mark in the list when a reservation's
guarantee ends soon (agent-toolkit epayment_references_operations.md "Get payment";
payment-lifecycle_SKILL.md "Capture attempt deadlines": after it a capture can fail)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QIcon

from epay_desktop.domain import TrackedPayment
from epay_desktop.ui.table.model import Column, PaymentsModel, guarantee_text
from epay_desktop.ui.window.details_panel import DetailsPanel
from tests.ui.factories import tracked

C = QLocale.c()


def _guaranteed(reference: str, until: datetime | None, **kwargs: Any) -> TrackedPayment:
    tp = tracked(reference, **kwargs)
    assert tp.payment is not None
    return replace(tp, payment=replace(tp.payment, capture_guaranteed_until=until))


def test_guarantee_text() -> None:
    now = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
    held = _guaranteed("order-g-0001", now + timedelta(days=5)).payment
    assert guarantee_text(held, now, C).startswith("Capture guaranteed until ")
    soon = _guaranteed("order-g-0002", now + timedelta(hours=30)).payment
    assert "(30 h left): capture or cancel before then" in guarantee_text(soon, now, C)
    ended = _guaranteed("order-g-0003", now - timedelta(hours=1)).payment
    assert "a capture may now fail" in guarantee_text(ended, now, C)
    assert guarantee_text(_guaranteed("order-g-0004", None).payment, now, C) == ""
    # Nothing left to capture (captured 250, the remainder released): no guarantee to speak of.
    done = _guaranteed("order-g-0005", now + timedelta(days=5), captured=25_000, cancelled=75_000).payment
    assert guarantee_text(done, now, C) == ""


def test_details_panel_shows_the_guarantee(qtbot: Any) -> None:
    panel = DetailsPanel(locale=C)
    qtbot.addWidget(panel)
    far = datetime.now(UTC) + timedelta(days=30)
    panel.show_payment(_guaranteed("order-g-0010", far))
    assert panel.guarantee.text().startswith("Capture guaranteed until ")
    panel.show_payment(_guaranteed("order-g-0011", datetime.now(UTC) + timedelta(hours=5)))
    assert "capture or cancel before then" in panel.guarantee.text()
    panel.show_payment(_guaranteed("order-g-0012", None))
    assert panel.guarantee.text() == "–"
    panel.show_payment(None)
    assert panel.guarantee.text() == "–"


def test_the_list_marks_reservations_that_lapse_soon(qapp: Any) -> None:
    model = PaymentsModel(locale=C)
    soon = datetime.now(UTC) + timedelta(hours=20)
    model.set_payments(
        [
            _guaranteed("order-g-0020", soon),  # reserved, guarantee ends within two days: marked
            _guaranteed("order-g-0021", datetime.now(UTC) + timedelta(days=6)),  # not yet
            _guaranteed("order-g-0022", soon, captured=100_000),  # nothing left to capture
            _guaranteed("order-g-0023", None),  # the API gave no date
        ]
    )
    marks = [
        isinstance(model.data(model.index(row, Column.AMOUNT), Qt.ItemDataRole.DecorationRole), QIcon)
        for row in range(4)
    ]
    assert marks == [True, False, False, False]
    for column in (Column.STATE, Column.AMOUNT):
        tip = model.data(model.index(0, column), Qt.ItemDataRole.ToolTipRole)
        assert "capture or cancel before then" in tip
    assert model.data(model.index(0, Column.REFERENCE), Qt.ItemDataRole.DecorationRole) is None
    # The mark follows the model's clock: five days on, the second one's guarantee ends soon too.
    model.set_now(datetime.now(UTC) + timedelta(days=5))
    assert isinstance(model.data(model.index(1, Column.AMOUNT), Qt.ItemDataRole.DecorationRole), QIcon)
