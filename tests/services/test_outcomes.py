"""Review finding 9: which event proves a cancel happened, and the message only claims our key when
the event carries it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from epay_desktop.domain import Aggregate, Currency, EventName, Money, Payment, PaymentEvent, State
from epay_desktop.services.outcomes import find_effect, success_message
from epay_desktop.store import Intent, IntentStatus, Operation

REF = "order-12345678"
KEY = "our-key-0001"
WRITTEN = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def nok(value: int) -> Money:
    return Money(value, Currency.NOK)


def intent(operation: Operation = Operation.CANCEL) -> Intent:
    return Intent(
        id=7,
        operation=operation,
        profile="Demo",
        merchant_serial_number="123456",
        reference=REF,
        amount=nok(10000),
        idempotency_key=KEY,
        created_at=WRITTEN,
        os_user="tester",
        status=IntentStatus.PENDING,
        attempts=1,
    )


def cancelled(at: datetime | None, key: str | None) -> PaymentEvent:
    return PaymentEvent(REF, "psp-3", EventName.CANCELLED, nok(10000), at, key, True)


def payment(cancelled_value: int = 10000, state: State = State.AUTHORIZED) -> Payment:
    return Payment(
        REF,
        nok(10000),
        state,
        Aggregate(nok(10000), nok(0), nok(cancelled_value), nok(0)),
    )


def test_an_event_with_our_key_is_proof_and_the_message_names_the_key() -> None:
    event = cancelled(WRITTEN + timedelta(seconds=3), KEY)
    assert find_effect(intent(), payment(), [event]) == event
    text = success_message(intent(), nok(10000), payment(), reconciled=True, effect=event)
    assert f"idempotency key {KEY})" in text


def test_a_cancel_without_a_key_after_the_intent_counts_but_the_key_is_not_claimed() -> None:
    event = cancelled(WRITTEN + timedelta(seconds=3), None)
    assert find_effect(intent(), payment(), [event]) == event
    text = success_message(intent(), nok(10000), payment(), reconciled=True, effect=event)
    assert f"(idempotency key {KEY})" not in text
    assert "12:00:03 UTC" in text
    assert "after this request was written" in text
    assert "does not carry" in text


def test_a_cancel_from_before_the_intent_is_not_ours() -> None:
    event = cancelled(WRITTEN - timedelta(hours=2), None)
    assert find_effect(intent(), payment(), [event]) is None


def test_a_cancel_with_another_key_is_not_ours() -> None:
    event = cancelled(WRITTEN + timedelta(seconds=3), "someone-elses-key")
    assert find_effect(intent(), payment(), [event]) is None


def test_our_key_wins_over_an_earlier_cancel_without_one() -> None:
    ours = cancelled(WRITTEN + timedelta(seconds=5), KEY)
    other = cancelled(WRITTEN + timedelta(seconds=1), None)
    assert find_effect(intent(), payment(), [other, ours]) == ours


def test_a_little_clock_difference_is_allowed() -> None:
    # The intent's time is this machine's clock, the event's the server's: a small skew is tolerated.
    event = cancelled(WRITTEN - timedelta(seconds=30), None)
    assert find_effect(intent(), payment(), [event]) == event


def test_a_terminated_payment_without_events_is_not_claimed_as_our_key() -> None:
    effect = find_effect(intent(), payment(state=State.TERMINATED), [])
    assert effect is not None
    text = success_message(
        intent(), nok(10000), payment(state=State.TERMINATED), reconciled=True, effect=effect
    )
    assert f"(idempotency key {KEY})" not in text


def test_captures_still_need_our_key() -> None:
    event = PaymentEvent(
        REF, "psp-2", EventName.CAPTURED, nok(10000), WRITTEN + timedelta(seconds=3), None, True
    )
    assert find_effect(intent(Operation.CAPTURE), payment(), [event]) is None
