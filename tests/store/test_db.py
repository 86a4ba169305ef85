from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from epay_desktop.domain import Currency, Money
from epay_desktop.store import (
    SCHEMA_VERSION,
    Database,
    IntentStatus,
    NewEntry,
    Operation,
    RegisterDamagedError,
    RegisterError,
    RegisterLockedError,
    RegisterTooNewError,
    Store,
    move_aside,
)
from epay_desktop.store.db import MIGRATIONS, _statements
from tests.support.registers import damage_a_page_the_list_never_reads, leaf_page

MSN = "123456"


def test_new_register_uses_wal_and_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    with Database(path) as db:
        assert db.read("x", lambda c: c.execute("PRAGMA journal_mode").fetchone()[0]) == "wal"
        assert db.schema_version() == SCHEMA_VERSION
        assert db.read("x", lambda c: c.execute("PRAGMA busy_timeout").fetchone()[0]) == 5000
    # Opening again migrates nothing and keeps the version.
    with Database(path) as db:
        assert db.schema_version() == SCHEMA_VERSION


def test_a_register_from_before_the_newest_event_column_gets_it_from_its_saved_logs(tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite3"
    conn = sqlite3.connect(path)
    for migration in MIGRATIONS[:3]:
        for statement in _statements(migration):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 3")
    logs = {
        "two-events-1": '[{"timestamp": "2025-03-01T12:00:00+00:00"}, '
        '{"timestamp": "2025-03-01T14:00:00+01:00"}, '
        '{"timestamp": "2025-03-01T12:30:00+00:00"}, {"timestamp": null}]',
        "damaged-log-1": "[{broken",
        "no-log-1": None,
    }
    for reference, log in logs.items():
        conn.execute(
            "INSERT INTO payments (msn, reference, added_at, events_json) VALUES (?, ?, ?, ?)",
            (MSN, reference, "2024-01-01T00:00:00+00:00", log),
        )
    conn.commit()
    conn.close()
    with Store(path) as store:
        newest = dict(
            store.db.read(
                "x", lambda c: c.execute("SELECT reference, last_event_at FROM payments").fetchall()
            )
        )
        listed = {t.reference: t for t in store.register.all(MSN)}
    # Compared as times, not as text: 14:00+01:00 is 13:00 UTC, later than 12:30 UTC and 12:00 UTC.
    assert newest == {"two-events-1": "2025-03-01T14:00:00+01:00", "damaged-log-1": None, "no-log-1": None}
    assert listed["two-events-1"].updated_at is not None
    assert listed["damaged-log-1"].updated_at is None  # no created_at either: nothing to show


def test_an_old_register_is_migrated_in_order_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    for statement in _statements(MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO payments (msn, reference, added_at) VALUES (?, ?, ?)",
        (MSN, "old-payment-1", "2024-01-01T00:00:00+00:00"),
    )
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert store.db.schema_version() == SCHEMA_VERSION
        assert [t.reference for t in store.register.all(MSN)] == ["old-payment-1"]
        indexes = store.db.read("x", lambda c: c.execute("PRAGMA index_list(payments)").fetchall())
        assert any(row[1] == "payments_newest" for row in indexes)


def test_a_register_from_a_newer_app_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    Database(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    with pytest.raises(RegisterTooNewError, match="newer version"):
        Database(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 5
    conn.close()


def test_a_file_that_is_not_a_database_gives_a_clear_error_and_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite3"
    junk = b"this is a spreadsheet, not a register\n" * 200
    path.write_bytes(junk)
    with pytest.raises(RegisterDamagedError) as caught:
        Database(path)
    assert "damaged" in str(caught.value)
    assert "Traceback" not in str(caught.value)
    assert caught.value.path == path
    assert path.read_bytes() == junk


def _damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 6 * page
    # Scribble over a b-tree page in the middle of the file (not the header page).
    data[3 * page : 3 * page + 600] = b"\xa5" * 600
    path.write_bytes(bytes(data))


def test_a_damaged_page_is_found_by_quick_check(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    with Store(path) as store:
        store.register.add(MSN, [NewEntry(f"ref-{i:06d}", description="coffee " * 20) for i in range(2000)])
    _damage(path)
    before = path.read_bytes()
    with pytest.raises(RegisterDamagedError, match="damaged"):
        Store(path)
    assert path.read_bytes() == before


def test_move_aside_keeps_the_file_under_a_timestamped_name(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    path.write_bytes(b"not sqlite" * 100)
    moved = move_aside(path)
    assert not path.exists()
    assert moved.name.startswith("r.sqlite3.damaged-")
    assert moved.read_bytes() == b"not sqlite" * 100
    again = tmp_path / "r.sqlite3"
    again.write_bytes(b"x")
    assert move_aside(again) != moved  # never overwrites an earlier one


def test_read_only_open_reads_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    with Store(path) as store:
        store.register.add(MSN, [NewEntry("abcdefgh-1")])
    with Store(path, read_only=True) as store:
        assert store.register.references(MSN) == ["abcdefgh-1"]
        with pytest.raises(RegisterError, match="read-only"):
            store.register.add(MSN, [NewEntry("abcdefgh-2")])


def test_a_locked_register_gives_a_typed_error_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    with Store(path) as store:
        store.register.add(MSN, [NewEntry("committed-1")])
        intent = store.journal.begin(
            operation=Operation.CANCEL,
            profile="Demo",
            msn=MSN,
            reference="committed-1",
            amount=Money(100, Currency.NOK),
            idempotency_key="key-1",
            os_user="tester",
        )
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with Store(path, busy_timeout_ms=50) as store:
            with pytest.raises(RegisterLockedError, match="busy"):
                store.register.add(MSN, [NewEntry("blocked-1")])
            with pytest.raises(RegisterLockedError):
                store.journal.finish(intent.id, IntentStatus.SUCCEEDED, "done", os_user="tester")
    except RegisterLockedError:
        pytest.fail("opening must not need the write lock when the schema is current")
    finally:
        other.execute("ROLLBACK")
        other.close()
    with Store(path) as store:
        assert store.register.references(MSN) == ["committed-1"]
        pending = store.journal.pending()
        assert [p.idempotency_key for p in pending] == ["key-1"]
        # And once the other program lets go, the same work goes through.
        store.register.add(MSN, [NewEntry("blocked-1")])
        store.journal.finish(intent.id, IntentStatus.SUCCEEDED, "done", os_user="tester")
        assert sorted(store.register.references(MSN)) == ["blocked-1", "committed-1"]
        assert store.journal.pending() == []


def _register_to_damage(path: Path) -> bytearray:
    with Store(path) as store:
        store.register.add(MSN, [NewEntry(f"ref-{i:06d}", description="coffee " * 20) for i in range(2000)])
    return bytearray(path.read_bytes())


def _scribble(data: bytearray, page: int) -> None:
    data[page * 4096 : page * 4096 + 600] = b"\xa5" * 600


def test_a_damaged_register_opens_read_only_and_salvages_the_readable_rows(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    data = _register_to_damage(path)
    _scribble(data, leaf_page(data, kind=13, holding=b"coffee"))  # a leaf of payments
    _scribble(data, leaf_page(data, kind=10, holding=b"coffee"))  # and one of the packed list
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    with Store(path, read_only=True) as store:
        assert "malformed" in store.db.damage
        rows = store.register.all(MSN)
        assert 0 < store.register.unreadable_rows < 100
        assert len(rows) == 2000 - store.register.unreadable_rows
        with pytest.raises(RegisterError, match="read-only"):
            store.register.add(MSN, [NewEntry("abcdefgh-2")])
    assert path.read_bytes() == before


@pytest.mark.parametrize(("kind", "name"), [(13, "payments"), (10, "list_rows")])
def test_one_damaged_copy_of_the_list_loses_no_row_read_only(tmp_path: Path, kind: int, name: str) -> None:
    """The list is kept twice (``payments`` and its packed rows): with one of them damaged, a register
    opened read-only lists every row from the other. Written to, it is refused as any damaged one."""
    path = tmp_path / "r.sqlite3"
    data = _register_to_damage(path)
    _scribble(data, leaf_page(data, kind=kind, holding=b"coffee"))
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    with pytest.raises(RegisterDamagedError):
        Store(path)
    with Store(path, read_only=True) as store:
        assert "malformed" in store.db.damage
        rows = store.register.all(MSN)
        assert store.register.unreadable_rows == 0
        assert sorted(t.reference for t in rows) == [f"ref-{i:06d}" for i in range(2000)]
    assert path.read_bytes() == before


@pytest.mark.parametrize("read_only", [False, True], ids=["writable", "read-only"])
@pytest.mark.parametrize("user_version", [0, 1])
def test_a_foreign_sqlite_file_is_refused_and_left_byte_for_byte(
    tmp_path: Path, read_only: bool, user_version: int
) -> None:
    from epay_desktop.store import NotARegisterError

    path = tmp_path / "firefox-places.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
        db.execute("INSERT INTO moz_places (url) VALUES ('https://example.com')")
        db.execute(f"PRAGMA user_version = {user_version}")
    db.close()
    before = path.read_bytes()
    with pytest.raises(NotARegisterError, match="another program"):
        Store(path, read_only=read_only)
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    db.close()


def test_an_empty_sqlite_file_becomes_a_register(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    sqlite3.connect(path).close()
    with Store(path) as store:
        assert store.db.schema_version() == SCHEMA_VERSION


def test_a_register_of_schema_4_gets_its_payments_in_columns_and_lists_them_as_before(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from epay_desktop.domain import Aggregate, EventName, Payment, PaymentEvent, State
    from epay_desktop.store.codec import dump_events, dump_payment

    nok = Currency.NOK
    full = Payment(
        "full-1",
        Money(12_500, nok),
        State.AUTHORIZED,
        Aggregate(Money(12_500, nok), Money(2_500, nok), Money(0, nok), Money(500, nok)),
        psp_reference="psp-full",
        description="Kanelbolle",
        payment_method="WALLET",
        redirect_url="https://shop.example/back",
        metadata={"order": "17", "desk": "2"},
        capture_guaranteed_until=datetime(2025, 3, 8, 12, 0, tzinfo=UTC),
    )
    unknown = Payment("unknown-1", Money(100, nok), State.UNKNOWN, Aggregate.zero(nok), raw_state="ON_HOLD")
    # Valid JSON the columns cannot hold (an aggregate in another currency): listed from its JSON.
    mixed = Payment(
        "mixed-1",
        Money(100, nok),
        State.AUTHORIZED,
        Aggregate(Money(100, Currency.DKK), Money(0, nok), Money(0, nok), Money(0, nok)),
    )
    event = PaymentEvent("full-1", "psp", EventName.CREATED, Money(12_500, nok), None, None, True)
    path = tmp_path / "v4.sqlite3"
    conn = sqlite3.connect(path)
    for migration in MIGRATIONS[:4]:
        for statement in _statements(migration):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 4")
    rows = [
        ("full-1", dump_payment(full), dump_events([event, event])),
        ("unknown-1", dump_payment(unknown), "[]"),
        ("mixed-1", dump_payment(mixed), "[broken"),
        ("broken-1", "{broken", None),
        ("never-1", None, None),
    ]
    conn.executemany(
        "INSERT INTO payments (msn, reference, added_at, payment_json, events_json) VALUES (?, ?, ?, ?, ?)",
        [(MSN, ref, "2024-01-01T00:00:00+00:00", p, e) for ref, p, e in rows],
    )
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert store.db.schema_version() == SCHEMA_VERSION == 8
        states = dict(
            store.db.read("x", lambda c: c.execute("SELECT reference, state FROM payments").fetchall())
        )
        listed = {t.reference: t for t in store.register.all(MSN)}
        marks = store.register.change_marks(MSN)
    assert states == {
        "full-1": "AUTHORIZED",
        "unknown-1": "UNKNOWN",
        "mixed-1": None,
        "broken-1": None,
        "never-1": None,
    }
    assert listed["full-1"].payment == full
    assert listed["unknown-1"].payment == unknown
    assert listed["mixed-1"].payment == mixed
    assert listed["broken-1"].payment is None
    assert "could not be read" in listed["broken-1"].fetch_error
    assert listed["never-1"].payment is None
    assert listed["never-1"].fetch_error == ""
    assert {reference: count for reference, (_fetched, count) in marks.items()} == {
        "full-1": 2,
        "unknown-1": 0,
        "mixed-1": -1,
        "broken-1": 0,
        "never-1": 0,
    }


def test_a_register_opened_to_be_checked_later_is_read_at_once_and_written_only_after_its_check(
    tmp_path: Path,
) -> None:
    path = tmp_path / "r.sqlite3"
    with Store(path) as store:
        store.register.add(MSN, [NewEntry("abcdefgh-1")])
    with Store(path, check_later=True) as store:
        assert not store.db.checked
        assert store.register.references(MSN) == ["abcdefgh-1"]
        # No intent (the step before every money-moving request) and no row before the check passed.
        with pytest.raises(RegisterError, match="not been checked"):
            store.journal.begin(
                operation=Operation.CANCEL,
                profile="Demo",
                msn=MSN,
                reference="abcdefgh-1",
                amount=Money(100, Currency.NOK),
                idempotency_key="key-before-check",
                os_user="tester",
            )
        with pytest.raises(RegisterError, match="not been checked"):
            store.register.add(MSN, [NewEntry("abcdefgh-2")])
        with pytest.raises(RegisterError, match="not been checked"):
            store.db.write_now("a setting", lambda c: c.execute("INSERT INTO meta VALUES ('k', 'v')"))
        with pytest.raises(RegisterError, match="not been checked"):
            store.db.write(
                "a setting", lambda c: c.execute("INSERT INTO meta VALUES ('k', 'v')"), durable=True
            )
        store.db.check_integrity()
        assert store.db.checked
        store.register.add(MSN, [NewEntry("abcdefgh-2")])
        intent = store.journal.begin(
            operation=Operation.CANCEL,
            profile="Demo",
            msn=MSN,
            reference="abcdefgh-1",
            amount=Money(100, Currency.NOK),
            idempotency_key="key-after-check",
            os_user="tester",
        )
        assert intent.status == IntentStatus.PENDING
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT idempotency_key FROM intents").fetchall() == [("key-after-check",)]
    assert conn.execute("SELECT value FROM meta WHERE key = 'k'").fetchall() == []
    conn.close()


def test_a_damaged_register_opened_to_be_checked_later_fails_its_check_and_is_never_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "r.sqlite3"
    with Store(path) as store:
        store.register.add(MSN, [NewEntry(f"ref-{i:04d}") for i in range(20)])
    damage_a_page_the_list_never_reads(path)
    before = path.read_bytes()
    with pytest.raises(RegisterDamagedError, match="damaged"):
        Store(path)  # a plain open finds it at once, as always
    with Store(path, check_later=True) as store:
        assert len(store.register.references(MSN)) == 20  # the list reads fine: the damage is elsewhere
        with pytest.raises(RegisterDamagedError, match="damaged") as caught:
            store.db.check_integrity()
        assert "Nothing was changed" in str(caught.value)
        assert not store.db.checked
        with pytest.raises(RegisterError, match="not been checked"):
            store.register.add(MSN, [NewEntry("ref-new")])
    assert path.read_bytes() == before


def test_only_a_register_that_needs_no_write_is_opened_to_be_checked_later(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    with Store(path) as store:
        store.register.add(MSN, [NewEntry("abcdefgh-1")])
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")  # using it would write: back to WAL
    conn.close()
    with Store(path, check_later=True) as store:
        assert store.db.checked  # checked at once, then put back in WAL, as a plain open does
        assert store.db.read("x", lambda c: c.execute("PRAGMA journal_mode").fetchone()[0]) == "wal"
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is a spreadsheet, not a register\n" * 200)
    with pytest.raises(RegisterDamagedError):
        Store(junk, check_later=True)
    assert junk.read_bytes() == b"this is a spreadsheet, not a register\n" * 200
