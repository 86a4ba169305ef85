from __future__ import annotations

from datetime import UTC, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from epay_desktop.domain import Aggregate, Currency, EventName, Money, Payment, PaymentEvent, State
from epay_desktop.store.codec import (
    SnapshotError,
    dump_events,
    dump_payment,
    load_events,
    load_payment,
)

currencies = st.sampled_from(list(Currency))
texts = st.text(max_size=40)
references = st.from_regex(r"[a-zA-Z0-9-]{8,64}", fullmatch=True)


zones = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))])


@st.composite
def payments(draw: st.DrawFn) -> Payment:
    currency = draw(currencies)

    def money() -> Money:
        return Money(draw(st.integers(min_value=-(2**53), max_value=2**53)), currency)

    state = draw(st.sampled_from(list(State)))
    return Payment(
        reference=draw(references),
        amount=money(),
        state=state,
        aggregate=Aggregate(money(), money(), money(), money()),
        psp_reference=draw(texts),
        description=draw(texts),
        payment_method=draw(texts),
        redirect_url=draw(st.none() | texts),
        raw_state=draw(texts),
        metadata=draw(st.dictionaries(texts, texts, max_size=5)),
        capture_guaranteed_until=draw(st.none() | st.datetimes(timezones=zones)),
    )


@st.composite
def events(draw: st.DrawFn) -> PaymentEvent:
    return PaymentEvent(
        reference=draw(references),
        psp_reference=draw(texts),
        name=draw(st.sampled_from(list(EventName))),
        amount=Money(draw(st.integers(min_value=0, max_value=10**12)), draw(currencies)),
        timestamp=draw(st.none() | st.datetimes(timezones=zones)),
        idempotency_key=draw(st.none() | st.text(max_size=50)),
        success=draw(st.booleans()),
        raw_name=draw(texts),
    )


@given(payments())
def test_payment_round_trips(payment: Payment) -> None:
    assert load_payment(dump_payment(payment)) == payment


@given(st.lists(events(), max_size=8))
def test_events_round_trip(items: list[PaymentEvent]) -> None:
    assert load_events(dump_events(items)) == tuple(items)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "[]",
        '{"reference": "abcdefgh"}',
        '{"v":1,"reference":"abcdefgh","amount":[1.5,"NOK"],"state":"CREATED","aggregate":[]}',
        '{"v":1,"reference":"abcdefgh","amount":[1,"SEK"],"state":"CREATED","aggregate":[]}',
    ],
)
def test_a_damaged_payment_snapshot_raises_snapshot_error(text: str) -> None:
    with pytest.raises(SnapshotError):
        load_payment(text)


@pytest.mark.parametrize("text", ["", "{}", "[1]", '[{"name": "CREATED"}]'])
def test_a_damaged_events_snapshot_raises_snapshot_error(text: str) -> None:
    with pytest.raises(SnapshotError):
        load_events(text)
