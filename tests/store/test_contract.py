"""The contract of every store: register, journal and audit, the same on SQLite and PostgreSQL.

Each test runs twice (``open_store`` in ``conftest.py``), only through ``store.interface``. A rule one
back-end keeps and the other does not fails here.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from epay_desktop.domain import (
    Aggregate,
    Currency,
    EventName,
    Money,
    Payment,
    PaymentEvent,
    State,
    TrackedPayment,
)
from epay_desktop.store import (
    IdempotencyKeyUsedError,
    Intent,
    IntentFinishedError,
    IntentPendingError,
    IntentStatus,
    NewEntry,
    Operation,
    PaymentStore,
    RecentlyConfirmedError,
)
from tests.store.conftest import OpenStore

MSN = "123456"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def nok(value: int) -> Money:
    return Money(value, Currency.NOK)


def payment(
    reference: str, state: State = State.AUTHORIZED, cancelled: int = 0, redirect_url: str | None = None
) -> Payment:
    return Payment(
        reference=reference,
        amount=nok(10000),
        state=state,
        aggregate=Aggregate(nok(10000), nok(0), nok(cancelled), nok(0)),
        psp_reference="psp-1",
        description="Kaffe og bolle – æøå ✓",
        redirect_url=redirect_url,
        metadata={"orderId": "42"},
    )


def event(reference: str, name: EventName, key: str | None = None) -> PaymentEvent:
    return PaymentEvent(reference, "psp", name, nok(10000), T0, key, True)


def begin(store: PaymentStore, reference: str = "ref-00001", key: str = "key-1", **changes: Any) -> Intent:
    arguments: dict[str, Any] = {
        "operation": Operation.CANCEL,
        "profile": "Demo",
        "msn": MSN,
        "reference": reference,
        "amount": nok(10000),
        "idempotency_key": key,
        "os_user": "kari",
    }
    arguments.update(changes)
    return store.journal.begin(**arguments)


# -- register ---------------------------------------------------------------------------------------


def test_a_new_store_is_at_the_latest_schema_and_stays_there(open_store: OpenStore) -> None:
    first = open_store()
    version = first.db.schema_version()
    assert version >= 1
    first.close()
    assert open_store().db.schema_version() == version


def test_adding_reports_new_and_already_tracked(store: PaymentStore) -> None:
    added, existing = store.register.add(MSN, [NewEntry("ref-00001"), NewEntry("ref-00002")])
    assert (added, existing) == (["ref-00001", "ref-00002"], [])
    added, existing = store.register.add(MSN, [NewEntry("ref-00002"), NewEntry("ref-00003")])
    assert (added, existing) == (["ref-00003"], ["ref-00002"])
    # The same reference twice in one call: the first is added, the second is already tracked.
    assert store.register.add(MSN, [NewEntry("ref-00004"), NewEntry("ref-00004")]) == (
        ["ref-00004"],
        ["ref-00004"],
    )
    # The same reference under another serial number is another payment.
    assert store.register.add("223344", [NewEntry("ref-00001")]) == (["ref-00001"], [])
    assert store.register.add(MSN, []) == ([], [])
    assert store.register.count(MSN) == 4
    assert store.register.count("223344") == 1
    assert store.register.count() == 5


def test_the_list_is_newest_first_and_keeps_what_the_api_does_not_return(store: PaymentStore) -> None:
    store.register.add(
        MSN,
        [
            NewEntry("older-0001", description="Latte", created_at=T0),
            NewEntry("newer-0001", description="Bolle ø", created_at=T0 + timedelta(hours=1)),
            NewEntry("same-time-b", created_at=T0 + timedelta(minutes=30)),
            NewEntry("same-time-a", created_at=T0 + timedelta(minutes=30)),
        ],
    )
    tracked = store.register.all(MSN)
    order = ["newer-0001", "same-time-a", "same-time-b", "older-0001"]
    assert [t.reference for t in tracked] == order
    assert store.register.references(MSN) == order
    assert tracked[0].description == "Bolle ø"
    assert tracked[0].merchant_serial_number == MSN
    assert tracked[0].created_at == T0 + timedelta(hours=1)
    assert tracked[0].payment is None
    assert tracked[0].events is None
    assert tracked[0].last_event_at is None
    assert tracked[0].fetched_at is None
    assert tracked[0].fetch_error == ""
    assert store.register.all("999999") == []


def test_a_payment_without_a_creation_time_sorts_by_when_it_was_added(store: PaymentStore) -> None:
    store.register.add(MSN, [NewEntry("created-1", created_at=T0)])
    store.register.add(MSN, [NewEntry("added-later-1")], now=T0 + timedelta(days=1))
    assert store.register.references(MSN) == ["added-later-1", "created-1"]


def test_times_in_another_offset_come_back_as_the_same_instant(store: PaymentStore) -> None:
    oslo = datetime(2025, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    store.register.add(MSN, [NewEntry("ref-00001", created_at=oslo)])
    tracked = store.register.get(MSN, "ref-00001")
    assert tracked is not None
    assert tracked.created_at == oslo


def test_snapshots_are_saved_and_a_failed_fetch_keeps_the_old_one(store: PaymentStore) -> None:
    store.register.add(MSN, [NewEntry("ref-00001", description="Latte")])
    events = [event("ref-00001", EventName.CREATED), event("ref-00001", EventName.AUTHORIZED, "k-1")]
    saved = store.register.save_snapshot(MSN, payment("ref-00001"), events, fetched_at=T0)
    assert saved.payment == payment("ref-00001")
    assert saved.events == tuple(events)
    assert saved.fetched_at == T0
    assert saved.description == "Latte"
    assert store.register.get(MSN, "ref-00001") == saved

    failed = store.register.save_fetch_error(MSN, "ref-00001", "network down")
    assert failed is not None
    assert failed.payment == payment("ref-00001")
    assert failed.fetch_error == "network down"
    assert failed.fetched_at == T0
    assert failed.is_stale(T0 + timedelta(hours=1))

    # events=None keeps the events saved before; a good fetch clears the error.
    later = store.register.save_snapshot(
        MSN, payment("ref-00001", cancelled=10000), None, fetched_at=T0 + timedelta(minutes=1)
    )
    assert later.events == tuple(events)
    assert later.fetch_error == ""
    assert later.payment is not None
    assert later.payment.aggregate.cancelled == nok(10000)
    # An empty event list is an answer too: it replaces the saved events.
    emptied = store.register.save_snapshot(
        MSN, payment("ref-00001"), [], fetched_at=T0 + timedelta(minutes=2)
    )
    assert emptied.events == ()


def test_the_list_reads_no_event_log_but_knows_the_newest_events_time(store: PaymentStore) -> None:
    store.register.add(MSN, [NewEntry("ref-00001", created_at=T0), NewEntry("ref-00002", created_at=T0)])
    later = T0 + timedelta(minutes=5)
    events = [
        PaymentEvent("ref-00001", "psp", EventName.AUTHORIZED, nok(10000), later, None, True),
        event("ref-00001", EventName.CREATED),
        PaymentEvent("ref-00001", "psp", EventName.CAPTURED, nok(100), None, "k", True),
    ]
    store.register.save_snapshot(MSN, payment("ref-00001"), events, fetched_at=T0)
    store.register.save_snapshot(MSN, payment("ref-00002"), [], fetched_at=T0)
    by_ref = {t.reference: t for t in store.register.all(MSN)}
    listed = by_ref["ref-00001"]
    assert listed.events is None  # not loaded
    assert listed.payment == payment("ref-00001")
    assert listed.last_event_at == later
    assert listed.updated_at == later
    assert by_ref["ref-00002"].events is None
    assert by_ref["ref-00002"].last_event_at is None
    assert by_ref["ref-00002"].updated_at == T0  # no events: when it was created

    assert store.register.events_of(MSN, "ref-00001") == tuple(events)
    assert store.register.events_of(MSN, "ref-00002") == ()  # known and empty
    full = store.register.get(MSN, "ref-00001")
    assert full is not None
    assert full.events == tuple(events)
    assert full.last_event_at == later

    # A snapshot without events (only the payment could be read) keeps the log and its time; a newer
    # log moves the time, an empty one clears it.
    store.register.save_snapshot(MSN, payment("ref-00001"), None, fetched_at=T0 + timedelta(minutes=1))
    assert store.register.all(MSN)[0].last_event_at == later
    assert store.register.events_of(MSN, "ref-00001") == tuple(events)
    newest = PaymentEvent(
        "ref-00001", "psp", EventName.CANCELLED, nok(9900), later + timedelta(hours=1), "c", True
    )
    store.register.save_snapshot(
        MSN, payment("ref-00001"), [*events, newest], fetched_at=T0 + timedelta(minutes=2)
    )
    assert {t.reference: t.last_event_at for t in store.register.all(MSN)}["ref-00001"] == newest.timestamp
    store.register.save_snapshot(MSN, payment("ref-00001"), [], fetched_at=T0 + timedelta(minutes=3))
    assert {t.reference: t.last_event_at for t in store.register.all(MSN)}["ref-00001"] is None


def test_a_late_answer_changes_neither_the_log_nor_its_time(store: PaymentStore) -> None:
    store.register.add(MSN, [NewEntry("ref-00001", created_at=T0)])
    store.register.save_snapshot(MSN, payment("ref-00001"), [], fetched_at=T0 + timedelta(seconds=2))
    old_log = [event("ref-00001", EventName.CREATED)]
    store.register.save_snapshot(MSN, payment("ref-00001"), old_log, fetched_at=T0)
    assert store.register.events_of(MSN, "ref-00001") == ()
    assert store.register.all(MSN)[0].last_event_at is None


def test_an_event_log_never_fetched_is_none(store: PaymentStore) -> None:
    store.register.add(MSN, [NewEntry("ref-00001")])
    assert store.register.events_of(MSN, "ref-00001") is None
    assert store.register.events_of(MSN, "not-tracked-1") is None
    assert store.register.events_of("999999", "ref-00001") is None
    tracked = store.register.get(MSN, "ref-00001")
    assert tracked is not None
    assert tracked.events is None
    # A failed fetch saves no log.
    store.register.save_fetch_error(MSN, "ref-00001", "network down")
    assert store.register.events_of(MSN, "ref-00001") is None


def test_a_payment_added_by_reference_takes_its_created_time_from_its_log(store: PaymentStore) -> None:
    store.register.add(MSN, [NewEntry("ref-00001"), NewEntry("ref-00002", created_at=T0)])
    created = PaymentEvent(
        "ref-00001", "psp", EventName.CREATED, nok(10000), T0 - timedelta(days=2), None, True
    )
    saved = store.register.save_snapshot(MSN, payment("ref-00001"), [created], fetched_at=T0)
    assert saved.created_at == created.timestamp
    # A created time the register already has is kept.
    other = PaymentEvent(
        "ref-00002", "psp", EventName.CREATED, nok(10000), T0 - timedelta(days=9), None, True
    )
    assert store.register.save_snapshot(MSN, payment("ref-00002"), [other], fetched_at=T0).created_at == T0


def test_a_fetch_error_for_an_untracked_payment_changes_nothing(store: PaymentStore) -> None:
    assert store.register.save_fetch_error(MSN, "nobody-0001", "network down") is None
    assert not store.register.contains(MSN, "nobody-0001")


def test_an_older_read_that_answers_late_does_not_overwrite_a_newer_snapshot(store: PaymentStore) -> None:
    store.register.add(MSN, [NewEntry("ref-00001")])
    newer = payment("ref-00001", cancelled=10000)
    store.register.save_snapshot(MSN, newer, [], fetched_at=T0 + timedelta(seconds=2))
    kept = store.register.save_snapshot(MSN, payment("ref-00001"), [], fetched_at=T0)
    assert kept.payment == newer
    assert kept.fetched_at == T0 + timedelta(seconds=2)
    got = store.register.get(MSN, "ref-00001")
    assert got is not None
    assert got.payment == newer


def test_saving_a_snapshot_of_an_untracked_payment_tracks_it(store: PaymentStore) -> None:
    store.register.save_snapshot(MSN, payment("surprise-1"), [])
    assert store.register.contains(MSN, "surprise-1")
    assert not store.register.contains("223344", "surprise-1")


def test_removing_a_payment(store: PaymentStore) -> None:
    store.register.add(MSN, [NewEntry("ref-00001"), NewEntry("ref-00002")])
    assert store.register.remove(MSN, "ref-00001") is True
    assert store.register.remove(MSN, "ref-00001") is False
    assert store.register.get(MSN, "ref-00001") is None
    assert store.register.references(MSN) == ["ref-00002"]


def test_the_payment_link_is_kept_and_a_snapshot_does_not_replace_it(store: PaymentStore) -> None:
    store.register.add(MSN, [NewEntry("ref-00001", redirect_url="https://pay.example/first")])
    assert store.register.redirect_url(MSN, "ref-00001") == "https://pay.example/first"
    store.register.save_snapshot(MSN, payment("ref-00001", redirect_url="https://pay.example/other"), [])
    assert store.register.redirect_url(MSN, "ref-00001") == "https://pay.example/first"
    store.register.set_redirect_url(MSN, "ref-00001", "https://pay.example/second")
    assert store.register.redirect_url(MSN, "ref-00001") == "https://pay.example/second"
    # A payment without a link takes the one its snapshot brings.
    store.register.add(MSN, [NewEntry("ref-00002")])
    assert store.register.redirect_url(MSN, "ref-00002") is None
    store.register.save_snapshot(MSN, payment("ref-00002", redirect_url="https://pay.example/2"), [])
    assert store.register.redirect_url(MSN, "ref-00002") == "https://pay.example/2"
    assert store.register.redirect_url(MSN, "nobody-0001") is None


def test_two_connections_on_one_register_stay_consistent(open_store: OpenStore) -> None:
    first, second = open_store(), open_store()
    first.register.add(MSN, [NewEntry("from-first")])
    assert second.register.add(MSN, [NewEntry("from-second"), NewEntry("from-first")]) == (
        ["from-second"],
        ["from-first"],
    )
    second.register.save_snapshot(MSN, payment("from-first"), [])
    assert sorted(first.register.references(MSN)) == ["from-first", "from-second"]
    seen = first.register.get(MSN, "from-first")
    assert seen is not None
    assert seen.payment == payment("from-first")


def test_a_change_reads_and_writes_one_row_in_one_transaction(store: PaymentStore) -> None:
    # What a received webhook does: the row is read, the new snapshot written, in one transaction.
    store.register.add(MSN, [NewEntry("ref-00001", created_at=T0)])
    store.register.save_fetch_error(MSN, "ref-00001", "network down")
    created = event("ref-00001", EventName.CREATED)
    later = PaymentEvent(
        "ref-00001", "psp-1", EventName.AUTHORIZED, nok(10000), T0 + timedelta(hours=1), None, True
    )
    seen: list[TrackedPayment | None] = []

    def authorize(before: TrackedPayment | None) -> tuple[Payment | None, list[PaymentEvent]]:
        seen.append(before)
        return payment("ref-00001"), [created, later]

    at = T0 + timedelta(hours=2)
    after, written = store.register.change(MSN, "ref-00001", authorize, at=at, source="webhook")
    assert written
    (before,) = seen
    assert before is not None
    assert (before.events, before.fetch_error) == (None, "network down")
    assert after is not None
    assert (after.payment, after.events, after.fetched_at, after.fetch_error) == (
        payment("ref-00001"),
        (created, later),
        at,
        "",
    )
    assert store.register.get(MSN, "ref-00001") == after
    assert store.register.all(MSN)[0].last_event_at == later.timestamp

    # Nothing to write leaves the row as it is; the row is handed over with its log.
    same, written = store.register.change(MSN, "ref-00001", lambda before: None, at=at, source="webhook")
    assert not written
    assert same == after

    # An event on a payment not tracked yet tracks it, with only its log when no payment is known.
    other = event("ref-00002", EventName.CREATED)
    added, written = store.register.change(
        MSN, "ref-00002", lambda before: (None, [other]), at=at, source="webhook"
    )
    assert written
    assert added is not None
    assert (added.payment, added.events, added.fetched_at) == (None, (other,), None)
    assert store.register.references(MSN) == ["ref-00002", "ref-00001"]


def test_change_marks_say_when_each_row_was_fetched_and_how_long_its_log_is(store: PaymentStore) -> None:
    store.register.add(MSN, [NewEntry("ref-00001"), NewEntry("ref-00002")])
    store.register.add("999999", [NewEntry("ref-00003")])
    events = [event("ref-00001", EventName.CREATED), event("ref-00001", EventName.AUTHORIZED)]
    saved = store.register.save_snapshot(MSN, payment("ref-00001"), events, fetched_at=T0)
    assert saved.fetched_at is not None
    assert store.register.change_marks(MSN) == {
        "ref-00001": (saved.fetched_at.isoformat(), 2),
        "ref-00002": (None, 0),
    }


# -- journal ----------------------------------------------------------------------------------------


def test_journal_intent_lifecycle_and_audit_lines(store: PaymentStore) -> None:
    intent = begin(store, key="key-abc", now=T0, audit_detail="asked in the window")
    assert intent.status is IntentStatus.PENDING
    assert intent.amount == nok(10000)
    assert intent.created_at == T0
    assert intent.attempts == 0
    assert store.journal.get(intent.id) == intent
    assert [i.id for i in store.journal.pending(profile="Demo", msn=MSN)] == [intent.id]
    assert store.journal.pending(profile="Other") == []
    assert store.journal.note_attempt(intent.id) == 1
    assert store.journal.note_attempt(intent.id) == 2

    done = store.journal.finish(
        intent.id, IntentStatus.SUCCEEDED, "released 100.00 NOK", os_user="ola", now=T0 + timedelta(seconds=3)
    )
    assert done.status is IntentStatus.SUCCEEDED
    assert done.outcome == "released 100.00 NOK"
    assert done.attempts == 2
    assert done.finished_at == T0 + timedelta(seconds=3)
    # A second desk finishing the same intent changes nothing and writes no second audit line.
    again = store.journal.finish(intent.id, IntentStatus.FAILED, "late", os_user="per")
    assert again.status is IntentStatus.SUCCEEDED
    assert again.outcome == "released 100.00 NOK"
    assert store.journal.pending() == []

    lines = store.audit.entries()
    assert [(e.action, e.result, e.os_user) for e in lines] == [
        ("cancel", "succeeded", "ola"),
        ("cancel", "requested", "kari"),
    ]
    assert all(e.idempotency_key == "key-abc" for e in lines)
    assert all(e.amount == nok(10000) and e.reference == "ref-00001" for e in lines)
    assert all(e.profile == "Demo" and e.merchant_serial_number == MSN for e in lines)
    assert lines[1].at == T0
    assert lines[1].detail == "asked in the window"
    assert lines[0].at == T0 + timedelta(seconds=3)
    assert lines[0].detail == "released 100.00 NOK"


def test_a_confirmed_outcome_replaces_a_failed_one_and_the_audit_keeps_both(store: PaymentStore) -> None:
    intent = begin(store)
    store.journal.finish(intent.id, IntentStatus.FAILED, "abandoned in another window", os_user="ola")
    # A failure does not replace a failure.
    kept = store.journal.finish(intent.id, IntentStatus.FAILED, "again", os_user="ola")
    assert kept.outcome == "abandoned in another window"
    settled = store.journal.finish(
        intent.id, IntentStatus.RECONCILED, "the event log says cancelled", os_user="kari"
    )
    assert settled.status is IntentStatus.RECONCILED
    # Once confirmed, nothing replaces it.
    assert store.journal.finish(intent.id, IntentStatus.SUCCEEDED, "x", os_user="kari").status is (
        IntentStatus.RECONCILED
    )
    assert [e.result for e in store.audit.entries()] == ["reconciled", "failed", "requested"]


def test_an_outcome_is_never_pending_and_an_unknown_intent_is_an_error(store: PaymentStore) -> None:
    intent = begin(store)
    with pytest.raises(ValueError, match="pending"):
        store.journal.finish(intent.id, IntentStatus.PENDING, "", os_user="kari")
    with pytest.raises(ValueError, match="no intent"):
        store.journal.finish(intent.id + 1000, IntentStatus.SUCCEEDED, "", os_user="kari")
    with pytest.raises(ValueError, match="no intent"):
        store.journal.note_attempt(intent.id + 1000)
    assert store.journal.get(intent.id + 1000) is None
    assert [i.status for i in store.journal.all()] == [IntentStatus.PENDING]


def test_one_pending_intent_per_payment_whatever_the_profile(store: PaymentStore) -> None:
    first = begin(store, key="key-1")
    with pytest.raises(IntentPendingError) as caught:
        begin(store, key="key-2", operation=Operation.CAPTURE, profile="Other", amount=nok(500))
    assert caught.value.intent == first
    assert [i.idempotency_key for i in store.journal.all()] == ["key-1"]
    assert [e.idempotency_key for e in store.audit.entries()] == ["key-1"]
    # Another payment, or the same reference under another serial number, is free.
    begin(store, reference="ref-00002", key="key-3")
    begin(store, msn="223344", key="key-4")
    # Once the first has an outcome, the payment is free again.
    store.journal.finish(first.id, IntentStatus.FAILED, "refused", os_user="kari")
    second = begin(store, key="key-5", operation=Operation.REFUND)
    assert second.operation is Operation.REFUND
    assert {i.idempotency_key for i in store.journal.pending(msn=MSN)} == {"key-3", "key-5"}
    assert [i.idempotency_key for i in store.journal.pending(reference="ref-00002")] == ["key-3"]


def test_a_key_names_one_operation(store: PaymentStore) -> None:
    first = begin(store, key="same-key", operation=Operation.CAPTURE, amount=nok(500))
    store.journal.finish(first.id, IntentStatus.FAILED, "refused", os_user="kari", now=T0)
    # Another operation, amount or payment with that key: refused, nothing written.
    for other in (
        {"amount": nok(400)},
        {"operation": Operation.REFUND},
        {"reference": "ref-00002"},
        {"profile": "Other"},
    ):
        with pytest.raises(IdempotencyKeyUsedError, match="same-key") as caught:
            begin(store, key="same-key", **({"operation": Operation.CAPTURE, "amount": nok(500)} | other))
        assert caught.value.intent.id == first.id
    assert len(store.audit.entries()) == 2  # requested + failed: nothing of the refused ones
    # The same operation again with its key (the API asked for a retry with the same key): the refused
    # intent is reopened, not duplicated, and the audit says who asked again.
    again = begin(store, key="same-key", operation=Operation.CAPTURE, amount=nok(500), os_user="ola", now=T0)
    assert again.id == first.id
    assert again.status is IntentStatus.PENDING
    assert again.outcome == ""
    assert again.finished_at is None
    assert again.os_user == "kari"  # who first asked stays
    assert len(store.journal.all()) == 1
    assert [i.id for i in store.journal.pending()] == [first.id]
    latest = store.audit.entries()[0]
    assert (latest.result, latest.os_user, latest.detail) == (
        "requested",
        "ola",
        "again, with the same idempotency key",
    )
    assert latest.at == T0
    store.journal.finish(again.id, IntentStatus.SUCCEEDED, "confirmed", os_user="ola")
    # A key whose operation went through is never begun again.
    with pytest.raises(IdempotencyKeyUsedError, match="succeeded"):
        begin(store, key="same-key", operation=Operation.CAPTURE, amount=nok(500))
    assert [e.result for e in store.audit.entries()] == ["succeeded", "requested", "failed", "requested"]


def test_a_reopened_intent_still_holds_its_payment_alone(store: PaymentStore) -> None:
    first = begin(store, key="key-1")
    store.journal.finish(first.id, IntentStatus.FAILED, "refused", os_user="kari")
    other = begin(store, key="key-2")
    # The payment is held by the second intent: the first cannot be reopened meanwhile.
    with pytest.raises(IntentPendingError) as caught:
        begin(store, key="key-1")
    assert caught.value.intent.id == other.id
    store.journal.finish(other.id, IntentStatus.FAILED, "refused", os_user="kari")
    assert begin(store, key="key-1").id == first.id


def test_a_pending_intent_knows_when_its_last_attempt_was_sent(store: PaymentStore) -> None:
    # Another desk or instance tells an attempt that may still be on the wire from one surely ended.
    intent = begin(store, now=T0)
    assert intent.last_attempt_at is None
    store.journal.note_attempt(intent.id, now=T0 + timedelta(seconds=5))
    store.journal.note_attempt(intent.id, now=T0 + timedelta(seconds=40))
    sent = store.journal.get(intent.id)
    assert sent is not None
    assert (sent.attempts, sent.last_attempt_at) == (2, T0 + timedelta(seconds=40))
    assert [i.last_attempt_at for i in store.journal.pending()] == [T0 + timedelta(seconds=40)]
    done = store.journal.finish(intent.id, IntentStatus.SUCCEEDED, "captured", os_user="ola")
    assert (done.outcome, done.last_attempt_at) == ("captured", None)
    # Noting an attempt writes no audit line: only the request and the outcome are there.
    assert [e.result for e in store.audit.entries()] == ["succeeded", "requested"]


def test_a_finished_intent_cannot_be_sent_again(store: PaymentStore) -> None:
    intent = begin(store)
    store.journal.note_attempt(intent.id)
    store.journal.finish(intent.id, IntentStatus.FAILED, "abandoned", os_user="ola")
    with pytest.raises(IntentFinishedError) as caught:
        store.journal.note_attempt(intent.id)
    assert caught.value.intent.status is IntentStatus.FAILED
    got = store.journal.get(intent.id)
    assert got is not None
    assert got.attempts == 1


def test_confirmed_moves_since_a_moment_newest_first(store: PaymentStore) -> None:
    def done(key: str, status: IntentStatus, at: datetime, **changes: Any) -> None:
        intent = begin(store, key=key, operation=Operation.CAPTURE, amount=nok(500), now=at, **changes)
        store.journal.finish(intent.id, status, "outcome", os_user="kari", now=at)

    done("k-old", IntentStatus.SUCCEEDED, T0 - timedelta(hours=1))
    done("k-first", IntentStatus.SUCCEEDED, T0 + timedelta(minutes=1))
    done("k-refused", IntentStatus.FAILED, T0 + timedelta(minutes=2))
    done("k-settled", IntentStatus.RECONCILED, T0 + timedelta(minutes=3))
    done("k-other-desk", IntentStatus.SUCCEEDED, T0 + timedelta(minutes=4), profile="Other")
    done("k-other-payment", IntentStatus.SUCCEEDED, T0 + timedelta(minutes=5), reference="ref-00002")
    refund = begin(store, key="k-refund", operation=Operation.REFUND, amount=nok(500))
    store.journal.finish(refund.id, IntentStatus.SUCCEEDED, "refunded", os_user="kari", now=T0)

    def keys(since: datetime, operation: Operation = Operation.CAPTURE) -> list[str]:
        found = store.journal.confirmed_since(
            profile="Demo", msn=MSN, reference="ref-00001", operation=operation, since=since
        )
        return [i.idempotency_key for i in found]

    assert keys(T0) == ["k-settled", "k-first"]
    assert keys(T0 + timedelta(minutes=1)) == ["k-settled", "k-first"]  # at the moment counts
    assert keys(T0 + timedelta(minutes=3, seconds=1)) == []
    assert keys(T0 - timedelta(days=1), Operation.REFUND) == ["k-refund"]


def test_zero_and_no_amount_are_kept_apart(store: PaymentStore) -> None:
    zero = begin(store, key="key-zero", amount=Money(0, Currency.DKK))
    none = begin(store, reference="ref-00002", key="key-none", amount=None)
    assert store.journal.get(zero.id) == zero
    assert zero.amount == Money(0, Currency.DKK)
    assert store.journal.get(none.id) == none
    assert none.amount is None
    assert {e.idempotency_key: e.amount for e in store.audit.entries()} == {
        "key-zero": Money(0, Currency.DKK),
        "key-none": None,
    }


def test_the_journal_lists_newest_first_with_a_limit(store: PaymentStore) -> None:
    for n in range(5):
        begin(store, reference=f"ref-{n:05d}", key=f"key-{n}")
    assert [i.idempotency_key for i in store.journal.all()] == [f"key-{n}" for n in (4, 3, 2, 1, 0)]
    assert [i.idempotency_key for i in store.journal.all(limit=2)] == ["key-4", "key-3"]
    assert [i.idempotency_key for i in store.journal.pending()] == [f"key-{n}" for n in range(5)]


def test_confirmed_since_lists_the_confirmed_intents_of_one_operation_on_one_payment(
    store: PaymentStore,
) -> None:
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    first = begin(store, key="key-1", operation=Operation.CAPTURE, now=start)
    store.journal.finish(first.id, IntentStatus.SUCCEEDED, "captured", os_user="kari", now=start)
    second = begin(store, key="key-2", operation=Operation.CAPTURE, now=start + timedelta(minutes=5))
    store.journal.finish(
        second.id, IntentStatus.RECONCILED, "captured", os_user="ola", now=start + timedelta(minutes=5)
    )
    refused = begin(store, key="key-3", operation=Operation.CAPTURE, now=start + timedelta(minutes=6))
    store.journal.finish(refused.id, IntentStatus.FAILED, "refused", os_user="kari")
    begin(store, key="key-4", reference="ref-00002", operation=Operation.CAPTURE)

    def since(minutes: int, operation: Operation = Operation.CAPTURE) -> list[str]:
        found = store.journal.confirmed_since(
            profile="Demo",
            msn=MSN,
            reference="ref-00001",
            operation=operation,
            since=start + timedelta(minutes=minutes),
        )
        return [i.idempotency_key for i in found]

    assert since(0) == ["key-2", "key-1"]
    assert since(1) == ["key-2"]
    assert since(10) == []
    assert since(0, Operation.REFUND) == []


# -- audit ------------------------------------------------------------------------------------------


def test_audit_lines_newest_first_with_limit_and_offset(store: PaymentStore) -> None:
    ids = [
        store.audit.record(
            os_user="kari", profile="Demo", msn=MSN, action="add", result="ok", reference=f"r-{n}"
        )
        for n in range(4)
    ]
    assert ids == sorted(ids)
    assert len(set(ids)) == 4
    assert [e.reference for e in store.audit.entries()] == ["r-3", "r-2", "r-1", "r-0"]
    assert [e.reference for e in store.audit.entries(limit=2, offset=1)] == ["r-2", "r-1"]
    assert [e.id for e in store.audit.entries()] == ids[::-1]


def test_audit_lines_of_one_merchant_or_payment_page_by_page(store: PaymentStore) -> None:
    def add(msn: str, reference: str, who: str = "kari") -> int:
        return store.audit.record(
            os_user=who, profile="Demo", msn=msn, action="add", result="ok", reference=reference
        )

    mine = [add(MSN, "a"), add(MSN, "b"), add(MSN, "a")]
    other = add("999999", "a")
    unattached = add("", "", who="ola")  # a team's login: of no merchant
    assert [e.id for e in store.audit.entries(msn=MSN)] == mine[::-1]
    assert [e.id for e in store.audit.entries(msn=MSN, reference="a")] == [mine[2], mine[0]]
    assert [e.id for e in store.audit.entries(msn=MSN, with_unattached=True)] == [unattached, *mine[::-1]]
    assert [e.id for e in store.audit.entries(msn=MSN, limit=2, before=mine[2])] == [mine[1], mine[0]]
    assert [e.id for e in store.audit.entries(reference="a")] == [other, mine[2], mine[0]]


def test_audit_csv_export(store: PaymentStore, tmp_path: Path) -> None:
    store.audit.record(
        os_user="kari",
        profile="Demo",
        msn=MSN,
        action="add",
        result="ok",
        reference="ref-00001",
        detail="=2+2",
    )
    store.audit.record(
        os_user="kari",
        profile="Demo",
        msn=MSN,
        action="create",
        result="ok",
        reference="ref-00002",
        amount=nok(12345),
        detail='Kaffe, stor; ekstra "skum"',
        now=T0,
    )
    target = tmp_path / "audit.csv"
    assert store.audit.export_csv(target) == 2
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["reference"] for r in rows] == ["ref-00001", "ref-00002"]
    assert rows[0]["detail"] == "'=2+2"  # a spreadsheet must not run it
    assert rows[1]["amount"] == "123.45"
    assert rows[1]["currency"] == "NOK"
    assert rows[1]["detail"] == 'Kaffe, stor; ekstra "skum"'
    assert datetime.fromisoformat(rows[1]["time_utc"]) == T0
    assert not (tmp_path / "audit.csv.tmp").exists()


@pytest.mark.parametrize("formula", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", " =1", "\uff1d1", "\r=1"])
def test_audit_csv_escapes_every_formula_like_cell(store: PaymentStore, tmp_path: Path, formula: str) -> None:
    store.audit.record(
        os_user=formula,
        profile=formula,
        msn=MSN,
        action=formula,
        result=formula,
        reference=formula,
        amount=nok(500),
        detail=formula,
        idempotency_key=formula,
    )
    target = tmp_path / "audit.csv"
    store.audit.export_csv(target)
    with target.open(encoding="utf-8-sig", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    for column in ("os_user", "profile", "action", "reference", "result", "detail", "idempotency_key"):
        assert row[column] == "'" + formula, column
    assert row["amount"] == "5.00"
    assert row["merchant_serial_number"] == MSN


def test_settings_are_kept(open_store: OpenStore) -> None:
    store = open_store()
    assert store.db.get_meta("demo-seeded") is None
    store.db.set_meta("demo-seeded", "1")
    store.db.set_meta("demo-seeded", "2")
    assert open_store().db.get_meta("demo-seeded") == "2"
    assert store.db.read_only is False


# -- concurrency ------------------------------------------------------------------------------------


def _race(workers: list[Callable[[], Intent]]) -> tuple[list[Intent], list[IntentPendingError]]:
    """Run ``workers`` at the same moment (a barrier), each on its own thread."""
    barrier = threading.Barrier(len(workers))

    def start(work: Callable[[], Intent]) -> Intent | IntentPendingError:
        barrier.wait(timeout=30)
        try:
            return work()
        except IntentPendingError as refused:
            return refused

    with ThreadPoolExecutor(max_workers=len(workers)) as pool:
        results = list(pool.map(start, workers))
    won = [r for r in results if isinstance(r, Intent)]
    lost = [r for r in results if isinstance(r, IntentPendingError)]
    assert len(won) + len(lost) == len(workers)
    return won, lost


def test_two_connections_racing_to_begin_on_one_payment_one_wins(open_store: OpenStore) -> None:
    first, second = open_store(), open_store()
    for round_ in range(8):
        reference = f"race-{round_:04d}"
        won, lost = _race(
            [
                partial(begin, first, reference=reference, key=f"{reference}-a", os_user="kari"),
                partial(begin, second, reference=reference, key=f"{reference}-b", os_user="ola"),
            ]
        )
        assert len(won) == 1, reference
        assert len(lost) == 1, reference
        # The one refused is told which intent holds the payment.
        assert lost[0].intent.id == won[0].id
        assert lost[0].intent.idempotency_key == won[0].idempotency_key
        assert [i.id for i in first.journal.pending(reference=reference)] == [won[0].id]
    requested = [e for e in second.audit.entries() if e.result == "requested"]
    assert len(requested) == 8  # the losers left no trace but their refusal


def test_many_threads_on_one_store_racing_for_one_payment_one_wins(open_store: OpenStore) -> None:
    shared = open_store()
    won, lost = _race([partial(begin, shared, key=f"key-{n}") for n in range(6)])
    assert len(won) == 1
    assert {refused.intent.id for refused in lost} == {won[0].id}
    assert len(shared.journal.all()) == 1


def test_racing_refreshes_keep_the_newest_read(open_store: OpenStore) -> None:
    first, second = open_store(), open_store()
    first.register.add(MSN, [NewEntry("ref-00001")])
    newest = payment("ref-00001", cancelled=10000)
    barrier = threading.Barrier(2)

    def save(store: PaymentStore, snapshot: Payment, at: datetime) -> None:
        barrier.wait(timeout=30)
        for step in range(20):
            store.register.save_snapshot(MSN, snapshot, [], fetched_at=at - timedelta(seconds=20 - step))

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = [
            pool.submit(save, first, payment("ref-00001"), T0),
            pool.submit(save, second, newest, T0 + timedelta(seconds=1)),
        ]
        for future in done:
            future.result()
    kept = first.register.get(MSN, "ref-00001")
    assert kept is not None
    assert kept.payment == newest
    assert kept.fetched_at == T0


def test_the_repeat_check_is_part_of_beginning(store: PaymentStore) -> None:
    """With ``repeat_since``, the same capture (payment, profile, amount) confirmed since then is
    refused in the very transaction that would write the intent; another amount, a cancel, or an
    older success is not."""
    first = begin(store, operation=Operation.CAPTURE, amount=nok(2500), key="rep-1")
    store.journal.note_attempt(first.id)
    store.journal.finish(first.id, IntentStatus.SUCCEEDED, "Captured", os_user="kari", now=T0)
    with pytest.raises(RecentlyConfirmedError) as refused:
        begin(store, operation=Operation.CAPTURE, amount=nok(2500), key="rep-2", repeat_since=T0)
    assert refused.value.intent.id == first.id
    assert store.journal.pending() == []
    other = begin(store, operation=Operation.CAPTURE, amount=nok(1000), key="rep-3", repeat_since=T0)
    store.journal.finish(other.id, IntentStatus.FAILED, "Refused", os_user="kari", now=T0)
    later = T0 + timedelta(seconds=1)
    again = begin(store, operation=Operation.CAPTURE, amount=nok(2500), key="rep-4", repeat_since=later)
    assert again.status is IntentStatus.PENDING


# -- a cancel's audit lines say what it cancels -------------------------------------------------------


def cancel(store: PaymentStore, reference: str, key: str) -> Intent:
    return store.journal.begin(
        operation=Operation.CANCEL,
        profile="Desk",
        msn=MSN,
        reference=reference,
        amount=None,
        idempotency_key=key,
        os_user="kari",
    )


def cancel_lines(store: PaymentStore, reference: str) -> list[tuple[str, Money | None]]:
    return [(e.result, e.amount) for e in reversed(store.audit.entries(msn=MSN, reference=reference))]


def test_a_cancels_audit_lines_carry_what_was_left_to_release_when_it_was_asked(store: PaymentStore) -> None:
    from tests.ui.factories import payment

    # 100.00 reserved, 25.00 captured: a cancel releases the 75.00 left.
    store.register.save_snapshot(MSN, payment("ref-partly", 10_000, captured=2_500), [])
    intent = cancel(store, "ref-partly", "key-partly")
    store.journal.finish(intent.id, IntentStatus.SUCCEEDED, "Cancelled", os_user="kari")
    # The snapshot after the cancel (nothing left) does not change what the lines say.
    store.register.save_snapshot(MSN, payment("ref-partly", 10_000, captured=2_500, cancelled=7_500), [])
    seventy_five = Money(7_500, Currency.NOK)
    assert cancel_lines(store, "ref-partly") == [("requested", seventy_five), ("succeeded", seventy_five)]

    # A refused cancel, asked again with its key later: each request says what was left then.
    store.register.save_snapshot(MSN, payment("ref-whole", 4_900), [])
    refused = cancel(store, "ref-whole", "key-whole")
    store.journal.finish(refused.id, IntentStatus.FAILED, "Refused", os_user="kari")
    store.register.save_snapshot(MSN, payment("ref-whole", 4_900, captured=900), [])
    again = cancel(store, "ref-whole", "key-whole")
    assert again.id == refused.id
    whole, rest = Money(4_900, Currency.NOK), Money(4_000, Currency.NOK)
    assert cancel_lines(store, "ref-whole") == [("requested", whole), ("failed", whole), ("requested", rest)]


def test_a_cancel_of_a_payment_never_read_has_no_amount_in_its_audit_lines(store: PaymentStore) -> None:
    store.register.add(MSN, [NewEntry("ref-unread")])
    intent = cancel(store, "ref-unread", "key-unread")
    store.journal.finish(intent.id, IntentStatus.SUCCEEDED, "Cancelled", os_user="kari")
    assert cancel_lines(store, "ref-unread") == [("requested", None), ("succeeded", None)]
