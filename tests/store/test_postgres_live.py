"""The notes of live updates in PostgreSQL (migration 4), on a real throwaway cluster: written by the
triggers whatever client writes, announced on commit (never on rollback), once per change, with who
and why; read back for a desktop that reconnects."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from epay_desktop.domain import Aggregate, Currency, EventName, Money, Payment, PaymentEvent, State
from epay_desktop.store import IntentStatus, NewEntry, Operation
from epay_desktop.store.postgres import PgStore, caused_by
from tests.support.postgres import Cluster

MSN = "123456"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def nok(value: int) -> Money:
    return Money(value, Currency.NOK)


def authorized(reference: str, value: int = 10000) -> Payment:
    return Payment(reference, nok(value), State.AUTHORIZED, Aggregate(nok(value), nok(0), nok(0), nok(0)))


def event(reference: str, name: EventName, psp: str) -> PaymentEvent:
    return PaymentEvent(reference, psp, name, nok(10000), T0, None, True)


@pytest.fixture
def conninfo(postgres_cluster: Cluster) -> str:
    return postgres_cluster.new_schema("live")


@pytest.fixture
def store(conninfo: str) -> Iterator[PgStore]:
    with PgStore(conninfo) as opened:
        yield opened


@pytest.fixture
def listener(conninfo: str, store: PgStore) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(store.live.channel())))
        yield conn


def heard(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return [json.loads(n.payload) for n in conn.notifies(timeout=0.5, stop_after=100)]


def notes(store: PgStore) -> list[tuple[str, str, str | None, str | None]]:
    return [
        (n.reference, n.kind, n.agent, n.action)
        for n in store.live.since(0, margin=timedelta(), limit=1000) or []
    ]


def test_each_change_is_noted_once_with_who_and_why_and_a_rewrite_of_the_same_is_not(
    store: PgStore, listener: psycopg.Connection[Any]
) -> None:
    store.register.add(MSN, [NewEntry("ref-00001")])
    with caused_by("refresh"):
        store.register.save_snapshot(MSN, authorized("ref-00001"), [], fetched_at=T0)
        store.register.save_snapshot(MSN, authorized("ref-00001"), [], fetched_at=T0 + timedelta(seconds=1))
    intent = store.journal.begin(
        operation=Operation.CANCEL,
        profile="Team",
        msn=MSN,
        reference="ref-00001",
        amount=None,
        idempotency_key="key-1",
        os_user="kari",
        now=T0,
    )
    store.journal.note_attempt(intent.id)
    store.journal.finish(intent.id, IntentStatus.SUCCEEDED, "cancelled", os_user="kari")
    expected = [
        ("ref-00001", "changed", None, None),
        ("ref-00001", "changed", None, "refresh"),
        ("ref-00001", "working", "kari", "cancel"),
        ("ref-00001", "done", "kari", "cancel"),
    ]
    assert notes(store) == expected
    told = heard(listener)
    assert [(t["reference"], t["kind"], t["agent"], t["action"]) for t in told] == expected
    assert [t["id"] for t in told] == sorted(t["id"] for t in told)
    assert all(datetime.fromisoformat(t["at"]).tzinfo is not None for t in told)


def test_a_change_rolled_back_is_never_announced(
    conninfo: str, store: PgStore, listener: psycopg.Connection[Any]
) -> None:
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "INSERT INTO payments (msn, reference, added_at) VALUES (%s, 'ref-00002', now())", (MSN,)
        )
        conn.rollback()
    assert heard(listener) == []
    assert notes(store) == []


def test_a_webhook_event_for_an_untracked_payment_is_one_note_and_concurrent_ones_both_kept(
    store: PgStore, listener: psycopg.Connection[Any]
) -> None:
    names = [EventName.CREATED, EventName.AUTHORIZED, EventName.CAPTURED, EventName.CANCELLED]
    barrier = threading.Barrier(len(names))

    def deliver(number: int) -> None:
        mine = event("ref-00003", names[number], f"psp-{number}")

        def work(before: Any) -> Any:
            known = (before.events or ()) if before is not None else ()
            return (None, (*known, mine))

        barrier.wait()
        with caused_by("webhook"):
            store.register.change(MSN, "ref-00003", work, at=T0, source="webhook")

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(len(names))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    row = store.register.get(MSN, "ref-00003")
    assert row is not None
    assert row.events is not None
    assert sorted(e.psp_reference for e in row.events) == [f"psp-{n}" for n in range(len(names))]
    assert notes(store) == [("ref-00003", "changed", None, "webhook")] * len(names)
    assert len(heard(listener)) == len(names)


def test_a_note_too_long_to_announce_whole_is_announced_by_its_id(
    conninfo: str, store: PgStore, listener: psycopg.Connection[Any]
) -> None:
    reference = "r" * 7500
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "INSERT INTO payments (msn, reference, added_at) VALUES (%s, %s, now())", (MSN, reference)
        )
    (told,) = heard(listener)
    assert set(told) == {"id"}
    note = store.live.note(told["id"])
    assert note is not None
    assert (note.reference, note.kind) == (reference, "changed")


def test_a_reconnecting_reader_gets_what_it_missed_or_is_told_it_cannot(store: PgStore) -> None:
    store.register.add(MSN, [NewEntry(f"ref-{n:05d}") for n in range(1, 4)])
    store.register.add("999999", [NewEntry("ref-other")])
    first, second, third, other = store.live.since(0, margin=timedelta(), limit=100) or []
    assert other.msn == "999999"
    missed = store.live.since(first.id, msn=MSN, margin=timedelta(), limit=100)
    assert missed == [second, third]
    # Within the margin the ones before are told again: a note that committed late is not missed.
    again = store.live.since(third.id, msn=MSN, margin=timedelta(minutes=1), limit=100)
    assert again == [first, second]
    assert store.live.since(first.id, msn=MSN, margin=timedelta(), limit=1) is None  # too many: reload
    assert store.live.prune(datetime.now(UTC) + timedelta(seconds=1)) == 4
    assert store.live.since(first.id, msn=MSN, margin=timedelta(), limit=100) is None  # forgotten: reload
    assert store.live.newest_id() == 0


def test_the_refresh_takes_what_can_change_longest_waiting_first_and_a_failing_one_waits_its_turn(
    store: PgStore,
) -> None:
    store.register.add(MSN, [NewEntry(f"ref-{n:05d}") for n in range(1, 5)])
    closed = replace(authorized("ref-00004"), state=State.EXPIRED)
    store.register.save_snapshot(MSN, closed, [], fetched_at=T0)
    store.register.save_snapshot(MSN, authorized("ref-00003"), [], fetched_at=T0)
    now = T0 + timedelta(hours=1)
    first = store.register.take_for_refresh(MSN, now, 2, now=now)
    assert first == ["ref-00001", "ref-00002"]  # never read: first; the closed one: never
    later = now + timedelta(seconds=1)
    # Their reads failed (nothing saved): the one read long ago comes before them now.
    assert store.register.take_for_refresh(MSN, later, 1, now=later) == ["ref-00003"]
    assert store.register.take_for_refresh(MSN, now, 10, now=later) == []  # taken up too lately
    assert sorted(store.register.take_for_refresh(MSN, later, 10, now=later)) == ["ref-00001", "ref-00002"]
