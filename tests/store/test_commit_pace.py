"""The rule that says whether the disk has proven fast enough for a durable commit on the event loop's
thread (``CommitPace``): only after enough fast commits in a row, never again after one slow commit
until as many fast ones have been seen, and a worker thread's commit that may have waited for the GIL
counts as slow only when even that cannot explain it."""

from __future__ import annotations

import sys

from epay_desktop.store.commit_pace import FAST_COMMIT_SECONDS, FAST_COMMITS_NEEDED, CommitPace

FAST = FAST_COMMIT_SECONDS / 4
SLOW = FAST_COMMIT_SECONDS * 3


def test_nothing_is_proven_before_enough_fast_commits_in_a_row() -> None:
    pace = CommitPace()
    assert not pace.proven_fast
    for _ in range(FAST_COMMITS_NEEDED - 1):
        pace.record(FAST)
    assert not pace.proven_fast
    pace.record(FAST)
    assert pace.proven_fast


def test_one_slow_commit_takes_it_back_at_once_until_as_many_fast_ones_again() -> None:
    pace = CommitPace()
    for _ in range(FAST_COMMITS_NEEDED * 3):
        pace.record(FAST)
    pace.record(SLOW)
    assert not pace.proven_fast
    for _ in range(FAST_COMMITS_NEEDED - 1):
        pace.record(FAST)
    assert not pace.proven_fast
    pace.record(FAST)
    assert pace.proven_fast


def test_a_commit_exactly_at_the_limit_is_fast() -> None:
    pace = CommitPace(needed=1)
    pace.record(FAST_COMMIT_SECONDS)
    assert pace.proven_fast


def test_a_worker_threads_commit_slowed_no_more_than_the_gil_can_explain_says_nothing() -> None:
    pace = CommitPace()
    for _ in range(FAST_COMMITS_NEEDED - 1):
        pace.record(FAST)
    pace.record(FAST_COMMIT_SECONDS + sys.getswitchinterval(), beside_others=True)
    assert not pace.proven_fast  # not counted as fast either
    pace.record(FAST, beside_others=True)
    assert pace.proven_fast


def test_a_worker_threads_commit_slower_than_the_gil_can_explain_takes_it_back() -> None:
    pace = CommitPace()
    for _ in range(FAST_COMMITS_NEEDED):
        pace.record(FAST, beside_others=True)
    assert pace.proven_fast
    pace.record(FAST_COMMIT_SECONDS + 3 * sys.getswitchinterval(), beside_others=True)
    assert not pace.proven_fast


def test_a_slow_commit_on_the_callers_own_thread_takes_it_back_however_little_slow() -> None:
    pace = CommitPace()
    for _ in range(FAST_COMMITS_NEEDED):
        pace.record(FAST)
    pace.record(FAST_COMMIT_SECONDS * 1.01)
    assert not pace.proven_fast


def test_the_recent_times_are_kept() -> None:
    pace = CommitPace(needed=3)
    for seconds in (0.1, 0.2, 0.3, 0.4):
        pace.record(seconds)
    assert list(pace.recent) == [0.2, 0.3, 0.4]
