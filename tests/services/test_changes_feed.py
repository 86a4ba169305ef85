"""The change feed itself: order, isolation of a failing listener, unsubscribe, batches."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from epay_desktop.domain import TrackedPayment
from epay_desktop.services import Change, ChangeFeed, PaymentChanged, PaymentsRemoved

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def changed(reference: str, source: str = "refresh") -> PaymentChanged:
    return PaymentChanged(TrackedPayment(reference, "123456"), NOW, source)


def test_listeners_get_each_batch_in_subscription_order() -> None:
    feed = ChangeFeed()
    calls: list[tuple[str, tuple[Change, ...]]] = []
    feed.subscribe(lambda batch: calls.append(("first", tuple(batch))))
    feed.subscribe(lambda batch: calls.append(("second", tuple(batch))))
    one, two = changed("ref-00000001"), changed("ref-00000002")
    feed.publish(one, two)
    assert calls == [("first", (one, two)), ("second", (one, two))]
    assert one.reference == "ref-00000001"


def test_no_changes_calls_nobody() -> None:
    feed = ChangeFeed()
    calls: list[Sequence[Change]] = []
    feed.subscribe(calls.append)
    feed.publish()
    assert calls == []


def test_a_failing_listener_is_logged_and_the_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    feed = ChangeFeed()
    seen: list[Sequence[Change]] = []

    def broken(_batch: Sequence[Change]) -> None:
        raise RuntimeError("view went away")

    feed.subscribe(broken)
    feed.subscribe(seen.append)
    removed = PaymentsRemoved(("ref-00000001",))
    with caplog.at_level(logging.ERROR, logger="epay_desktop.services.changes"):
        feed.publish(removed)
    assert seen == [(removed,)]
    assert "listener of the change feed failed" in caplog.text


def test_unsubscribe_stops_delivery_and_is_idempotent() -> None:
    feed = ChangeFeed()
    seen: list[Sequence[Change]] = []
    unsubscribe = feed.subscribe(seen.append)
    assert feed.listeners == 1
    unsubscribe()
    unsubscribe()
    feed.publish(changed("ref-00000001"))
    assert seen == []
    assert feed.listeners == 0


def test_a_listener_may_unsubscribe_while_it_runs() -> None:
    feed = ChangeFeed()
    seen: list[str] = []
    unsubscribe_first = None

    def first(_batch: Sequence[Change]) -> None:
        seen.append("first")
        assert unsubscribe_first is not None
        unsubscribe_first()

    unsubscribe_first = feed.subscribe(first)
    feed.subscribe(lambda _batch: seen.append("second"))
    feed.publish(changed("ref-00000001"))
    feed.publish(changed("ref-00000001"))
    assert seen == ["first", "second", "second"]


def test_changes_are_frozen_records() -> None:
    change = changed("ref-00000001")
    with pytest.raises(AttributeError):
        change.source = "load"  # type: ignore[misc]
