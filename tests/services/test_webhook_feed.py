"""WebhookFeed and RegisterWatch: what another program (epay-webhooks) writes into a register reaches
the feed's listeners and the desk's change feed; the desk's own writes do not count as webhooks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from epay_desktop.api.webhooks import parse_notification
from epay_desktop.domain import State
from epay_desktop.services.changes import ChangeFeed, PaymentChanged
from epay_desktop.services.webhook_feed import RegisterWatch, WebhookFeed
from epay_desktop.services.webhook_inbox import Received, WebhookInbox
from epay_desktop.store import Store

pytestmark = pytest.mark.anyio


def webhook(name: str, psp: str, value: int = 500) -> bytes:
    return json.dumps(
        {
            "msn": "123456",
            "reference": "feed-order-0001",
            "pspReference": psp,
            "name": name,
            "amount": {"currency": "NOK", "value": value},
            "timestamp": datetime.now(UTC).isoformat(),
            "idempotencyKey": None,
            "success": True,
        }
    ).encode()


async def test_what_epay_webhooks_writes_reaches_the_feed(tmp_path: Path) -> None:
    path = tmp_path / "shop.sqlite3"
    desk_store = Store(path)
    receiver = WebhookInbox.open(path)  # another connection, as epay-webhooks has
    try:
        changes = ChangeFeed()
        published: list[PaymentChanged] = []
        changes.subscribe(lambda batch: published.extend(c for c in batch if isinstance(c, PaymentChanged)))
        watch = RegisterWatch(desk_store, "123456")
        assert watch.check() == []  # the first look only takes note
        feed = WebhookFeed(changes, watch=watch)
        heard: list[Received] = []
        feed.subscribe(heard.append)
        assert await feed.check_register() == 0

        receiver.receive(parse_notification(webhook("CREATED", "1")))
        receiver.receive(parse_notification(webhook("AUTHORIZED", "2")))
        assert await feed.check_register() == 1
        assert [r.notification.event.display_name for r in heard] == ["CREATED", "AUTHORIZED"]
        assert {r.via for r in heard} == {"register"}
        assert [c.source for c in published] == ["webhook"]
        assert published[0].tracked.payment is not None
        assert published[0].tracked.payment.state is State.AUTHORIZED
        assert feed.flowing()
        assert await feed.check_register() == 0  # nothing new

        # The desk's own write (a refresh) is published by the desk, not reported as a webhook.
        row = desk_store.register.get("123456", "feed-order-0001")
        assert row is not None
        assert row.payment is not None
        own = desk_store.register.save_snapshot("123456", row.payment, [*row.events, *row.events[:1]])
        changes.publish(PaymentChanged(own, datetime.now(UTC), "refresh"))
        receiver.receive(parse_notification(webhook("CAPTURED", "3", 100)))
        heard.clear()
        assert await feed.check_register() == 1
        assert [r.notification.event.display_name for r in heard] == ["CAPTURED"]
    finally:
        receiver.close()
        desk_store.close()
