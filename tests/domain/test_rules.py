"""The rules that drive buttons, bars and dialog text, checked against the cancel page's examples."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from epay_desktop.domain import (
    LAPSE_WARNING,
    Action,
    Aggregate,
    Currency,
    EventName,
    Guarantee,
    Money,
    Payment,
    State,
    cancel_outcome,
    capturable,
    capture_guarantee,
    check_action,
    refundable,
    releasable,
)

NOK = Currency.NOK


def nok(v: int) -> Money:
    return Money(v, NOK)


def payment(state: State, amount: int = 1000, a: int = 0, c: int = 0, x: int = 0, r: int = 0) -> Payment:
    return Payment(
        reference="UNIQUE-PAYMENT-REFERENCE",
        amount=nok(amount),
        state=state,
        aggregate=Aggregate(authorized=nok(a), captured=nok(c), cancelled=nok(x), refunded=nok(r)),
    )


def test_cancel_before_authorization_releases_everything_and_terminates() -> None:
    outcome = cancel_outcome(payment(State.CREATED))
    assert outcome is not None
    assert outcome.released == nok(1000)
    assert outcome.state_after is State.TERMINATED
    assert "TERMINATED" in outcome.describe()


def test_cancel_after_authorization_keeps_state_authorized() -> None:
    outcome = cancel_outcome(payment(State.AUTHORIZED, a=1000))
    assert outcome is not None
    assert (outcome.released, outcome.state_after) == (nok(1000), State.AUTHORIZED)


def test_cancel_after_partial_capture_releases_the_remainder() -> None:
    outcome = cancel_outcome(payment(State.AUTHORIZED, a=1000, c=250))
    assert outcome is not None
    assert outcome.released == nok(750)
    assert outcome.captured_kept == nok(250)
    assert "2.50\u00a0NOK already captured" in outcome.describe()


def test_fully_captured_says_refund_instead() -> None:
    check = check_action(payment(State.AUTHORIZED, a=1000, c=1000), Action.CANCEL)
    assert not check.allowed
    assert "refund instead" in check.reason


def test_already_cancelled_cannot_be_cancelled_again() -> None:
    p = payment(State.AUTHORIZED, a=1000, c=250, x=750)
    assert cancel_outcome(p) is None
    assert "Already cancelled" in check_action(p, Action.CANCEL).reason
    assert not check_action(p, Action.CAPTURE).allowed
    assert check_action(p, Action.REFUND).amount == nok(250)


@pytest.mark.parametrize("state", [State.ABORTED, State.EXPIRED, State.TERMINATED])
def test_closed_states_allow_nothing(state: State) -> None:
    for action in Action:
        check = check_action(payment(state), action)
        assert not check.allowed
        assert state.value.lower() in check.reason


def test_unknown_state_allows_nothing_and_says_so() -> None:
    p = Payment("ref-12345678", nok(1), State.parse("SETTLED"), Aggregate.zero(NOK), raw_state="SETTLED")
    assert p.state is State.UNKNOWN
    assert p.display_state == "SETTLED"
    assert "SETTLED" in check_action(p, Action.CANCEL).reason


@given(
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
)
def test_amounts_never_negative_and_add_up(a: int, c: int, x: int, r: int) -> None:
    p = payment(State.AUTHORIZED, amount=max(a, 1), a=a, c=c, x=x, r=r)
    for amount in (releasable(p), capturable(p), refundable(p)):
        assert amount.value >= 0
    if c + x <= a:
        assert releasable(p).value + c + x == a
    assert check_action(p, Action.CANCEL).allowed == (releasable(p).value > 0)


def test_capture_guarantee_warns_before_the_reservation_may_lapse() -> None:
    # agent-toolkit/epayment_references_operations.md "Get payment": captureGuaranteedUntil;
    # payment-lifecycle_SKILL.md: after it a capture is a new charge attempt that can fail.
    until = datetime(2026, 9, 8, 12, 0, tzinfo=UTC)
    reserved = Payment(
        reference="guarantee-01",
        amount=Money(10000, Currency.NOK),
        state=State.AUTHORIZED,
        aggregate=Aggregate(
            Money(10000, Currency.NOK), Money(0, Currency.NOK), Money(0, Currency.NOK), Money(0, Currency.NOK)
        ),
        capture_guaranteed_until=until,
    )
    assert capture_guarantee(reserved, until - LAPSE_WARNING - timedelta(seconds=1)) is Guarantee.HELD
    assert capture_guarantee(reserved, until - LAPSE_WARNING) is Guarantee.LAPSING
    assert capture_guarantee(reserved, until - timedelta(minutes=1)) is Guarantee.LAPSING
    assert capture_guarantee(reserved, until) is Guarantee.ENDED
    assert capture_guarantee(reserved, until.replace(tzinfo=None) - timedelta(days=1)) is Guarantee.LAPSING
    # Nothing left to capture, or no date from the API: nothing to warn about.
    captured = replace(
        reserved,
        aggregate=Aggregate(
            Money(10000, Currency.NOK),
            Money(10000, Currency.NOK),
            Money(0, Currency.NOK),
            Money(0, Currency.NOK),
        ),
    )
    assert capture_guarantee(captured, until) is Guarantee.NONE
    assert capture_guarantee(replace(reserved, capture_guaranteed_until=None), until) is Guarantee.NONE


@pytest.mark.parametrize("word", [State, EventName])
def test_api_words_are_read_leniently(word: type[State] | type[EventName]) -> None:
    assert word.parse("AUTHORIZED") is word.AUTHORIZED
    # A word this version does not know, "UNKNOWN" itself, a wrong case or no text at all: UNKNOWN.
    for text in ("SETTLED", "UNKNOWN", "authorized", None, 3):
        assert word.parse(text) is word.UNKNOWN
