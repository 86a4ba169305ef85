"""What the PostgreSQL store adds to the contract: rules kept by the database itself whatever client
writes to it, numbered migrations, and errors a person can read. Real PostgreSQL (the session's
throwaway cluster); the raw connections here play a client that bypasses the store."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb

from epay_desktop.domain import Currency, Money
from epay_desktop.store import (
    IntentPendingError,
    IntentStatus,
    NewEntry,
    Operation,
    PgStore,
    RegisterError,
    RegisterLockedError,
    RegisterTooNewError,
)
from epay_desktop.store.postgres import grant_service_role
from epay_desktop.store.postgres.migrations import MIGRATIONS, SCHEMA_MIGRATIONS_TABLE, SCHEMA_VERSION
from tests.support.postgres import Cluster

MSN = "123456"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def conninfo(postgres_cluster: Cluster) -> str:
    return postgres_cluster.new_schema()


@pytest.fixture
def store(conninfo: str) -> Iterator[PgStore]:
    with PgStore(conninfo) as opened:
        yield opened


@pytest.fixture
def raw(conninfo: str, store: PgStore) -> Iterator[psycopg.Connection[Any]]:
    """A client connected straight to the database (as its superuser), bypassing the store."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        yield conn


def begin(store: PgStore, reference: str = "ref-00001", key: str = "key-1") -> Any:
    return store.journal.begin(
        operation=Operation.CANCEL,
        profile="Desk",
        msn=MSN,
        reference=reference,
        amount=Money(10000, Currency.NOK),
        idempotency_key=key,
        os_user="kari",
        now=T0,
    )


# -- the audit is written by the server and cannot be rewritten ---------------------------------------


def test_the_audit_log_cannot_be_changed_or_emptied_even_by_the_owner(
    store: PgStore, raw: psycopg.Connection[Any]
) -> None:
    store.audit.record(os_user="kari", profile="Desk", msn=MSN, action="add", result="ok", reference="r-1")
    begin(store)
    for statement in (
        "UPDATE audit SET os_user = 'someone else'",
        "DELETE FROM audit",
        "TRUNCATE audit CASCADE",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="history is kept"):
            raw.execute(statement)
    assert [e.os_user for e in store.audit.entries()] == ["kari", "kari"]


def test_audit_lines_carry_the_database_clock_and_role_which_a_client_cannot_set(
    store: PgStore, raw: psycopg.Connection[Any]
) -> None:
    raw.execute(
        "INSERT INTO audit (at, os_user, profile, msn, action, result, recorded_at, written_by) "
        "VALUES (%s, 'kari', 'Desk', %s, 'add', 'ok', %s, 'the service')",
        (T0, MSN, T0 - timedelta(days=365)),
    )
    recorded_at, written_by = raw.execute("SELECT recorded_at, written_by FROM audit").fetchone()  # type: ignore[misc]
    assert recorded_at > T0
    assert written_by == "epay"  # the role that really wrote it


def test_a_client_cannot_forge_a_line_in_an_intents_history(
    store: PgStore, raw: psycopg.Connection[Any]
) -> None:
    intent = begin(store)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="journal only"):
        raw.execute(
            "INSERT INTO audit (at, os_user, profile, msn, action, reference, result, intent_id) "
            "VALUES (now(), 'ola', 'Desk', %s, 'cancel', 'ref-00001', 'succeeded', %s)",
            (MSN, intent.id),
        )
    assert [e.result for e in store.audit.entries()] == ["requested"]


def test_every_intent_change_has_its_audit_line_whoever_writes_it(
    store: PgStore, raw: psycopg.Connection[Any]
) -> None:
    raw.execute(
        "INSERT INTO intents (operation, profile, msn, reference, amount, currency, idempotency_key, "
        "created_at, os_user) VALUES ('refund', 'Desk', %s, 'by-hand-1', 500, 'NOK', 'hand-key', %s, 'dba')",
        (MSN, T0),
    )
    raw.execute(
        "UPDATE intents SET status = 'failed', outcome = 'given up', finished_by = 'dba' "
        "WHERE idempotency_key = 'hand-key'"
    )
    lines = store.audit.entries()
    assert [(e.action, e.result, e.os_user, e.reference) for e in lines] == [
        ("refund", "failed", "dba", "by-hand-1"),
        ("refund", "requested", "dba", "by-hand-1"),
    ]
    assert lines[1].amount == Money(500, Currency.NOK)


def test_an_intent_cannot_be_rewritten_reopened_or_deleted(
    store: PgStore, raw: psycopg.Connection[Any]
) -> None:
    intent = begin(store)
    refused = {
        "UPDATE intents SET amount = 1": psycopg.errors.CheckViolation,
        "UPDATE intents SET idempotency_key = 'other'": psycopg.errors.CheckViolation,
        "UPDATE intents SET attempts = attempts - 1": psycopg.errors.CheckViolation,
        "UPDATE intents SET requested_by = 'someone else'": psycopg.errors.CheckViolation,
        "DELETE FROM intents": psycopg.errors.InsufficientPrivilege,
        "TRUNCATE intents CASCADE": psycopg.errors.InsufficientPrivilege,
    }
    for statement, error in refused.items():
        with pytest.raises(error):
            raw.execute(statement)
    store.journal.finish(intent.id, IntentStatus.SUCCEEDED, "done", os_user="kari")
    for statement in (
        "UPDATE intents SET status = 'pending'",
        "UPDATE intents SET status = 'failed'",
        "UPDATE intents SET attempts = attempts + 1",
    ):
        with pytest.raises(psycopg.errors.CheckViolation):
            raw.execute(statement)
    assert store.journal.get(intent.id) == store.journal.all()[0]
    assert store.journal.all()[0].status is IntentStatus.SUCCEEDED


def test_the_triggers_write_to_the_real_audit_whatever_search_path_a_client_sets(
    conninfo: str, store: PgStore, raw: psycopg.Connection[Any]
) -> None:
    schema = raw.execute("SELECT current_schema()").fetchone()
    assert schema is not None
    raw.execute("CREATE SCHEMA decoy")
    raw.execute("CREATE TABLE decoy.audit (LIKE audit)")
    raw.execute(sql.SQL("SET search_path = decoy, {}").format(sql.Identifier(schema[0])))
    raw.execute(
        "INSERT INTO intents (operation, profile, msn, reference, idempotency_key, created_at, os_user) "
        "VALUES ('cancel', 'Desk', %s, 'ref-00001', 'key-1', now(), 'ola')",
        (MSN,),
    )
    assert raw.execute("SELECT count(*) FROM decoy.audit").fetchone() == (0,)
    assert [e.os_user for e in store.audit.entries()] == ["ola"]


def test_the_unique_index_holds_one_pending_intent_per_payment_against_any_client(
    store: PgStore, raw: psycopg.Connection[Any]
) -> None:
    begin(store)
    with pytest.raises(psycopg.errors.UniqueViolation, match="intents_one_pending"):
        raw.execute(
            "INSERT INTO intents (operation, profile, msn, reference, idempotency_key, created_at, os_user) "
            "VALUES ('cancel', 'Other', %s, 'ref-00001', 'second-key', now(), 'ola')",
            (MSN,),
        )


def test_a_begin_waits_for_a_competing_uncommitted_intent_and_is_refused_when_it_commits(
    conninfo: str, store: PgStore
) -> None:
    """The race, step by step: another instance has inserted its intent but not committed; ours must
    wait on the index and then be refused, naming the intent that won."""
    other = psycopg.connect(conninfo)
    try:
        other.execute(
            "INSERT INTO intents (operation, profile, msn, reference, idempotency_key, created_at, os_user) "
            "VALUES ('capture', 'Other', %s, 'ref-00001', 'other-key', now(), 'ola')",
            (MSN,),
        )
        started = threading.Event()

        def ours() -> Any:
            started.set()
            return begin(store, key="our-key")

        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(ours)
            started.wait(timeout=10)
            wait_until_an_insert_waits_for_a_lock(conninfo)
            assert not future.done()
            other.commit()
            with pytest.raises(IntentPendingError) as caught:
                future.result(timeout=30)
    finally:
        other.close()
    assert caught.value.intent.idempotency_key == "other-key"
    assert caught.value.intent.os_user == "ola"
    assert [i.idempotency_key for i in store.journal.all()] == ["other-key"]


def test_a_begin_goes_through_when_the_competing_intent_is_rolled_back(conninfo: str, store: PgStore) -> None:
    other = psycopg.connect(conninfo)
    try:
        other.execute(
            "INSERT INTO intents (operation, profile, msn, reference, idempotency_key, created_at, os_user) "
            "VALUES ('capture', 'Other', %s, 'ref-00001', 'other-key', now(), 'ola')",
            (MSN,),
        )
        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(begin, store, "ref-00001", "our-key")
            wait_until_an_insert_waits_for_a_lock(conninfo)
            other.rollback()
            won = future.result(timeout=30)
    finally:
        other.close()
    assert won.idempotency_key == "our-key"
    assert [i.idempotency_key for i in store.journal.pending()] == ["our-key"]


# -- migrations -------------------------------------------------------------------------------------


def test_a_new_database_gets_every_migration_in_order(store: PgStore, raw: psycopg.Connection[Any]) -> None:
    versions = [r[0] for r in raw.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == list(range(1, len(MIGRATIONS) + 1))
    assert store.db.schema_version() == SCHEMA_VERSION
    indexes = {r[0] for r in raw.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'intents'")}
    assert "intents_one_pending" in indexes


def test_a_database_from_before_the_newest_event_column_gets_it_from_its_saved_logs(conninfo: str) -> None:
    with psycopg.connect(conninfo) as conn:
        conn.execute(SCHEMA_MIGRATIONS_TABLE)
        conn.execute(MIGRATIONS[0])
        conn.execute("INSERT INTO schema_migrations (version) VALUES (1)")
        logs: dict[str, Any] = {
            "two-events-1": [
                {"timestamp": "2025-03-01T12:00:00+00:00"},
                {"timestamp": "2025-03-01T14:00:00+01:00"},
                {"timestamp": "2025-03-01T12:30:00+00:00"},
                {"timestamp": None},
                "not an event",
            ],
            "no-times-1": [{"timestamp": None}],
            "not-a-list-1": {"v": 9},
            "no-log-1": None,
        }
        for reference, log in logs.items():
            conn.execute(
                "INSERT INTO payments (msn, reference, added_at, events) VALUES (%s, %s, %s, %s)",
                (MSN, reference, T0, Jsonb(log) if log is not None else None),
            )
    with PgStore(conninfo) as store:
        assert store.db.schema_version() == SCHEMA_VERSION
        newest = {t.reference: t.last_event_at for t in store.register.all(MSN)}
    assert newest == {
        "two-events-1": datetime(2025, 3, 1, 13, 0, tzinfo=UTC),
        "no-times-1": None,
        "not-a-list-1": None,
        "no-log-1": None,
    }


def test_a_time_that_cannot_be_read_leaves_only_its_payment_without_a_newest_event(conninfo: str) -> None:
    with psycopg.connect(conninfo) as conn:
        conn.execute(SCHEMA_MIGRATIONS_TABLE)
        conn.execute(MIGRATIONS[0])
        conn.execute("INSERT INTO schema_migrations (version) VALUES (1)")
        for reference, stamp in (("readable-1", "2025-03-01T12:00:00+00:00"), ("unreadable-1", "soon")):
            conn.execute(
                "INSERT INTO payments (msn, reference, added_at, events) VALUES (%s, %s, %s, %s)",
                (MSN, reference, T0, Jsonb([{"timestamp": stamp}])),
            )
    with PgStore(conninfo) as store:
        newest = {t.reference: t.last_event_at for t in store.register.all(MSN)}
    assert newest == {"readable-1": T0, "unreadable-1": None}


def test_instances_starting_at_once_migrate_once(postgres_cluster: Cluster) -> None:
    conninfo = postgres_cluster.new_schema()
    barrier = threading.Barrier(3)

    def start() -> int:
        barrier.wait(timeout=30)
        with PgStore(conninfo) as opened:
            return opened.db.schema_version()

    with ThreadPoolExecutor(max_workers=3) as pool:
        assert list(pool.map(lambda _n: start(), range(3))) == [SCHEMA_VERSION] * 3
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations").fetchall()
    assert sorted(r[0] for r in rows) == list(range(1, SCHEMA_VERSION + 1))


def test_a_database_from_a_newer_version_is_refused_and_left_alone(conninfo: str, store: PgStore) -> None:
    store.register.add(MSN, [NewEntry("ref-00001")])
    store.close()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (SCHEMA_VERSION + 5,))
    with pytest.raises(RegisterTooNewError, match="newer version"):
        PgStore(conninfo)
    with psycopg.connect(conninfo) as conn:
        assert conn.execute("SELECT count(*) FROM payments").fetchone() == (1,)
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone() == (SCHEMA_VERSION + 5,)


def test_a_role_that_may_not_migrate_is_told_to_migrate_first(postgres_cluster: Cluster) -> None:
    conninfo = postgres_cluster.new_schema()
    with pytest.raises(RegisterError, match="needs") as caught:
        PgStore(conninfo, migrate=False)
    assert "schema 0" in str(caught.value)
    with psycopg.connect(conninfo) as conn:
        assert conn.execute("SELECT to_regclass('schema_migrations')").fetchone() == (None,)
    PgStore(conninfo).close()
    with PgStore(conninfo, migrate=False) as opened:
        assert opened.db.schema_version() == SCHEMA_VERSION


# -- errors a person can read -----------------------------------------------------------------------


def test_an_unreachable_database_gives_a_clear_error_without_the_password(postgres_cluster: Cluster) -> None:
    with closed_port() as port:
        conninfo = f"host=127.0.0.1 port={port} user=epay password=s3cret-pw dbname=team connect_timeout=2"
        with pytest.raises(RegisterError, match="cannot be reached") as caught:
            PgStore(conninfo)
    text = str(caught.value)
    assert "s3cret-pw" not in text
    assert f"postgresql://epay@127.0.0.1:{port}/team" in text
    assert caught.value.path == f"postgresql://epay@127.0.0.1:{port}/team"


def test_a_row_held_too_long_by_another_instance_is_a_typed_busy_error(conninfo: str, store: PgStore) -> None:
    store.register.add(MSN, [NewEntry("ref-00001")])
    store.close()
    with PgStore(conninfo, lock_timeout_ms=100) as impatient, psycopg.connect(conninfo) as holder:
        holder.execute("SELECT 1 FROM payments WHERE reference = 'ref-00001' FOR UPDATE")
        with pytest.raises(RegisterLockedError, match="busy"):
            impatient.register.save_fetch_error(MSN, "ref-00001", "network down")
        holder.rollback()
        # Once the other lets go, the same work goes through.
        saved = impatient.register.save_fetch_error(MSN, "ref-00001", "network down")
        assert saved is not None
        assert saved.fetch_error == "network down"


def test_a_snapshot_this_version_cannot_read_shows_as_not_fetched(
    store: PgStore, raw: psycopg.Connection[Any]
) -> None:
    store.register.add(MSN, [NewEntry("ref-00001"), NewEntry("ref-00002")])
    raw.execute(
        "UPDATE payments SET payment = %s WHERE reference = 'ref-00001'", (Jsonb({"v": 9, "shape": "new"}),)
    )
    by_ref = {t.reference: t for t in store.register.all(MSN)}
    assert by_ref["ref-00001"].payment is None
    assert "could not be read" in by_ref["ref-00001"].fetch_error
    assert by_ref["ref-00002"].fetch_error == ""


def wait_until_an_insert_waits_for_a_lock(conninfo: str) -> None:
    """Poll the server (bounded) until an INSERT into intents waits for a lock, i.e. for the index
    entry of an uncommitted competing intent."""
    with psycopg.connect(conninfo, autocommit=True) as watcher:
        for _ in range(400):
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'INSERT INTO intents%'"
            ).fetchone()
            if row and row[0]:
                return
            threading.Event().wait(0.05)
    pytest.fail("the begin never waited for the competing intent")


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port with nothing listening on it (bound, never listened on) while in use."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def test_the_service_role_can_do_its_work_and_cannot_rewrite_history(postgres_cluster: Cluster) -> None:
    """The deployment the guide recommends: the owner migrates, the service runs as a role with the
    grants of ``grant_service_role``; that role cannot change the audit, delete intents or drop the
    triggers that write and guard them."""
    conninfo = postgres_cluster.new_database()
    PgStore(conninfo).close()
    role = f"service_{conninfo_to_dict(conninfo)['dbname']}"
    with psycopg.connect(conninfo, autocommit=True) as owner:
        owner.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    grant_service_role(conninfo, role)
    as_service = make_conninfo(conninfo, user=role)
    with PgStore(as_service, migrate=False) as service:
        service.register.add(MSN, [NewEntry("ref-00001")])
        intent = begin(service)
        service.journal.note_attempt(intent.id)
        service.journal.finish(intent.id, IntentStatus.SUCCEEDED, "done", os_user="kari")
        service.audit.record(os_user="kari", profile="Desk", msn=MSN, action="add", result="ok")
        service.db.set_meta("seeded", "1")
        assert [e.result for e in service.audit.entries()] == ["ok", "succeeded", "requested"]
    with psycopg.connect(as_service, autocommit=True) as conn:
        for statement in (
            "UPDATE audit SET detail = 'nothing happened'",
            "DELETE FROM audit",
            "DELETE FROM intents",
            "DROP TRIGGER intents_audit ON intents",
            "ALTER TABLE audit DISABLE TRIGGER audit_append_only",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        written_by = {r[0] for r in conn.execute("SELECT written_by FROM audit")}
    assert written_by == {role}


def test_the_desktop_store_does_not_load_psycopg_until_the_postgresql_store_is_asked_for() -> None:
    code = (
        "import sys\n"
        "import epay_desktop.store as store\n"
        "import epay_desktop.services\n"
        "assert not [m for m in sys.modules if m.startswith('psycopg')], 'psycopg loaded'\n"
        "assert store.PgStore.__name__ == 'PgStore'\n"
        "assert 'psycopg' in sys.modules\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_a_server_restart_is_an_error_while_it_is_down_and_forgotten_once_it_is_back(
    postgres_cluster: Cluster,
) -> None:
    conninfo = postgres_cluster.new_schema()
    with PgStore(conninfo, connect_timeout_s=2) as store:
        store.register.add(MSN, [NewEntry("ref-00001")])
        postgres_cluster.stop_server()
        try:
            with pytest.raises(RegisterError, match="team database") as caught:
                store.register.add(MSN, [NewEntry("ref-00002")])
            assert "Traceback" not in str(caught.value)
        finally:
            assert postgres_cluster.start_server() == ""
        # The pool drops the connections the restart cut and makes new ones: no reopening needed.
        assert store.register.add(MSN, [NewEntry("ref-00002")]) == (["ref-00002"], [])
        assert store.register.references(MSN) == ["ref-00002", "ref-00001"]


def test_a_journal_entry_this_version_cannot_read_is_skipped_and_blocks_its_payment(
    store: PgStore, raw: psycopg.Connection[Any]
) -> None:
    begin(store, reference="pend-00000", key="key-0")
    # The guard refuses to change an intent's currency; a client can still write one this version
    # does not know (by hand, or a newer version with another currency).
    raw.execute(
        "INSERT INTO intents (operation, profile, msn, reference, amount, currency, idempotency_key, "
        "created_at, os_user) VALUES ('capture', 'Desk', %s, 'pend-00001', 100, 'XYZ', 'key-1', now(), 'x')",
        (MSN,),
    )
    begin(store, reference="pend-00002", key="key-2")
    assert [i.reference for i in store.journal.pending()] == ["pend-00000", "pend-00002"]
    (skipped,) = store.journal.skipped
    assert "pend-00001" in skipped
    assert "cannot be read" in skipped
    assert len(store.journal.all()) == 2
    assert store.register.skipped_rows == []
    with pytest.raises(RegisterError, match=r"pend-00001.*nothing was sent"):
        begin(store, reference="pend-00001", key="key-new")


# -- a cancel's audit lines say what it cancels (migration 10; the rest in test_contract.py) ---------


def cancel_lines(store: PgStore, reference: str) -> list[tuple[str, Money | None]]:
    return [(e.result, e.amount) for e in reversed(store.audit.entries(msn=MSN, reference=reference))]


def test_a_client_setting_that_is_not_an_amount_is_not_written_as_one(
    store: PgStore, raw: psycopg.Connection[Any]
) -> None:
    # The trigger reads the amount from a setting the journal's writer makes: a client's setting that is
    # not an amount is not written as one. (What a cancel's lines carry: tests/store/test_contract.py.)
    with raw.transaction():
        raw.execute("SELECT set_config('epay.cancel_releases', '12; DROP TABLE audit', true)")
        raw.execute(
            "INSERT INTO intents (operation, profile, msn, reference, idempotency_key, created_at, os_user) "
            "VALUES ('cancel', 'Desk', %s, 'ref-raw', 'key-raw', now(), 'ola')",
            (MSN,),
        )
    assert cancel_lines(store, "ref-raw") == [("requested", None)]
