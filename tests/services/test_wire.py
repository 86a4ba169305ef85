"""The JSON form of payments and events (``epay --json`` and the team service write it, the desktop's
team client reads it back): what comes back is what went in, also for what this version does not know."""

from __future__ import annotations

from datetime import UTC, datetime

from epay_desktop.domain import Aggregate, Currency, EventName, Money, Payment, PaymentEvent, State
from epay_desktop.services.wire import event_from_json, event_json, payment_from_json, payment_json

NOK = Currency.NOK


def payment(state: State = State.AUTHORIZED, raw: str = "AUTHORIZED", method: str = "WALLET") -> Payment:
    return Payment(
        reference="order-1",
        amount=Money(10000, NOK),
        state=state,
        aggregate=Aggregate(Money(10000, NOK), Money(2500, NOK), Money(0, NOK), Money(500, NOK)),
        psp_reference="psp-1",
        description="Pizza",
        payment_method=method,
        redirect_url=None,
        raw_state=raw,
        metadata={"till": "3"},
        capture_guaranteed_until=datetime(2026, 12, 8, 12, tzinfo=UTC),
    )


def test_a_payment_comes_back_as_it_went_in() -> None:
    for given in (payment(), payment(State.UNKNOWN, "ON_HOLD", ""), payment(method="CARD")):
        data = payment_json(given)
        assert payment_from_json(data) == given
        assert payment_from_json(payment_json(given, actions=False)) == given
    data = payment_json(payment())
    assert data["businessState"] == "partly refunded"
    assert data["actions"]["capture"]["amount"] == {"currency": "NOK", "value": 7500}
    assert payment_json(payment(State.UNKNOWN, "ON_HOLD"))["state"] == "ON_HOLD"


def test_an_event_comes_back_as_it_went_in() -> None:
    event = PaymentEvent(
        reference="order-1",
        psp_reference="psp-2",
        name=EventName.CAPTURED,
        amount=Money(2500, NOK),
        timestamp=datetime(2026, 12, 1, 15, 0, 1, tzinfo=UTC),
        idempotency_key="key-1",
        success=True,
        raw_name="CAPTURED",
    )
    assert event_from_json(event_json(event)) == event
