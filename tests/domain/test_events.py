"""apply_event: how a snapshot moves when an event is learnt (a webhook) before the next read."""

from __future__ import annotations

from datetime import UTC, datetime

from epay_desktop.domain import Currency, EventName, Money, PaymentEvent, State, apply_event


def event(
    name: EventName, value: int, *, success: bool = True, currency: Currency = Currency.NOK
) -> PaymentEvent:
    return PaymentEvent("order-1001", "psp", name, Money(value, currency), datetime.now(UTC), None, success)


def test_a_whole_life_in_events() -> None:
    payment = apply_event(None, event(EventName.CREATED, 1000))
    assert payment is not None
    assert payment.state is State.CREATED
    payment = apply_event(payment, event(EventName.AUTHORIZED, 1000))
    payment = apply_event(payment, event(EventName.CAPTURED, 400))
    payment = apply_event(payment, event(EventName.CANCELLED, 600))
    payment = apply_event(payment, event(EventName.REFUNDED, 100))
    assert payment is not None
    assert payment.state is State.AUTHORIZED
    aggregate = payment.aggregate
    assert (aggregate.authorized.value, aggregate.captured.value) == (1000, 400)
    assert (aggregate.cancelled.value, aggregate.refunded.value) == (600, 100)


def test_ends_before_authorization() -> None:
    created = apply_event(None, event(EventName.CREATED, 500))
    terminated = apply_event(created, event(EventName.TERMINATED, 500))
    assert terminated is not None
    assert terminated.state is State.TERMINATED
    assert terminated.aggregate.cancelled.value == 500
    for name, state in ((EventName.ABORTED, State.ABORTED), (EventName.EXPIRED, State.EXPIRED)):
        ended = apply_event(created, event(name, 500))
        assert ended is not None
        assert ended.state is state


def test_what_cannot_be_placed_changes_nothing() -> None:
    created = apply_event(None, event(EventName.CREATED, 500))
    assert apply_event(None, event(EventName.CAPTURED, 100)) is None
    assert apply_event(created, event(EventName.CAPTURED, 100)) is created
    assert apply_event(created, event(EventName.AUTHORIZED, 500, success=False)) is created
    assert apply_event(created, event(EventName.UNKNOWN, 500)) is created
    assert apply_event(created, event(EventName.AUTHORIZED, 500, currency=Currency.DKK)) is created
    authorized = apply_event(None, event(EventName.AUTHORIZED, 500))
    assert authorized is not None
    assert authorized.aggregate.authorized.value == 500
    assert apply_event(authorized, event(EventName.ABORTED, 500)) is authorized
