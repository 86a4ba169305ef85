"""Backoff, jitter, budget and Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from epay_desktop.api import RetryPolicy
from epay_desktop.api.retry import parse_retry_after
from tests.api.fakes import FakeClock

NOW = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("Mon, 05 Jan 2026 12:00:30 GMT", 30.0),
        ("Mon, 05 Jan 2026 11:00:00 GMT", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("-3", None),
        ("nan", None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


@given(st.integers(min_value=1, max_value=50), st.floats(min_value=0, max_value=1))
def test_backoff_is_capped_full_jitter(retry_number: int, jitter: float) -> None:
    policy = RetryPolicy(base_delay=0.25, max_delay=8.0, jitter=lambda: jitter)
    delay = policy.backoff(retry_number)
    assert 0 <= delay <= min(8.0, 0.25 * 2 ** (retry_number - 1))
    assert delay == pytest.approx(jitter * min(8.0, 0.25 * 2 ** (retry_number - 1)))


def test_next_delay_respects_attempts_and_budget() -> None:
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=3, total_budget=10, clock=clock, jitter=lambda: 1.0)
    started = clock()
    assert policy.next_delay(attempt=1, started=started) == 0.25
    assert policy.next_delay(attempt=3, started=started) is None
    assert policy.next_delay(attempt=1, started=started, retry_after=9) == 9
    assert policy.next_delay(attempt=1, started=started, retry_after=11) is None
    clock.now += 9.9
    assert policy.next_delay(attempt=1, started=started) is None


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(total_budget=-1)
    assert RetryPolicy.none().max_attempts == 1


@pytest.mark.parametrize(("attempts", "words"), [(1, "after 1 attempt (last"), (3, "after 3 attempts (last")])
def test_outcome_unknown_counts_attempts_in_words(attempts: int, words: str) -> None:
    from epay_desktop.api import OutcomeUnknownError

    error = OutcomeUnknownError(
        operation="cancel", reference="r-1", idempotency_key="k-1", last_error=None, attempts=attempts
    )
    assert words in str(error)
    assert "(s)" not in str(error)
