"""Which journal commits wait for the disk (``synchronous = FULL``) in a SQLite register: every intent
and attempt, every failed outcome, and a confirmed outcome that replaces a failed one; a confirmed
outcome that closes a pending intent does not (a power loss can only leave that intent pending, which
the next start settles: see ``tests/services/test_lost_outcome.py``). Read from the statements the
register's own connection runs, on a real file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from epay_desktop.store import IntentStatus, Store
from tests.support.journal import Commits, begin


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "register.sqlite3") as opened:
        yield opened


def test_a_begun_intent_waits_for_the_disk(store: Store) -> None:
    commits = Commits(store)
    intent_id = begin(store, "key-sync-1")
    assert commits.take() == ["FULL"]
    store.journal.note_attempt(intent_id)
    assert commits.take() == ["FULL"]


@pytest.mark.parametrize("status", [IntentStatus.SUCCEEDED, IntentStatus.RECONCILED])
def test_a_confirmed_outcome_of_a_pending_intent_does_not_wait_for_the_disk(
    store: Store, status: IntentStatus
) -> None:
    intent_id = begin(store, "key-sync-2")
    commits = Commits(store)
    finished = store.journal.finish(intent_id, status, "Captured.", os_user="u")
    assert commits.take() == ["NORMAL"]
    assert finished.status is status
    # What another process (or the next start after a crash of this one) reads:
    with Store(store.path) as other:
        seen = other.journal.get(intent_id)
        lines = [(line.idempotency_key, line.result) for line in other.audit.entries(10)]
    assert seen == finished
    assert ("key-sync-2", status.value) in lines


def test_a_failed_outcome_waits_for_the_disk(store: Store) -> None:
    intent_id = begin(store, "key-sync-3")
    commits = Commits(store)
    finished = store.journal.finish(intent_id, IntentStatus.FAILED, "Refused: no", os_user="u")
    assert commits.take() == ["FULL"]
    assert finished.status is IntentStatus.FAILED


def test_a_confirmed_outcome_over_a_failed_one_waits_for_the_disk(store: Store) -> None:
    # Abandoned in another window while the request was on the wire, then the API confirmed it: losing
    # that outcome would leave "failed, nothing moved" over money that moved.
    intent_id = begin(store, "key-sync-4")
    store.journal.finish(intent_id, IntentStatus.FAILED, "abandoned", os_user="other")
    commits = Commits(store)
    finished = store.journal.finish(intent_id, IntentStatus.SUCCEEDED, "Captured.", os_user="u")
    assert finished.status is IntentStatus.SUCCEEDED
    assert commits.take()[-1] == "FULL"
    with Store(store.path) as other:
        seen = other.journal.get(intent_id)
    assert seen is not None
    assert seen.status is IntentStatus.SUCCEEDED


def test_an_outcome_recorded_elsewhere_first_is_kept(store: Store) -> None:
    intent_id = begin(store, "key-sync-5")
    with Store(store.path) as other:
        first = other.journal.finish(intent_id, IntentStatus.RECONCILED, "From the event log.", os_user="o")
    again = store.journal.finish(intent_id, IntentStatus.SUCCEEDED, "Captured.", os_user="u")
    assert again == first
    results = [line.result for line in store.audit.entries(10) if line.idempotency_key == "key-sync-5"]
    assert results == ["reconciled", "requested"]


def test_the_next_intent_waits_for_the_disk_after_a_quick_outcome(store: Store) -> None:
    # The WAL is synced as a whole: the next durable commit carries the outcome before it to disk too.
    first = begin(store, "key-sync-6")
    commits = Commits(store)
    store.journal.finish(first, IntentStatus.SUCCEEDED, "Captured.", os_user="u")
    begin(store, "key-sync-7", reference="order-87654321")
    assert commits.take() == ["NORMAL", "FULL"]
