"""Business states derived from state and aggregate; the picture after a move."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from epay_desktop.domain import (
    BADGE_COLOURS,
    Action,
    Aggregate,
    BusinessState,
    Currency,
    Money,
    MoneyError,
    Payment,
    State,
    business_state,
    projected,
    state_sentence,
)
from epay_desktop.domain.business import business_state_of, business_states_of

NOK = Currency.NOK


def pay(
    state: State = State.AUTHORIZED,
    authorized: int = 1000_00,
    captured: int = 0,
    cancelled: int = 0,
    refunded: int = 0,
) -> Payment:
    m = lambda v: Money(v, NOK)  # noqa: E731
    return Payment(
        "order-0001", m(1000_00), state, Aggregate(m(authorized), m(captured), m(cancelled), m(refunded))
    )


@pytest.mark.parametrize(
    ("payment", "expected"),
    [
        (pay(State.CREATED, authorized=0), BusinessState.WAITING),
        (pay(), BusinessState.RESERVED),
        (pay(captured=250_00), BusinessState.PARTLY_CAPTURED),
        (pay(captured=1000_00), BusinessState.CAPTURED),
        (pay(captured=250_00, cancelled=750_00), BusinessState.CANCELLED),  # the remainder released
        (pay(cancelled=1000_00), BusinessState.CANCELLED),
        (pay(captured=250_00, cancelled=750_00, refunded=100_00), BusinessState.PARTLY_REFUNDED),
        (pay(captured=1000_00, refunded=1000_00), BusinessState.REFUNDED),
        (pay(State.EXPIRED, authorized=0), BusinessState.EXPIRED),
        (pay(State.ABORTED, authorized=0), BusinessState.ABORTED),
        (pay(State.TERMINATED, authorized=0), BusinessState.TERMINATED),
        (pay(State.UNKNOWN), BusinessState.UNKNOWN),
    ],
)
def test_the_business_state_comes_from_state_and_aggregate(payment: Payment, expected: BusinessState) -> None:
    assert business_state(payment) is expected


def test_an_aggregate_in_another_currency_is_refused_not_compared() -> None:
    dkk = Money(0, Currency.DKK)
    mixed = Payment(
        "order-0002", Money(1000_00, NOK), State.AUTHORIZED, Aggregate(Money(1000_00, NOK), dkk, dkk, dkk)
    )
    with pytest.raises(MoneyError):
        business_state(mixed)


def test_authorizing_only_where_the_sandbox_says_so() -> None:
    assert business_state(pay(State.CREATED, authorized=0), authorizing=True) is BusinessState.AUTHORIZING
    assert business_state(pay(), authorizing=True) is BusinessState.RESERVED


def test_every_state_has_its_own_colour_and_a_word() -> None:
    assert len(set(BADGE_COLOURS.values())) == len(BusinessState)
    assert all(state.label and state.label[0].isupper() for state in BusinessState)


def test_the_status_sentence_says_the_money() -> None:
    sentence = state_sentence(pay(cancelled=117_00, authorized=117_00)).replace("\u00a0", " ")
    assert sentence == "Cancelled: 117.00 NOK released"
    sentence = state_sentence(pay(captured=250_00)).replace("\u00a0", " ")
    assert sentence == "Partly captured: 250.00 NOK captured, 750.00 NOK reserved"


def test_projected_is_the_picture_after_the_move() -> None:
    after = projected(pay(), Action.CAPTURE, Money(250_00, NOK))
    assert business_state(after) is BusinessState.PARTLY_CAPTURED
    after = projected(after, Action.CANCEL, Money(0, NOK))
    assert after.aggregate.cancelled == Money(750_00, NOK)
    assert business_state(after) is BusinessState.CANCELLED
    assert projected(pay(State.CREATED, authorized=0), Action.CANCEL, Money(0, NOK)).state is State.TERMINATED
    refunded = projected(after, Action.REFUND, Money(100_00, NOK))
    assert business_state(refunded) is BusinessState.PARTLY_REFUNDED


# Small amounts, so that equal and zero amounts (where the rule turns) come up often.
AMOUNT = st.integers(min_value=0, max_value=3)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=-1, max_value=len(State) - 1), AMOUNT, AMOUNT, AMOUNT, AMOUNT),
        max_size=40,
    )
)
def test_the_rule_for_many_rows_answers_as_the_rule_for_one(
    rows: list[tuple[int, int, int, int, int]],
) -> None:
    table = list(State)
    codes = [row[0] for row in rows]
    columns = [[row[i] for row in rows] for i in range(1, 5)]
    expected = [
        None if code < 0 else business_state_of(table[code], *(column[n] for column in columns))
        for n, code in enumerate(codes)
    ]
    assert business_states_of(codes, table, *columns) == expected
