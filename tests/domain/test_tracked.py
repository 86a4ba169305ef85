"""TrackedPayment's time rules: stale marks and waiting for the customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from epay_desktop.domain import Aggregate, Currency, Money, Payment, State, TrackedPayment
from epay_desktop.domain.tracked import CUSTOMER_TIMEOUT, STALE_AFTER

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def tracked(
    state: State | None = State.CREATED,
    *,
    created: datetime | None = NOW - timedelta(minutes=1),
    fetched: datetime | None = NOW,
    error: str = "",
) -> TrackedPayment:
    payment = None
    if state is not None:
        nok = Currency.NOK
        payment = Payment("order-1", Money(1_000, nok), state, Aggregate.zero(nok))
    return TrackedPayment(
        "order-1", "123456", payment=payment, created_at=created, fetched_at=fetched, fetch_error=error
    )


def test_looks_stale_when_old_never_fetched_or_failed() -> None:
    assert not tracked(fetched=NOW - STALE_AFTER).looks_stale(NOW)
    assert tracked(fetched=NOW - STALE_AFTER - timedelta(seconds=1)).looks_stale(NOW)
    assert tracked(fetched=None).looks_stale(NOW)
    assert tracked(error="Could not reach the API").looks_stale(NOW)


def test_a_closed_payment_is_final_however_old_its_snapshot() -> None:
    old = NOW - timedelta(days=3)
    assert tracked(State.TERMINATED, fetched=old).is_stale(NOW)
    assert not tracked(State.TERMINATED, fetched=old).looks_stale(NOW)
    assert tracked(State.AUTHORIZED, fetched=old).looks_stale(NOW)  # captures may have happened since
    assert tracked(State.EXPIRED, fetched=old, error="Could not reach the API").looks_stale(NOW)


@pytest.mark.parametrize(
    ("state", "age", "waiting"),
    [
        (State.CREATED, timedelta(seconds=1), True),
        (State.CREATED, CUSTOMER_TIMEOUT - timedelta(seconds=1), True),
        (State.CREATED, CUSTOMER_TIMEOUT, False),
        (State.AUTHORIZED, timedelta(seconds=1), False),
        (State.ABORTED, timedelta(seconds=1), False),
        (State.UNKNOWN, timedelta(seconds=1), False),
    ],
)
def test_waits_for_customer_while_created_and_within_the_timeout(
    state: State, age: timedelta, waiting: bool
) -> None:
    assert tracked(state, created=NOW - age).waits_for_customer(NOW) is waiting


def test_not_fetched_waits_only_when_created_in_this_session() -> None:
    new = tracked(None, created=NOW - timedelta(seconds=3), fetched=None)
    assert new.waits_for_customer(NOW, created_since=NOW - timedelta(minutes=1))
    assert not new.waits_for_customer(NOW, created_since=NOW)  # created before the session began
    assert not new.waits_for_customer(NOW)  # no session given: an added reference, not ours


def test_unknown_creation_time_never_waits_and_naive_times_are_utc() -> None:
    assert not tracked(created=None).waits_for_customer(NOW)
    naive = tracked(created=(NOW - timedelta(minutes=2)).replace(tzinfo=None))
    assert naive.waits_for_customer(NOW)
    assert not naive.waits_for_customer(NOW + CUSTOMER_TIMEOUT)


def test_kind_is_the_business_state_or_none_before_the_first_fetch() -> None:
    from dataclasses import replace

    from epay_desktop.domain import BusinessState

    assert tracked(None).kind is None
    assert tracked(State.CREATED).kind is BusinessState.WAITING
    assert replace(tracked(State.CREATED), authorizing=True).kind is BusinessState.AUTHORIZING
    assert tracked(State.TERMINATED).kind is BusinessState.TERMINATED
