from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from epay_desktop.domain import (
    Aggregate,
    Currency,
    EventName,
    Money,
    Payment,
    PaymentEvent,
    State,
)
from epay_desktop.store import (
    IdempotencyKeyUsedError,
    IntentStatus,
    NewEntry,
    Operation,
    RegisterError,
    Store,
)

MSN = "123456"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def nok(value: int) -> Money:
    return Money(value, Currency.NOK)


def payment(reference: str, state: State = State.AUTHORIZED, cancelled: int = 0) -> Payment:
    return Payment(
        reference=reference,
        amount=nok(10000),
        state=state,
        aggregate=Aggregate(nok(10000), nok(0), nok(cancelled), nok(0)),
        psp_reference="psp-1",
    )


def event(reference: str, name: EventName, key: str | None = None) -> PaymentEvent:
    return PaymentEvent(reference, "psp", name, nok(10000), T0, key, True)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "register.sqlite3") as s:
        yield s


def test_adding_reports_new_and_already_tracked(store: Store) -> None:
    added, existing = store.register.add(MSN, [NewEntry("ref-00001"), NewEntry("ref-00002")])
    assert (added, existing) == (["ref-00001", "ref-00002"], [])
    added, existing = store.register.add(MSN, [NewEntry("ref-00002"), NewEntry("ref-00003")])
    assert (added, existing) == (["ref-00003"], ["ref-00002"])
    # The same reference under another serial number is another payment.
    assert store.register.add("223344", [NewEntry("ref-00001")]) == (["ref-00001"], [])
    assert store.register.count(MSN) == 3
    assert store.register.count() == 4


def test_the_list_is_newest_first_and_keeps_what_the_api_does_not_return(store: Store) -> None:
    store.register.add(
        MSN,
        [
            NewEntry("older-0001", description="Latte", created_at=T0),
            NewEntry("newer-0001", description="Bolle", created_at=T0 + timedelta(hours=1)),
        ],
    )
    tracked = store.register.all(MSN)
    assert [t.reference for t in tracked] == ["newer-0001", "older-0001"]
    assert tracked[0].description == "Bolle"
    assert tracked[0].created_at == T0 + timedelta(hours=1)
    assert tracked[0].payment is None
    assert tracked[0].fetched_at is None


def test_snapshots_are_saved_and_a_failed_fetch_keeps_the_old_one(store: Store) -> None:
    store.register.add(MSN, [NewEntry("ref-00001", description="Latte")])
    events = [event("ref-00001", EventName.CREATED), event("ref-00001", EventName.AUTHORIZED)]
    saved = store.register.save_snapshot(MSN, payment("ref-00001"), events, fetched_at=T0)
    assert saved.payment == payment("ref-00001")
    assert saved.events == tuple(events)
    assert saved.fetched_at == T0
    assert saved.description == "Latte"

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


def test_an_older_read_that_answers_late_does_not_overwrite_a_newer_snapshot(store: Store) -> None:
    """Two refreshes of one payment: the one asked later (after a cancel) is saved first; the answer
    to the one asked earlier arrives last and must not bring the old figures back."""
    store.register.add(MSN, [NewEntry("ref-00001")])
    newer = payment("ref-00001", cancelled=10000)
    store.register.save_snapshot(MSN, newer, [], fetched_at=T0 + timedelta(seconds=2))
    kept = store.register.save_snapshot(MSN, payment("ref-00001"), [], fetched_at=T0)
    assert kept.payment == newer
    assert kept.fetched_at == T0 + timedelta(seconds=2)
    assert store.register.get(MSN, "ref-00001").payment == newer  # type: ignore[union-attr]


def test_saving_a_snapshot_of_an_untracked_payment_tracks_it(store: Store) -> None:
    store.register.save_snapshot(MSN, payment("surprise-1"), [])
    assert store.register.contains(MSN, "surprise-1")


def test_an_unreadable_snapshot_shows_as_not_fetched_instead_of_crashing(store: Store) -> None:
    store.register.add(MSN, [NewEntry("ref-00001"), NewEntry("ref-00002")])
    store.register.save_snapshot(MSN, payment("ref-00001"), [])
    store.db.write(
        "test",
        lambda c: c.execute("UPDATE payments SET payment_json = '{broken' WHERE reference = 'ref-00001'"),
    )
    by_ref = {t.reference: t for t in store.register.all(MSN)}
    assert by_ref["ref-00001"].payment is None
    assert "could not be read" in by_ref["ref-00001"].fetch_error
    assert by_ref["ref-00002"].payment is None


def test_the_list_reads_no_event_log_but_knows_the_newest_events_time(store: Store) -> None:
    store.register.add(MSN, [NewEntry("ref-00001", created_at=T0), NewEntry("ref-00002", created_at=T0)])
    later = T0 + timedelta(minutes=5)
    events = [
        PaymentEvent("ref-00001", "psp", EventName.AUTHORIZED, nok(10000), later, None, True),
        event("ref-00001", EventName.CREATED),
        PaymentEvent("ref-00001", "psp", EventName.CAPTURED, nok(100), None, "k", True),
    ]
    store.register.save_snapshot(MSN, payment("ref-00001"), events)
    store.register.save_snapshot(MSN, payment("ref-00002"), [])
    by_ref = {t.reference: t for t in store.register.all(MSN)}
    listed = by_ref["ref-00001"]
    assert listed.events is None  # not loaded
    assert listed.payment == payment("ref-00001")
    assert listed.last_event_at == later
    assert listed.updated_at == later
    assert by_ref["ref-00002"].events is None
    assert by_ref["ref-00002"].updated_at == T0  # no events: when it was created

    assert store.register.events_of(MSN, "ref-00001") == tuple(events)
    assert store.register.events_of(MSN, "ref-00002") == ()  # known and empty
    full = store.register.get(MSN, "ref-00001")
    assert full is not None
    assert full.events == tuple(events)
    assert full.last_event_at == later


def test_an_event_log_never_fetched_is_none(store: Store) -> None:
    store.register.add(MSN, [NewEntry("ref-00001")])
    assert store.register.events_of(MSN, "ref-00001") is None
    assert store.register.events_of(MSN, "not-tracked-1") is None
    tracked = store.register.get(MSN, "ref-00001")
    assert tracked is not None
    assert tracked.events is None


@pytest.mark.parametrize(
    "damage",
    ["{broken", '"just text"', '{"an": "object"}', '[1, "two", {"timestamp": 5}, {"timestamp": "soon"}]'],
)
def test_a_damaged_event_log_still_lists_and_says_so_when_read(store: Store, damage: str) -> None:
    from epay_desktop.store import SnapshotError

    store.register.add(MSN, [NewEntry("ref-00001", created_at=T0), NewEntry("ref-00002")])
    store.register.save_snapshot(MSN, payment("ref-00001"), [event("ref-00001", EventName.CREATED)])
    store.db.write(
        "test",
        lambda c: c.execute("UPDATE payments SET events_json = ? WHERE reference = 'ref-00001'", (damage,)),
    )
    by_ref = {t.reference: t for t in store.register.all(MSN)}
    assert by_ref["ref-00001"].payment == payment("ref-00001")
    assert by_ref["ref-00001"].updated_at == T0
    with pytest.raises(SnapshotError):
        store.register.events_of(MSN, "ref-00001")


def test_two_connections_on_one_register_stay_consistent(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    with Store(path) as first, Store(path) as second:
        first.register.add(MSN, [NewEntry("from-first")])
        second.register.add(MSN, [NewEntry("from-second"), NewEntry("from-first")])
        second.register.save_snapshot(MSN, payment("from-first"), [])
        assert sorted(first.register.references(MSN)) == ["from-first", "from-second"]
        seen = first.register.get(MSN, "from-first")
        assert seen is not None
        assert seen.payment == payment("from-first")


def test_journal_intent_lifecycle_and_audit_lines(store: Store) -> None:
    intent = store.journal.begin(
        operation=Operation.CANCEL,
        profile="Demo",
        msn=MSN,
        reference="ref-00001",
        amount=nok(10000),
        idempotency_key="key-abc",
        os_user="kari",
        now=T0,
    )
    assert intent.status is IntentStatus.PENDING
    assert intent.amount == nok(10000)
    assert [i.id for i in store.journal.pending(profile="Demo", msn=MSN)] == [intent.id]
    assert store.journal.pending(profile="Other") == []
    store.journal.note_attempt(intent.id)

    done = store.journal.finish(intent.id, IntentStatus.SUCCEEDED, "released 100.00 NOK", os_user="kari")
    assert done.status is IntentStatus.SUCCEEDED
    assert done.attempts == 1
    assert done.finished_at is not None
    # A second desk finishing the same intent changes nothing and writes no second audit line.
    again = store.journal.finish(intent.id, IntentStatus.FAILED, "late", os_user="ola")
    assert again.status is IntentStatus.SUCCEEDED
    assert store.journal.pending() == []

    lines = store.audit.entries()
    assert [(e.action, e.result) for e in lines] == [("cancel", "succeeded"), ("cancel", "requested")]
    assert lines[0].idempotency_key == "key-abc"
    assert lines[1].os_user == "kari"
    assert lines[1].at == T0


def test_a_key_names_one_operation(store: Store) -> None:
    kwargs = {
        "operation": Operation.CAPTURE,
        "profile": "Demo",
        "msn": MSN,
        "reference": "ref-00001",
        "amount": nok(500),
        "idempotency_key": "same-key",
        "os_user": "kari",
    }
    first = store.journal.begin(**kwargs)  # type: ignore[arg-type]
    store.journal.finish(first.id, IntentStatus.FAILED, "refused", os_user="kari")
    # Another operation, or another amount, with that key: refused, nothing written.
    for other in ({"amount": nok(400)}, {"operation": Operation.REFUND}, {"reference": "ref-00002"}):
        with pytest.raises(IdempotencyKeyUsedError, match="same-key"):
            store.journal.begin(**(kwargs | other))  # type: ignore[arg-type]
    # The same operation again with its key (the API asked for a retry with the same key, e.g. 6280
    # "Capture failed, please try again later"): the refused intent is reopened, not duplicated.
    again = store.journal.begin(**kwargs)  # type: ignore[arg-type]
    assert again.id == first.id
    assert again.status is IntentStatus.PENDING
    assert len(store.journal.all()) == 1
    store.journal.finish(again.id, IntentStatus.SUCCEEDED, "confirmed", os_user="kari")
    # A key whose operation went through is never begun again.
    with pytest.raises(IdempotencyKeyUsedError, match="succeeded"):
        store.journal.begin(**kwargs)  # type: ignore[arg-type]


def test_audit_csv_export(store: Store, tmp_path: Path) -> None:
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
    )
    target = tmp_path / "audit.csv"
    assert store.audit.export_csv(target) == 2
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["reference"] for r in rows] == ["ref-00001", "ref-00002"]
    assert rows[0]["detail"] == "'=2+2"  # a spreadsheet must not run it
    assert rows[1]["amount"] == "123.45"
    assert rows[1]["currency"] == "NOK"
    assert rows[1]["detail"] == 'Kaffe, stor; ekstra "skum"'
    assert not (tmp_path / "audit.csv.tmp").exists()


def test_the_journal_write_is_durable(store: Store) -> None:
    # The intent is committed with synchronous=FULL and the connection is back to NORMAL afterwards.
    seen: list[int] = []

    def spy(conn: sqlite3.Connection) -> None:
        seen.append(conn.execute("PRAGMA synchronous").fetchone()[0])

    store.db.write("spy", spy, durable=True)
    store.db.write("spy", spy)
    assert seen == [2, 1]  # FULL, NORMAL


@pytest.mark.parametrize(
    ("column", "bad"),
    [("created_at", "not a date"), ("fetched_at", "2025-13-45"), ("payment_json", "{")],
)
def test_one_bad_cell_skips_and_reports_its_row_not_the_list(store: Store, column: str, bad: str) -> None:
    store.register.add(MSN, [NewEntry(f"good-{n:05d}", created_at=T0) for n in range(3)])
    store.register.add(MSN, [NewEntry("bad-000001", created_at=T0)])
    store.db.write(
        "test",
        lambda c: c.execute(f"UPDATE payments SET {column} = ? WHERE reference = 'bad-000001'", (bad,)),
    )
    tracked = store.register.all(MSN)
    references = [t.reference for t in tracked]
    assert set(references) >= {"good-00000", "good-00001", "good-00002"}
    if "bad-000001" not in references:  # skipped: then it is said which and why
        assert len(store.register.skipped_rows) == 1
        assert "bad-000001" in store.register.skipped_rows[0]
    else:  # kept (an unreadable snapshot is shown as "not fetched", with the reason)
        (bad_row,) = [t for t in tracked if t.reference == "bad-000001"]
        assert bad_row.payment is None
        assert bad_row.fetch_error
    assert store.register.skipped_rows == [] or "bad-000001" not in references


def test_one_bad_cell_in_the_journal_skips_that_entry_not_the_others(store: Store) -> None:
    for n in range(3):
        store.journal.begin(
            operation=Operation.CAPTURE,
            profile="Demo",
            msn=MSN,
            reference=f"pend-{n:05d}",
            amount=nok(100),
            idempotency_key=f"key-{n}",
            os_user="tester",
        )
    store.db.write(
        "test", lambda c: c.execute("UPDATE intents SET currency = 'XYZ' WHERE reference = 'pend-00001'")
    )
    pending = store.journal.pending(profile="Demo")
    assert [i.reference for i in pending] == ["pend-00000", "pend-00002"]
    (skipped,) = store.journal.skipped
    assert "pend-00001" in skipped
    assert "cannot be read" in skipped
    assert len(store.journal.all()) == 2
    # A new operation on the payment whose pending entry cannot be read is refused, with the reason.
    with pytest.raises(RegisterError, match=r"pend-00001.*nothing was sent"):
        store.journal.begin(
            operation=Operation.REFUND,
            profile="Demo",
            msn=MSN,
            reference="pend-00001",
            amount=nok(100),
            idempotency_key="key-new",
            os_user="tester",
        )


@pytest.mark.parametrize("formula", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", " =1", "\uff1d1", "\r=1"])
def test_audit_csv_escapes_every_formula_like_cell(store: Store, tmp_path: Path, formula: str) -> None:
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
