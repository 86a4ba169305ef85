"""``Journal.begin(attempting=True)``: the intent and its first attempt in one durable commit, read back
from a second connection as a crash would leave them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from epay_desktop.domain import Currency, Money
from epay_desktop.store import IntentFinishedError, IntentStatus, Operation, Store
from tests.support.journal import begin

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def test_an_intent_begun_attempting_is_on_disk_with_its_first_attempt(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite3"
    with Store(path) as store:
        intent = store.journal.begin(
            operation=Operation.CAPTURE,
            profile="Shop",
            msn="123456",
            reference="order-12345678",
            amount=Money(4000, Currency.NOK),
            idempotency_key="key-attempting-1",
            os_user="u",
            now=datetime(2026, 12, 1, 18, 0, tzinfo=UTC),
            attempting=True,
        )
        assert intent.attempts == 1
        assert intent.last_attempt_at == datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
        with Store(path) as other:  # another connection: what a restart after a crash would read
            (seen,) = other.journal.pending()
        assert seen == intent
        # The next attempt (a resend) counts on from it.
        assert store.journal.note_attempt(intent.id) == 2


def test_an_intent_begun_without_attempting_has_no_attempt_yet(tmp_path: Path) -> None:
    with Store(tmp_path / "register.sqlite3") as store:
        intent_id = begin(store, "key-attempting-2", attempting=False, now=NOW)
        intent = store.journal.get(intent_id)
        assert intent is not None
        assert intent.attempts == 0
        assert intent.last_attempt_at is None


def test_a_refused_intent_reopened_attempting_counts_on(tmp_path: Path) -> None:
    with Store(tmp_path / "register.sqlite3") as store:
        first = begin(store, "key-attempting-3", attempting=True, now=NOW)
        store.journal.finish(first, IntentStatus.FAILED, "Refused: try again later", os_user="u")
        again = begin(store, "key-attempting-3", attempting=True, now=NOW)
        assert again == first
        intent = store.journal.get(again)
        assert intent is not None
        assert (intent.status, intent.attempts) == (IntentStatus.PENDING, 2)


def test_a_finished_intent_still_refuses_an_attempt(tmp_path: Path) -> None:
    with Store(tmp_path / "register.sqlite3") as store:
        intent_id = begin(store, "key-attempting-4", attempting=True, now=NOW)
        store.journal.finish(intent_id, IntentStatus.FAILED, "abandoned", os_user="u")
        with pytest.raises(IntentFinishedError):
            store.journal.note_attempt(intent_id)
