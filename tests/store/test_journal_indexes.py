"""The journal's look-ups on one payment use an index, whatever the journal's size: before every money
call it looks for an intent pending on the payment and for the same one confirmed minutes ago, and a
query that walks the whole intents table costs some 30 ms per begin at 100,000 intents. Read from the
query plans SQLite makes for the very statements the register's connection runs, on a real file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from epay_desktop.store import IntentStatus, Store
from tests.support.journal import begin

# The repeat check looks this far back (as the desk's does).
SINCE = datetime.now(UTC) - timedelta(minutes=10)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "register.sqlite3") as opened:
        yield opened


def intent_reads(store: Store, action: object) -> list[str]:
    """The statements reading the intents table (SELECTs, and an INSERT made only when a look-up finds
    nothing) the register's connections ran during ``action()``, with their values bound in."""
    seen: list[str] = []
    watching = [True]

    def saw(statement: str) -> None:
        text = " ".join(statement.split())
        reads = text.upper().startswith(("SELECT", "INSERT INTO INTENTS"))
        if watching[0] and reads and " FROM intents " in f"{text} ":
            seen.append(text)

    store.db.on_each_connection(lambda conn: conn.set_trace_callback(saw))
    try:
        assert callable(action)
        action()
    finally:
        watching[0] = False
    return seen


def plan(path: Path, statement: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}")]
    finally:
        conn.close()


def pending_check_of_the_trigger(path: Path, msn: str, reference: str) -> str:
    """The look-up the trigger ``intents_one_pending_before_v3`` makes before an INSERT, as a SELECT with
    the new row's values in place."""
    conn = sqlite3.connect(path)
    try:
        (sql,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'intents_one_pending_before_v3'"
        ).fetchone()
    finally:
        conn.close()
    text = " ".join(str(sql).split())
    lookup = text[text.index("WHEN EXISTS (") + len("WHEN EXISTS (") : text.index(") BEGIN")]
    return lookup.replace("NEW.msn", f"'{msn}'").replace("NEW.reference", f"'{reference}'")


def test_a_begin_and_a_payments_pending_intents_are_found_through_an_index(store: Store) -> None:
    for n in range(40):
        intent_id = begin(store, f"key-old-{n}", f"order-{n:08d}", repeat_since=SINCE)
        store.journal.finish(intent_id, IntentStatus.SUCCEEDED, "Captured.", os_user="u")
    statements = intent_reads(store, lambda: begin(store, "key-new", "order-new", repeat_since=SINCE))
    statements += intent_reads(store, lambda: store.journal.pending(msn="123456", reference="order-00000007"))
    statements += intent_reads(store, lambda: store.journal.pending())
    # A pending one is found by the unique index that refuses the INSERT, and a pending one schema 3 left
    # out of that index by a trigger.
    statements.append(pending_check_of_the_trigger(store.path, "123456", "order-new"))
    assert any("status = 'pending'" in text and "reference" in text for text in statements)
    assert any("status IN ('succeeded', 'reconciled')" in text for text in statements)
    for text in statements:
        steps = plan(store.path, text)
        assert not any(step.startswith("SCAN intents") and "INDEX" not in step for step in steps), (
            text,
            steps,
        )
