"""The one place changes reach the table: whatever publishes on the feed, the newer read wins."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QLocale

from epay_desktop.domain import State
from epay_desktop.services.changes import ChangeFeed, PaymentChanged, PaymentsRemoved
from epay_desktop.ui.table.changes import ChangesAdapter
from epay_desktop.ui.table.model import PaymentsModel
from tests.ui.factories import tracked

T = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def rig() -> tuple[ChangeFeed, PaymentsModel, ChangesAdapter]:
    feed = ChangeFeed()
    model = PaymentsModel(locale=QLocale.c())
    adapter = ChangesAdapter(model)
    adapter.attach(feed)
    return feed, model, adapter


def state(model: PaymentsModel, reference: str) -> State | None:
    row = model.tracked(reference)
    assert row is not None
    return row.payment.state if row.payment is not None else None


def test_the_first_batch_fills_the_empty_table_in_one_reset(qtmodeltester: Any) -> None:
    feed, model, _adapter = rig()
    resets: list[None] = []
    model.modelReset.connect(lambda: resets.append(None))
    rows = [tracked(f"order-{i:06d}", state=State.AUTHORIZED) for i in range(5)]
    feed.publish(*(PaymentChanged(t, T, "load") for t in rows))
    assert model.references() == [t.reference for t in rows]
    assert len(resets) == 1
    qtmodeltester.check(model)


def test_an_older_read_arriving_late_does_not_undo_a_newer_one() -> None:
    feed, model, _adapter = rig()
    created = tracked("order-000001", state=State.CREATED)
    authorized = tracked("order-000001", state=State.AUTHORIZED)
    feed.publish(PaymentChanged(created, T, "refresh"))
    feed.publish(PaymentChanged(authorized, T + timedelta(seconds=2), "poll"))
    feed.publish(PaymentChanged(created, T + timedelta(seconds=1), "refresh"))  # slow, asked earlier
    assert state(model, "order-000001") is State.AUTHORIZED
    # A read asked for at the same moment is shown (it is no older): e.g. the row re-published.
    failed = replace(authorized, fetch_error="timed out")
    feed.publish(PaymentChanged(failed, T + timedelta(seconds=2), "refresh"))
    row = model.tracked("order-000001")
    assert row is not None
    assert row.fetch_error == "timed out"


def test_within_one_batch_the_newer_read_wins_too() -> None:
    feed, model, _adapter = rig()
    feed.publish(PaymentChanged(tracked("order-000002"), T, "load"))
    newer = tracked("order-000001", state=State.TERMINATED)
    older = tracked("order-000001", state=State.AUTHORIZED)
    feed.publish(PaymentChanged(newer, T + timedelta(seconds=5), "team"), PaymentChanged(older, T, "team"))
    assert state(model, "order-000001") is State.TERMINATED


def test_whoever_publishes_is_shown_and_new_payments_are_added() -> None:
    feed, model, _adapter = rig()
    feed.publish(PaymentChanged(tracked("order-000001"), T, "load"))
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    from_webhook = tracked("order-000009", state=State.CREATED)
    feed.publish(PaymentChanged(from_webhook, T, "webhook"))
    assert model.references() == ["order-000001", "order-000009"]
    assert inserted == [(1, 1)]


def test_removed_payments_leave_the_table(qtmodeltester: Any) -> None:
    feed, model, _adapter = rig()
    rows = [tracked(f"order-{i:06d}") for i in range(6)]
    feed.publish(*(PaymentChanged(t, T, "load") for t in rows))
    model.set_busy("order-000002", True)
    feed.publish(PaymentsRemoved(("order-000001", "order-000002", "order-000004", "no-such-order")))
    assert model.references() == ["order-000000", "order-000003", "order-000005"]
    assert model.row_of("order-000005") == 2
    assert not model.is_busy("order-000002")
    qtmodeltester.check(model)
    # Removed, then published again (e.g. added back): shown, whatever it was asked for before.
    feed.publish(PaymentChanged(rows[1], T - timedelta(days=1), "add"))
    assert model.row_of("order-000001") == 3


def test_a_detached_adapter_follows_no_feed() -> None:
    feed, model, adapter = rig()
    feed.publish(PaymentChanged(tracked("order-000001"), T, "load"))
    adapter.detach()
    assert feed.listeners == 0
    feed.publish(PaymentChanged(tracked("order-000002"), T, "refresh"))
    assert model.references() == ["order-000001"]
    # Attached to another desk's feed, it leaves the first one.
    other = ChangeFeed()
    adapter.attach(feed)
    adapter.attach(other)
    assert feed.listeners == 0
    assert other.listeners == 1
