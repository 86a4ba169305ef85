"""What the database itself keeps about approval requests (schema 5), whatever client writes: the
asker never approves, a decision is final, what was asked and the items' keys never change, requests
are never deleted; and each change through the store comes with its audit line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from epay_desktop.domain import Currency, Money
from epay_desktop.store import RegisterError
from epay_desktop.store.postgres import ApprovalRequest, PgStore, grant_service_role
from tests.support.postgres import Cluster

NOK = Currency.NOK


@pytest.fixture
def store(postgres_cluster: Cluster) -> Iterator[PgStore]:
    with PgStore(postgres_cluster.new_schema("approvalstore")) as opened:
        yield opened


def ask(store: PgStore, *, lifetime: timedelta = timedelta(hours=1)) -> ApprovalRequest:
    return store.approvals.ask(
        msn="123456",
        operation="refund",
        items=[("order-1", Money(3000, NOK), "key-1"), ("order-2", Money(4000, NOK), "key-2")],
        total=Money(7000, NOK),
        reason="returned",
        again=False,
        requested_by="siri",
        lifetime=lifetime,
    )


def audit(store: PgStore) -> list[tuple[str, str, str]]:
    return [(e.os_user, e.action, e.result) for e in reversed(store.audit.entries())]


def test_a_request_is_decided_once_and_never_by_its_asker(store: PgStore) -> None:
    request = ask(store)
    assert request.describe() == "refund of 2 payments, 70.00 NOK in all"
    assert [i.idempotency_key for i in request.items] == ["key-1", "key-2"]
    assert store.approvals.decide(request.id, "approved", by="siri") == (False, request)
    decided, approved = store.approvals.decide(request.id, "approved", by="sven", note="ok")
    assert decided
    assert approved is not None
    assert (approved.status, approved.decided_by, approved.note) == ("approved", "sven", "ok")
    assert store.approvals.decide(request.id, "rejected", by="anna")[0] is False
    assert store.approvals.finish(request.id, "sent", by="sven", summary="done")
    assert not store.approvals.finish(request.id, "sent", by="anna", summary="again")
    assert audit(store) == [
        ("siri", "approval", "asked"),
        ("sven", "approval", "approved"),
        ("sven", "approval", "sent"),
    ]
    assert store.approvals.decide(424242, "approved", by="sven") == (False, None)


def test_an_expired_request_cannot_be_decided_and_is_expired_once(store: PgStore) -> None:
    request = ask(store, lifetime=timedelta(microseconds=1))
    decided, now = store.approvals.decide(request.id, "approved", by="sven")
    assert not decided
    assert now is not None
    assert now.status == "expired"
    assert store.approvals.expire_due() == []
    assert audit(store).count(("epay-team", "approval", "expired")) == 1
    assert store.approvals.all(status="pending") == []


@pytest.mark.parametrize(
    "statement",
    [
        # the asker approving, written straight to the database
        "UPDATE approval_requests SET status = 'approved', decided_by = 'siri' WHERE id = {id}",
        "UPDATE approval_requests SET status = 'sent' WHERE id = {id}",  # never approved
        "UPDATE approval_requests SET reason = 'something else' WHERE id = {id}",
        "UPDATE approval_requests SET expires_at = expires_at + interval '1 day' WHERE id = {id}",
        "DELETE FROM approval_requests WHERE id = {id}",
        "UPDATE approval_items SET idempotency_key = 'other' WHERE request_id = {id}",
        "DELETE FROM approval_items WHERE request_id = {id}",
        "TRUNCATE approval_requests CASCADE",
    ],
)
def test_the_database_refuses_rewriting_a_request(store: PgStore, statement: str) -> None:
    request = ask(store)
    with pytest.raises(RegisterError):
        store.db.write("tampering", lambda c: c.execute(statement.format(id=request.id)))  # type: ignore[arg-type]
    assert store.approvals.get(request.id) == request


def test_a_decided_request_cannot_be_reopened_or_redecided(store: PgStore) -> None:
    request = ask(store)
    assert store.approvals.decide(request.id, "rejected", by="sven")[0]
    rejected = store.approvals.get(request.id)
    for statement in (
        "UPDATE approval_requests SET status = 'pending' WHERE id = {id}",
        "UPDATE approval_requests SET status = 'approved' WHERE id = {id}",
        "UPDATE approval_requests SET decided_by = 'anna' WHERE id = {id}",
    ):
        with pytest.raises(RegisterError, match="approval request"):
            store.db.write("tampering", lambda c, s=statement: c.execute(s.format(id=request.id)))  # type: ignore[misc]
    assert store.approvals.get(request.id) == rejected


def test_the_service_role_can_keep_approvals_and_cannot_rewrite_them(postgres_cluster: Cluster) -> None:
    """Run as the role the guide recommends (``grant_service_role``): it asks, decides, sends and
    expires, reads who last did what; it cannot delete requests, change their keys or get around the
    guard."""
    conninfo = postgres_cluster.new_database()
    PgStore(conninfo).close()
    role = f"service_{conninfo_to_dict(conninfo)['dbname']}"
    with psycopg.connect(conninfo, autocommit=True) as owner:
        owner.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    grant_service_role(conninfo, role)
    as_service = make_conninfo(conninfo, user=role)
    with PgStore(as_service, migrate=False) as service:
        request = ask(service)
        assert service.approvals.decide(request.id, "approved", by="sven")[0]
        assert service.approvals.finish(request.id, "sent", by="sven", summary="done")
        assert service.activity.last_actions("123456") == {}
        assert [r.status for r in service.approvals.all(status=None)] == ["sent"]
    with psycopg.connect(as_service, autocommit=True) as conn:
        for statement in (
            f"DELETE FROM approval_requests WHERE id = {request.id}",
            f"DELETE FROM approval_items WHERE request_id = {request.id}",
            "ALTER TABLE approval_requests DISABLE TRIGGER approval_guard",
            "DROP TRIGGER approval_guard ON approval_requests",
            "SET session_replication_role = replica",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
