"""The Notifications model: a thin, valid Qt model over the deliveries, newest first, bounded."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from epay_desktop.api.webhooks import parse_notification
from epay_desktop.services.webhook_inbox import Received
from epay_desktop.ui.window import notifications
from epay_desktop.ui.window.notifications import NotificationsDock, NotificationsModel


def received(n: int, *, outcome: str = "stored", via: str = "receiver", success: bool = True) -> Received:
    body = {
        "msn": "123456",
        "reference": f"view-order-{n:04d}",
        "pspReference": str(n),
        "name": "CAPTURED",
        "amount": {"currency": "NOK", "value": 12_50},
        "timestamp": "2026-01-19T16:26:32.099Z",
        "idempotencyKey": None,
        "success": success,
    }
    return Received(parse_notification(json.dumps(body).encode()), datetime.now(UTC), outcome, None, via=via)  # type: ignore[arg-type]


def test_the_model_is_valid_and_newest_first(qtmodeltester: Any) -> None:
    model = NotificationsModel()
    for n in range(3):
        model.add(received(n))
    qtmodeltester.check(model)
    assert model.rowCount() == 3
    assert model.data(model.index(0, 2)) == "view-order-0002"
    assert model.data(model.index(0, 1)) == "epayments.payment.captured.v1"
    assert "12.50" in model.data(model.index(0, 3))


def test_what_the_signature_column_says() -> None:
    model = NotificationsModel()
    model.add(received(1, outcome="duplicate"))
    model.add(received(2, via="register"))
    model.add(received(3, outcome="untracked", success=False))
    assert model.data(model.index(0, 4)) == "verified (not in the register)"
    assert model.data(model.index(0, 3)).endswith("(failed)")
    assert model.data(model.index(1, 4)) == "verified by epay-webhooks"
    assert model.data(model.index(2, 4)) == "verified (duplicate)"


def test_it_keeps_a_bounded_number(monkeypatch: Any) -> None:
    monkeypatch.setattr(notifications, "KEPT_ROWS", 5)
    model = NotificationsModel()
    for n in range(8):
        model.add(received(n))
    assert model.rowCount() == 5
    assert model.data(model.index(4, 2)) == "view-order-0003"


def test_the_dock_shows_a_hint_until_the_first_webhook(qtbot: Any) -> None:
    dock = NotificationsDock()
    qtbot.addWidget(dock)
    assert dock.widget() is dock.empty
    dock.add(received(1))
    assert dock.widget() is dock.table
    assert dock.model.rowCount() == 1
