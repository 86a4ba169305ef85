"""Every approval request ends, once, audited, with real parts (the throwaway PostgreSQL cluster, the
sandbox and two ``epay-team`` instances under uvicorn): an approved request whose payment cannot move
any more ends ``failed`` with why; one approved but never started (its instance stopped first) ends
``expired`` when its time is up; the database never begins a payment of a request that is not
approved, whoever asks."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from epay_desktop.api.team_client import TeamClient
from epay_desktop.services.team_inbox import ApprovalsInbox
from tests.team.conftest import MSN, TeamRig, token
from tests.team.test_approvals import (
    APPROVALS,
    _move_expiry,
    approving,
    ask_refund,
    captured_payment,
    get,
    nok,
    post,
    refund_events,
    requests_in_database,
)
from tests.team.test_team_service import audit, move

__all__ = ["approving"]  # the fixture, used by name below

pytestmark = pytest.mark.slow


def test_an_approved_refund_that_no_longer_fits_ends_failed_with_why_once(approving: TeamRig) -> None:
    rig = approving
    reference = captured_payment(rig)  # 100.00 NOK captured
    siri, sven = token(rig.first, "siri"), token(rig.second, "sven")
    asked = ask_refund(rig, reference, 6000)
    # Meanwhile 80.00 NOK goes back below the threshold: 60.00 no longer fits in what is left.
    for again in (False, True):
        body: dict[str, Any] = {"amount": nok(4000), "again": again}
        done = move(rig.first, siri, "refund", reference, body)
        assert done.status_code == 200, done.text
    assert refund_events(rig, reference) == 2

    approved = post(rig.second, sven, f"{APPROVALS}/{asked['id']}/approve")
    assert approved.status_code == 200, approved.text
    request = approved.json()["approval"]
    assert request["status"] == "failed"
    assert reference in request["failure"]
    assert request["finishedAt"] is not None
    assert approved.json()["items"][0]["error"] is not None
    assert refund_events(rig, reference) == 2  # the held refund never moved money

    # Shown as it ended, to every supervisor (the asker too) on either instance; never sent later.
    failed = get(rig.first, siri, f"{APPROVALS}?status=failed").json()["approvals"]
    assert [(a["id"], a["status"]) for a in failed] == [(asked["id"], "failed")]
    assert get(rig.first, siri, APPROVALS).json()["approvals"] == []  # nothing waits
    again = post(rig.first, token(rig.first, "admin"), f"{APPROVALS}/{asked['id']}/send")
    assert (again.status_code, again.json()["error"]) == (409, "not_approved")
    assert audit(rig).count(("sven", "approval", "failed")) == 1
    assert ("sven", "approval", "sent") not in audit(rig)
    assert requests_in_database(rig) == [(asked["id"], "failed", "sven")]


def test_the_inbox_says_an_approved_request_could_not_be_sent_and_why(approving: TeamRig) -> None:
    rig = approving
    reference = captured_payment(rig)
    siri = token(rig.first, "siri")
    asked = ask_refund(rig, reference, 6000)
    for again in (False, True):
        done = move(rig.first, siri, "refund", reference, {"amount": nok(4000), "again": again})
        assert done.status_code == 200, done.text

    async def main() -> None:
        async with TeamClient(rig.second, token=token(rig.second, "sven")) as client:

            async def ask(call: Any) -> Any:
                return await call

            inbox = ApprovalsInbox(client, MSN, ask)
            (waiting,) = await inbox.requests()
            decision = await inbox.approve(waiting)
            assert f"Approved #{asked['id']}, but it could not be sent" in decision.message
            assert reference in decision.message
            (failed,) = await inbox.requests("failed")
            assert failed.status == "failed"
            assert reference in failed.failure
            assert failed.finished_at is not None

    asyncio.run(main())
    assert refund_events(rig, reference) == 2


def test_an_approved_request_never_started_expires_and_is_never_sent(approving: TeamRig) -> None:
    rig = approving
    reference = captured_payment(rig)
    sven = token(rig.first, "sven")
    asked = ask_refund(rig, reference, 6000)
    # Approved, and the instance that approved it stopped before it started the refund (no one
    # pressed Send): the decision is in the database, nothing else.
    with psycopg.connect(rig.config.database) as conn:
        conn.execute(
            "UPDATE approval_requests SET status = 'approved', decided_by = 'sven', "
            "decided_at = clock_timestamp() WHERE id = %s",
            (asked["id"],),
        )
    # While its time is not up it waits for a Send (any instance's expiry leaves it alone).
    assert get(rig.second, sven, APPROVALS).status_code == 200
    assert requests_in_database(rig) == [(asked["id"], "approved", "sven")]

    with psycopg.connect(rig.config.database) as conn:
        _move_expiry(conn, asked["id"])
    for url in (rig.first, rig.second):  # both instances expire what is due; it ends once
        assert get(url, sven, APPROVALS).status_code == 200
    assert requests_in_database(rig) == [(asked["id"], "expired", "sven")]
    ended = get(rig.first, sven, f"{APPROVALS}/{asked['id']}").json()
    assert ended["finishedAt"] is not None
    assert ended["failure"] == ""
    assert audit(rig).count(("epay-team", "approval", "expired")) == 1
    late = post(rig.second, sven, f"{APPROVALS}/{asked['id']}/send")
    assert (late.status_code, late.json()["error"]) == (409, "not_approved")
    assert refund_events(rig, reference) == 0

    # Nor can anyone with the database begin its refund with the key fixed for it.
    key = asked["items"][0]["idempotencyKey"]
    with psycopg.connect(rig.config.database) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO intents (operation, profile, msn, reference, amount, currency, idempotency_key, "
            "created_at, os_user) VALUES ('refund', 'team', %s, %s, 6000, 'NOK', %s, now(), 'sven')",
            (MSN, reference, key),
        )


def test_the_database_refuses_an_ended_request_going_anywhere_else(approving: TeamRig) -> None:
    rig = approving
    reference = captured_payment(rig)
    asked = ask_refund(rig, reference, 6000)
    rejected = post(
        rig.second, token(rig.second, "sven"), f"{APPROVALS}/{asked['id']}/reject", {"note": "no"}
    )
    assert rejected.status_code == 200, rejected.text
    for change in (
        "status = 'failed', failure = 'x'",
        "status = 'sent'",
        "finished_at = clock_timestamp()",
    ):
        with psycopg.connect(rig.config.database) as conn, pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(f"UPDATE approval_requests SET {change} WHERE id = %s", (asked["id"],))
