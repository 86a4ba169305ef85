"""The journal's rule and audit lines kept by SQLite itself (schema 8): a second pending intent on a
payment refused by a unique index (and by a trigger beside the rows schema 3 left out of it), and every
audit line of an intent written by triggers. Held to what the journal's Python code wrote and refused
before (schema 7): the lines that code wrote into a real register are in
``data/register-schema-7.sqlite3`` (see data/README.md), and the lines it wrote for the work below were
recorded from it and are written out here. Real SQLite files."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from epay_desktop.domain import Currency, Money
from epay_desktop.store import (
    SCHEMA_VERSION,
    IdempotencyKeyUsedError,
    Intent,
    IntentPendingError,
    IntentStatus,
    Operation,
    RecentlyConfirmedError,
    Store,
)
from epay_desktop.store.journal import AGAIN_WITH_THE_SAME_KEY
from tests.support.registers import MSN, T0, varied

DATA = Path(__file__).parent / "data"


def nok(value: int) -> Money:
    return Money(value, Currency.NOK)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def audit_lines(store: Store, after: int = 0) -> list[tuple[Any, ...]]:
    return store.db.read(
        "test", lambda c: c.execute("SELECT * FROM audit WHERE id > ? ORDER BY id", (after,)).fetchall()
    )


def begin(
    store: Store,
    operation: Operation,
    reference: str,
    amount: Money | None,
    key: str,
    minutes: int,
    *,
    user: str = "anna",
    detail: str = "",
    repeat_since: datetime | None = None,
) -> Intent:
    return store.journal.begin(
        operation=operation,
        profile="Shop",
        msn=MSN,
        reference=reference,
        amount=amount,
        idempotency_key=key,
        os_user=user,
        now=at(minutes),
        audit_detail=detail,
        attempting=True,
        repeat_since=repeat_since,
    )


def schema_7_work(store: Store) -> None:
    """What was done to ``data/register-schema-7.sqlite3`` by the schema-7 code (data/README.md)."""
    journal = store.journal
    begin(store, Operation.CANCEL, "p-reserved", None, "key-v7-cancel-pending", 1, detail="customer asked")
    begin(store, Operation.CAPTURE, "p-partly", nok(1500), "key-v7-capture-pending", 2)
    failed = begin(store, Operation.CAPTURE, "p-created", nok(5000), "key-v7-capture-failed", 3)
    journal.finish(failed.id, IntentStatus.FAILED, "Refused: 6280 try again later", os_user="anna", now=at(4))
    never = begin(store, Operation.CANCEL, "p-never", None, "key-v7-cancel-failed", 5)
    journal.finish(never.id, IntentStatus.FAILED, "Not sent: no connection", os_user="anna", now=at(6))
    refund = begin(store, Operation.REFUND, "p-terminated", Money(500, Currency.EUR), "key-v7-refund-ok", 7)
    journal.finish(refund.id, IntentStatus.SUCCEEDED, "Refunded 5.00 kr", os_user="bob", now=at(8))
    cancel = begin(store, Operation.CANCEL, "p-mixed", None, "key-v7-cancel-ok", 9)
    journal.finish(
        cancel.id, IntentStatus.RECONCILED, "Cancelled (read from the event log)", os_user="bob", now=at(10)
    )


def later_work(store: Store) -> None:
    """Outcomes of intents begun before, confirmed over failed, reopenings with the same key (a capture,
    and a cancel of a payment never read), a new cancel: each kind of line."""
    journal = store.journal
    journal.finish(1, IntentStatus.SUCCEEDED, "Cancelled 100,00 kr", os_user="carl", now=at(20))
    journal.finish(2, IntentStatus.FAILED, "Refused: too much", os_user="carl", now=at(21))
    journal.finish(2, IntentStatus.SUCCEEDED, "Captured 15,00 kr", os_user="dora", now=at(22))
    again = begin(store, Operation.CAPTURE, "p-created", nok(5000), "key-v7-capture-failed", 23, user="dora")
    never = begin(
        store, Operation.CANCEL, "p-never", None, "key-v7-cancel-failed", 24, user="erik", detail="second go"
    )
    journal.finish(never.id, IntentStatus.RECONCILED, "Cancelled", os_user="erik", now=at(25))
    new = begin(store, Operation.CANCEL, "p-reserved", None, "key-new-cancel", 26, user="fay", detail="after")
    journal.finish(new.id, IntentStatus.FAILED, "Refused: gone", os_user="fay", now=at(27))
    journal.finish(again.id, IntentStatus.SUCCEEDED, "Captured 50,00 kr", os_user="dora", now=at(28))


def _line(n: int, minutes: int, user: str, action: str, reference: str, money: tuple[Any, Any], *rest: Any):
    return (n, at(minutes).isoformat(), user, "Shop", MSN, action, reference, *money, *rest)


# What the schema-7 code wrote for ``later_work`` on a copy of the schema-7 register.
LATER_LINES = [
    _line(11, 20, "carl", "cancel", "p-reserved", (10000, "NOK"), "succeeded", "Cancelled 100,00 kr",
          "key-v7-cancel-pending", 1),
    _line(12, 21, "carl", "capture", "p-partly", (1500, "NOK"), "failed", "Refused: too much",
          "key-v7-capture-pending", 2),
    _line(13, 22, "dora", "capture", "p-partly", (1500, "NOK"), "succeeded", "Captured 15,00 kr",
          "key-v7-capture-pending", 2),
    _line(14, 23, "dora", "capture", "p-created", (5000, "NOK"), "requested", AGAIN_WITH_THE_SAME_KEY,
          "key-v7-capture-failed", 3),
    _line(15, 24, "erik", "cancel", "p-never", (None, None), "requested", "second go",
          "key-v7-cancel-failed", 4),
    _line(16, 25, "erik", "cancel", "p-never", (None, None), "reconciled", "Cancelled",
          "key-v7-cancel-failed", 4),
    _line(17, 26, "fay", "cancel", "p-reserved", (10000, "NOK"), "requested", "after", "key-new-cancel", 7),
    _line(18, 27, "fay", "cancel", "p-reserved", (10000, "NOK"), "failed", "Refused: gone",
          "key-new-cancel", 7),
    _line(19, 28, "dora", "capture", "p-created", (5000, "NOK"), "succeeded", "Captured 50,00 kr",
          "key-v7-capture-failed", 3),
]  # fmt: skip


@pytest.fixture
def old_register(tmp_path: Path) -> Path:
    path = tmp_path / "old.sqlite3"
    shutil.copyfile(DATA / "register-schema-7.sqlite3", path)
    return path


def test_a_register_of_schema_7_keeps_its_journal_and_gets_the_same_audit_lines(old_register: Path) -> None:
    with sqlite3.connect(old_register) as old:
        assert old.execute("PRAGMA user_version").fetchone()[0] == 7
        lines_before = old.execute("SELECT * FROM audit ORDER BY id").fetchall()
    old.close()
    assert len(lines_before) == 10
    with Store(old_register) as store:
        assert store.db.schema_version() == SCHEMA_VERSION == 8
        assert [i.id for i in store.journal.pending()] == [1, 2]
        assert audit_lines(store) == lines_before
        later_work(store)
        assert audit_lines(store, after=10) == LATER_LINES


def test_a_new_register_writes_the_lines_the_schema_7_code_wrote(tmp_path: Path, old_register: Path) -> None:
    with sqlite3.connect(old_register) as old:
        lines_before = old.execute("SELECT * FROM audit ORDER BY id").fetchall()
    old.close()
    with Store(tmp_path / "new.sqlite3") as store:
        varied(store)
        schema_7_work(store)
        assert audit_lines(store) == lines_before
        later_work(store)
        assert audit_lines(store, after=10) == LATER_LINES


def test_a_pending_intent_an_old_version_left_outside_the_unique_index_still_refuses(
    old_register: Path,
) -> None:
    """Schema 3 marked pending duplicates ``pending_before_v3`` to build ``intents_one_pending``: such a
    row, pending alone on its payment, is not in that index; the trigger refuses beside it all the same."""
    with Store(old_register) as store:
        store.journal.finish(2, IntentStatus.SUCCEEDED, "Captured.", os_user="u", now=at(30))
        store.db.write(
            "test",
            lambda c: c.execute(
                "INSERT INTO intents (operation, profile, msn, reference, amount, currency, "
                "idempotency_key, created_at, os_user, pending_before_v3) "
                "VALUES ('capture', 'Shop', ?, 'p-partly', 100, 'NOK', 'key-legacy', ?, 'old', 1)",
                (MSN, at(31).isoformat()),
            ),
        )
        lines = len(audit_lines(store))
        with pytest.raises(IntentPendingError) as refused:
            begin(store, Operation.CANCEL, "p-partly", None, "key-after-legacy", 32)
        assert refused.value.intent.idempotency_key == "key-legacy"
        assert len(audit_lines(store)) == lines  # nothing written


def test_each_refusal_leaves_the_journal_and_the_audit_as_they_were(tmp_path: Path) -> None:
    with Store(tmp_path / "r.sqlite3") as store:
        first = begin(store, Operation.CAPTURE, "p-1", nok(100), "key-1", 1)
        store.journal.finish(first.id, IntentStatus.SUCCEEDED, "ok", os_user="u", now=at(2))
        begin(store, Operation.CANCEL, "p-2", None, "key-2", 3)
        state = (store.journal.all(), audit_lines(store))
        with pytest.raises(RecentlyConfirmedError):
            begin(store, Operation.CAPTURE, "p-1", nok(100), "key-3", 4, repeat_since=at(0))
        with pytest.raises(IntentPendingError):
            begin(store, Operation.CAPTURE, "p-2", nok(100), "key-4", 5, repeat_since=at(0))
        with pytest.raises(IdempotencyKeyUsedError):
            begin(store, Operation.CAPTURE, "p-3", nok(100), "key-1", 6, repeat_since=at(0))
        assert (store.journal.all(), audit_lines(store)) == state


def test_a_pending_intent_is_named_before_a_repeat_and_a_repeat_before_a_reused_key(tmp_path: Path) -> None:
    """The order in which the schema-7 code checked: a pending intent on the payment, then a repeat,
    then the key."""
    with Store(tmp_path / "r.sqlite3") as store:
        first = begin(store, Operation.CAPTURE, "p-1", nok(100), "key-1", 1)
        store.journal.finish(first.id, IntentStatus.SUCCEEDED, "ok", os_user="u", now=at(2))
        with pytest.raises(RecentlyConfirmedError):
            begin(store, Operation.CAPTURE, "p-1", nok(100), "key-1", 3, repeat_since=at(0))
        pending = begin(store, Operation.REFUND, "p-1", nok(50), "key-2", 4)
        with pytest.raises(IntentPendingError) as refused:
            begin(store, Operation.CAPTURE, "p-1", nok(100), "key-1", 5, repeat_since=at(0))
        assert refused.value.intent.id == pending.id


# --- the rules, held to a model of the checks the schema-7 code made in Python, in its order ------------


@dataclass
class Model:
    """The journal as the schema-7 code's checks saw it: each intent's (operation, reference, amount,
    key, status, finished minute)."""

    intents: list[dict[str, Any]] = field(default_factory=list)

    def expect_begin(
        self, operation: Operation, reference: str, amount: Money | None, key: str, since: int | None
    ) -> tuple[str, int | None]:
        """What ``begin`` did: ("pending" | "repeat" | "key used", the intent it names) or ("begun" |
        "reopened", its id)."""
        pending = [i for i in self.intents if i["reference"] == reference and i["status"] == "pending"]
        if pending:
            return "pending", pending[0]["id"]
        if since is not None and operation is not Operation.CANCEL and amount is not None:
            same = [
                i
                for i in self.intents
                if i["reference"] == reference
                and i["operation"] is operation
                and i["status"] in ("succeeded", "reconciled")
                and i["finished"] >= since
                and i["amount"] == amount
            ]
            if same:
                return "repeat", max(same, key=lambda i: (i["finished"], -i["id"]))["id"]
        held = [i for i in self.intents if i["key"] == key]
        if held:
            earlier = held[0]
            reopens = earlier["status"] == "failed" and (
                earlier["operation"],
                earlier["reference"],
                earlier["amount"],
            ) == (operation, reference, amount)
            return ("reopened", earlier["id"]) if reopens else ("key used", earlier["id"])
        return "begun", None


# Small domains, so that sequences often meet each rule: a repeat, a pending one, a reused key.
_OPERATIONS = st.sampled_from([Operation.CAPTURE, Operation.CAPTURE, Operation.REFUND, Operation.CANCEL])
_REFERENCES = st.sampled_from(["p-1", "p-2"])
_AMOUNTS = st.sampled_from([None, nok(100), nok(100), nok(200)])
_KEYS = st.sampled_from(["k-1", "k-2", "k-3", "k-4"])
_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("begin"), _OPERATIONS, _REFERENCES, _AMOUNTS, _KEYS, st.sampled_from([None, 0, 5])),
        st.tuples(st.just("finish"), st.integers(0, 9), st.sampled_from(list(IntentStatus)[1:])),
    ),
    max_size=14,
)


def what_begin_did(call: Callable[[], Intent]) -> tuple[str, Intent | int]:
    """("pending" | "repeat" | "key used", the intent the refusal names), or ("begun" | "reopened",
    the intent)."""
    try:
        intent = call()
    except IntentPendingError as error:
        return "pending", error.intent.id
    except RecentlyConfirmedError as error:
        return "repeat", error.intent.id
    except IdempotencyKeyUsedError as error:
        return "key used", error.intent.id
    return ("reopened" if intent.attempts > 1 else "begun"), intent


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=_STEPS)
def test_begin_refuses_and_reopens_as_the_checks_in_python_did(
    tmp_path_factory: Any, steps: list[Any]
) -> None:
    model = Model()
    with Store(tmp_path_factory.mktemp("model") / "r.sqlite3") as store:
        for minute, step in enumerate(steps, start=1):
            if step[0] == "finish":
                _, index, status = step
                if not model.intents:
                    continue
                target = model.intents[index % len(model.intents)]
                store.journal.finish(target["id"], status, "told", os_user="u", now=at(minute))
                if target["status"] == "pending" or (
                    target["status"] == "failed"
                    and status in (IntentStatus.SUCCEEDED, IntentStatus.RECONCILED)
                ):
                    target.update(status=status.value, finished=minute)
                continue
            _, operation, reference, amount, key, since = step
            expected, named = model.expect_begin(operation, reference, amount, key, since)
            lines = len(audit_lines(store))
            since_at = None if since is None else at(since)
            kind, got = what_begin_did(
                partial(begin, store, operation, reference, amount, key, minute, repeat_since=since_at)
            )
            if isinstance(got, Intent):
                assert kind == expected
                if expected == "reopened":
                    assert got.id == named
                    next(i for i in model.intents if i["id"] == named).update(status="pending")
                else:
                    assert expected == "begun"
                    model.intents.append(
                        dict(
                            id=got.id,
                            operation=operation,
                            reference=reference,
                            amount=amount,
                            key=key,
                            status="pending",
                            finished=None,
                        )
                    )
                assert len(audit_lines(store)) == lines + 1
                continue
            assert (kind, got) == (expected, named)
            assert len(audit_lines(store)) == lines  # a refusal writes nothing
        # Every intent has its lines: one per request and one per outcome, in order.
        for intent in store.journal.all():
            results = [row[9] for row in audit_lines(store) if row[12] == intent.id]
            assert results[0] == "requested"
            assert results[-1] == (
                "requested" if intent.status is IntentStatus.PENDING else intent.status.value
            )
