"""Four-eyes approval end to end with real parts: the throwaway PostgreSQL cluster, the sandbox and two
``epay-team`` instances under uvicorn on 127.0.0.1, and plain HTTP requests made by hand (as a desktop,
or anyone holding a token, would make them)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from epay_desktop.api import Environment
from epay_desktop.domain import Currency, Money
from epay_desktop.sandbox import SandboxConfig
from epay_desktop.team.config import Merchant, TeamConfig
from tests.support.postgres import Cluster
from tests.support.sandbox_server import running_sandbox
from tests.team.conftest import CREDENTIALS, MSN, TeamRig, bearer, running_team, token
from tests.team.test_team_service import add_agents, approved_payment, audit, create_admin, event_names, move

THRESHOLD = Money(5000, Currency.NOK)  # 50.00 NOK
APPROVALS = "/api/v1/approvals"
BATCH = f"/api/v1/merchants/{MSN}/batch"


def nok(value: int) -> dict[str, Any]:
    return {"value": value, "currency": "NOK"}


def get(url: str, who: str, path: str) -> httpx.Response:
    return httpx.get(f"{url}{path}", headers=bearer(who), timeout=60)


def post(url: str, who: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    return httpx.post(f"{url}{path}", json=body or {}, headers=bearer(who), timeout=60)


@pytest.fixture
def approving(
    postgres_cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TeamRig]:
    """Two instances on one database, the merchant's refunds and batches above 50.00 NOK held for
    approval; agents: kari (agent), vera (viewer), siri and sven (supervisors), admin."""
    conninfo = postgres_cluster.new_schema("approvals")
    with running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as sandbox:
        merchant = Merchant(Environment.sandbox(sandbox), CREDENTIALS, approval_threshold=THRESHOLD)
        config = TeamConfig(conninfo, (merchant,), approval_lifetime=timedelta(hours=24))
        with running_team(config, migrate=True) as first, running_team(config) as second:
            rig = TeamRig(sandbox, config, first, second)
            assert create_admin(rig, tmp_path, monkeypatch) == 0
            staff = {"kari": "agent", "vera": "viewer", "siri": "supervisor", "sven": "supervisor"}
            add_agents(rig, token(first, "admin"), **staff)
            yield rig


def captured_payment(rig: TeamRig, value: int = 10000) -> str:
    reference = approved_payment(rig, value)
    answer = move(rig.first, token(rig.first, "kari"), "capture", reference, {"amount": nok(value)})
    assert answer.status_code == 200, answer.text
    return reference


def refund_events(rig: TeamRig, reference: str) -> int:
    return event_names(rig, reference).count("REFUNDED")


def requests_in_database(rig: TeamRig) -> list[tuple[int, str, str | None]]:
    with psycopg.connect(rig.config.database) as conn:
        rows = conn.execute("SELECT id, status, decided_by FROM approval_requests ORDER BY id").fetchall()
    return [(int(i), str(s), str(d) if d is not None else None) for i, s, d in rows]


def ask_refund(rig: TeamRig, reference: str, value: int, *, who: str = "siri") -> dict[str, Any]:
    answer = move(
        rig.first,
        token(rig.first, who),
        "refund",
        reference,
        {"amount": nok(value), "reason": "customer returned the goods"},
    )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["held"] is True
    approval: dict[str, Any] = body["approval"]
    return approval


def test_a_refund_above_the_threshold_waits_for_another_supervisor_and_is_sent_once(
    approving: TeamRig,
) -> None:
    rig = approving
    reference = captured_payment(rig)
    siri, sven = token(rig.first, "siri"), token(rig.second, "sven")

    thresholds = get(rig.first, siri, "/api/v1/merchants").json()["approvalThresholds"]
    assert thresholds == {MSN: nok(5000)}

    no_reason = move(rig.first, siri, "refund", reference, {"amount": nok(6000)})
    assert no_reason.status_code == 400
    assert no_reason.json()["error"] == "reason_needed"
    assert no_reason.json()["threshold"] == nok(5000)
    assert requests_in_database(rig) == []

    asked = ask_refund(rig, reference, 6000)
    assert (asked["status"], asked["requestedBy"], asked["operation"]) == ("pending", "siri", "refund")
    assert asked["reason"] == "customer returned the goods"
    assert asked["total"] == nok(6000)
    assert [i["reference"] for i in asked["items"]] == [reference]
    assert asked["items"][0]["intentId"] is None
    assert refund_events(rig, reference) == 0  # held: nothing sent

    # At or below the threshold a refund is sent at once.
    below = move(rig.first, siri, "refund", reference, {"amount": nok(4000)})
    assert below.status_code == 200, below.text
    assert refund_events(rig, reference) == 1

    own = post(rig.second, siri, f"{APPROVALS}/{asked['id']}/approve")
    assert (own.status_code, own.json()["error"]) == (403, "own_request")

    inbox = get(rig.second, sven, APPROVALS)
    assert inbox.status_code == 200
    assert [a["id"] for a in inbox.json()["approvals"]] == [asked["id"]]

    approved = post(rig.second, sven, f"{APPROVALS}/{asked['id']}/approve", {"note": "receipt seen"})
    assert approved.status_code == 200, approved.text
    sent = approved.json()
    assert sent["approval"]["status"] == "sent"
    assert (sent["approval"]["decidedBy"], sent["approval"]["note"]) == ("sven", "receipt seen")
    (item,) = sent["items"]
    assert item["error"] is None
    assert item["result"]["moved"] == nok(6000)
    assert item["result"]["idempotency_key"] == asked["items"][0]["idempotencyKey"]
    assert refund_events(rig, reference) == 2

    admin = token(rig.first, "admin")
    twice = post(rig.first, admin, f"{APPROVALS}/{asked['id']}/approve")
    assert twice.status_code == 409
    assert (twice.json()["error"], twice.json()["by"], twice.json()["requestStatus"]) == (
        "request_closed",
        "sven",
        "sent",
    )
    again = post(rig.first, admin, f"{APPROVALS}/{asked['id']}/send")
    assert again.status_code == 200
    assert again.json()["items"][0]["result"] is None  # finished before: nothing sent
    assert refund_events(rig, reference) == 2
    assert get(rig.first, sven, APPROVALS).json()["approvals"] == []

    lines = audit(rig)
    for line in (
        ("siri", "approval", "asked"),
        ("sven", "approval", "approved"),
        ("sven", "refund", "requested"),
        ("sven", "refund", "succeeded"),
        ("sven", "approval", "sent"),
    ):
        assert lines.count(line) == 1, line
    assert lines.index(("siri", "approval", "asked")) < lines.index(("sven", "approval", "approved"))
    assert lines.index(("sven", "approval", "approved")) < lines.index(("sven", "refund", "requested"))


def test_roles_are_checked_by_the_server_on_every_approval_call(approving: TeamRig) -> None:
    rig = approving
    reference = captured_payment(rig)
    asked = ask_refund(rig, reference, 6000)
    vera, kari = token(rig.first, "vera"), token(rig.second, "kari")
    number = asked["id"]

    for who, url in ((vera, rig.first), (kari, rig.second)):
        for method, path, body in (
            ("GET", APPROVALS, None),
            ("GET", f"{APPROVALS}/{number}", None),
            ("POST", f"{APPROVALS}/{number}/approve", {}),
            ("POST", f"{APPROVALS}/{number}/reject", {}),
            ("POST", f"{APPROVALS}/{number}/send", {}),
            ("POST", BATCH, {"operation": "refund", "items": [{"reference": reference, "amount": nok(100)}]}),
        ):
            # A request made by hand, as any HTTP client would make it.
            answer = httpx.request(method, f"{url}{path}", json=body, headers=bearer(who), timeout=60)
            assert answer.status_code == 403, (method, path, answer.text)
            assert answer.json()["error"] == "not_permitted"
    # An agent may not ask for a refund (supervisors do), held or not.
    refused = move(rig.first, kari, "refund", reference, {"amount": nok(6000), "reason": "please"})
    assert refused.status_code == 403
    assert httpx.post(f"{rig.first}{APPROVALS}/{number}/approve", timeout=30).status_code == 401

    assert requests_in_database(rig) == [(number, "pending", None)]
    assert refund_events(rig, reference) == 0
    lines = audit(rig)
    assert lines.count(("vera", f"{APPROVALS}/{number}/approve", "refused")) == 1
    assert lines.count(("kari", f"{APPROVALS}/{number}/approve", "refused")) == 1
    assert ("kari", "refund", "refused") in lines


def test_a_rejected_or_withdrawn_request_is_never_sent(approving: TeamRig) -> None:
    rig = approving
    reference = captured_payment(rig)
    sven, siri = token(rig.second, "sven"), token(rig.first, "siri")
    first = ask_refund(rig, reference, 6000)
    rejected = post(rig.second, sven, f"{APPROVALS}/{first['id']}/reject", {"note": "no receipt"})
    assert rejected.status_code == 200, rejected.text
    decided = rejected.json()["approval"]
    assert (decided["status"], decided["decidedBy"]) == ("rejected", "sven")
    late = post(rig.first, token(rig.first, "admin"), f"{APPROVALS}/{first['id']}/approve")
    assert (late.status_code, late.json()["error"], late.json()["by"]) == (409, "request_closed", "sven")
    unsent = post(rig.first, sven, f"{APPROVALS}/{first['id']}/send")
    assert (unsent.status_code, unsent.json()["error"]) == (409, "not_approved")

    second = ask_refund(rig, reference, 7000)
    withdrawn = post(rig.first, siri, f"{APPROVALS}/{second['id']}/reject", {"note": "wrong amount"})
    assert withdrawn.status_code == 200
    assert post(rig.second, sven, f"{APPROVALS}/{second['id']}/approve").status_code == 409

    assert refund_events(rig, reference) == 0
    assert [s for _i, s, _d in requests_in_database(rig)] == ["rejected", "rejected"]
    assert get(rig.first, sven, f"{APPROVALS}/999999").status_code == 404
    lines = audit(rig)
    assert ("sven", "approval", "rejected") in lines
    assert ("siri", "approval", "rejected") in lines
    assert not any(action == "refund" and result == "requested" for _w, action, result in lines)


def test_two_supervisors_approving_at_the_same_moment_send_once(approving: TeamRig) -> None:
    rig = approving
    reference = captured_payment(rig)
    asked = ask_refund(rig, reference, 6000)
    deciders = (token(rig.first, "sven"), token(rig.second, "admin"))
    together = threading.Barrier(2)

    def approve(url: str, who: str) -> httpx.Response:
        together.wait(timeout=30)
        return post(url, who, f"{APPROVALS}/{asked['id']}/approve")

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(approve, (rig.first, rig.second), deciders))

    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    won = next(a for a in answers if a.status_code == 200).json()
    lost = next(a for a in answers if a.status_code == 409).json()
    assert lost["error"] == "request_closed"
    assert lost["by"] == won["approval"]["decidedBy"]  # the other is told who approved it
    assert refund_events(rig, reference) == 1
    with psycopg.connect(rig.config.database) as conn:
        (count,) = conn.execute("SELECT count(*) FROM intents WHERE operation = 'refund'").fetchone() or (0,)
    assert count == 1
    assert [line for line in audit(rig) if line[1:] == ("approval", "approved")] == [
        (won["approval"]["decidedBy"], "approval", "approved")
    ]


def _move_expiry(conn: psycopg.Connection[Any], request_id: int) -> None:
    """Put the request's time in the past (its guard trigger, which keeps what a request asked for, is
    skipped for this transaction only: the test moves the clock)."""
    conn.execute("SET LOCAL session_replication_role = replica")
    conn.execute(
        "UPDATE approval_requests SET expires_at = clock_timestamp() - interval '1 second' WHERE id = %s",
        (request_id,),
    )


def _lock(rig: TeamRig, request_id: int) -> psycopg.Connection[Any]:
    """A connection (the cluster's superuser) holding the request's row locked in an open transaction."""
    conn = psycopg.connect(rig.config.database)
    conn.execute("SELECT 1 FROM approval_requests WHERE id = %s FOR UPDATE", (request_id,))
    return conn


def _until_waiting(rig: TeamRig, count: int) -> None:
    """Until ``count`` connections wait for a lock (the calls under test reached the locked row; the
    store gives up after its 5 s lock timeout, so this polls quickly)."""
    deadline = time.monotonic() + 4
    while True:
        with psycopg.connect(rig.config.database) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchone()
        if row is not None and int(row[0]) >= count:
            return
        assert time.monotonic() < deadline, f"fewer than {count} calls waited on the request"
        time.sleep(0.02)


def test_an_approval_racing_an_expiry_on_the_other_instance_is_consistent(approving: TeamRig) -> None:
    rig = approving
    reference = captured_payment(rig)
    sven = token(rig.first, "sven")

    # The time is up: instance A approves while instance B expires it (its inbox expires what is due),
    # both held on the row, then let go at once.
    asked = ask_refund(rig, reference, 6000)
    with psycopg.connect(rig.config.database) as conn:
        _move_expiry(conn, asked["id"])
    holder = _lock(rig, asked["id"])
    with ThreadPoolExecutor(2) as pool:
        approving_on_a = pool.submit(post, rig.first, sven, f"{APPROVALS}/{asked['id']}/approve")
        expiring_on_b = pool.submit(get, rig.second, sven, APPROVALS)
        _until_waiting(rig, 2)
        holder.commit()
        holder.close()
        approved, inbox = approving_on_a.result(timeout=60), expiring_on_b.result(timeout=60)
    assert approved.status_code == 409, approved.text
    assert (approved.json()["error"], approved.json()["requestStatus"]) == ("request_closed", "expired")
    assert (inbox.status_code, inbox.json()["approvals"]) == (200, [])
    assert requests_in_database(rig) == [(asked["id"], "expired", None)]
    assert audit(rig).count(("epay-team", "approval", "expired")) == 1  # expired once, by one of them
    late = post(rig.second, sven, f"{APPROVALS}/{asked['id']}/send")
    assert (late.status_code, late.json()["error"]) == (409, "not_approved")

    # An approval waiting on the row while the time runs out: it finds the request expired.
    second = ask_refund(rig, reference, 7000)
    holder = _lock(rig, second["id"])
    with ThreadPoolExecutor(1) as pool:
        approving_on_a = pool.submit(post, rig.first, sven, f"{APPROVALS}/{second['id']}/approve")
        _until_waiting(rig, 1)
        _move_expiry(holder, second["id"])
        holder.commit()
        holder.close()
        approved = approving_on_a.result(timeout=60)
    assert (approved.status_code, approved.json()["requestStatus"]) == (409, "expired")
    assert get(rig.second, sven, APPROVALS).json()["approvals"] == []
    assert audit(rig).count(("epay-team", "approval", "expired")) == 2

    # Approved while the time was not up: sent, and an expiry afterwards leaves it alone.
    third = ask_refund(rig, reference, 8000)
    holder = _lock(rig, third["id"])
    with ThreadPoolExecutor(1) as pool:
        approving_on_a = pool.submit(post, rig.first, sven, f"{APPROVALS}/{third['id']}/approve")
        _until_waiting(rig, 1)
        assert get(rig.second, sven, APPROVALS).status_code == 200  # nothing due: it does not wait
        holder.commit()
        holder.close()
        assert approving_on_a.result(timeout=60).status_code == 200
    with psycopg.connect(rig.config.database) as conn:
        _move_expiry(conn, third["id"])
    assert get(rig.second, sven, APPROVALS).status_code == 200
    assert requests_in_database(rig)[-1] == (third["id"], "sent", "sven")
    assert audit(rig).count(("epay-team", "approval", "expired")) == 2
    assert refund_events(rig, reference) == 1  # only the third was sent


def test_a_batch_above_the_threshold_is_held_and_one_below_is_sent(approving: TeamRig) -> None:
    rig = approving
    siri, sven = token(rig.first, "siri"), token(rig.second, "sven")
    small = [captured_payment(rig, 2000) for _ in range(2)]
    big = [captured_payment(rig, 3000) for _ in range(2)]

    below = post(
        rig.first,
        siri,
        BATCH,
        {"operation": "refund", "items": [{"reference": r, "amount": nok(2000)} for r in small]},
    )
    assert below.status_code == 200, below.text
    assert below.json()["held"] is False
    assert [i["result"]["moved"] for i in below.json()["items"]] == [nok(2000), nok(2000)]
    assert [refund_events(rig, r) for r in small] == [1, 1]

    body = {
        "operation": "refund",
        "items": [{"reference": r, "amount": nok(3000)} for r in big],
        "reason": "the whole order came back",
    }
    held = post(rig.first, siri, BATCH, body)
    assert held.status_code == 202, held.text
    request = held.json()["approval"]
    assert request["total"] == nok(6000)
    assert request["description"] == "refund of 2 payments, 60.00 NOK in all"
    assert [refund_events(rig, r) for r in big] == [0, 0]

    sent = post(rig.second, sven, f"{APPROVALS}/{request['id']}/approve")
    assert sent.status_code == 200, sent.text
    assert sent.json()["approval"]["status"] == "sent"
    assert [i["result"]["moved"] for i in sent.json()["items"]] == [nok(3000), nok(3000)]
    assert [refund_events(rig, r) for r in big] == [1, 1]

    # A batch of cancels whose payments the team never read: what they release is not known, so held.
    unread = [approved_payment(rig, 1000) for _ in range(2)]
    cancels = post(
        rig.first,
        siri,
        BATCH,
        {"operation": "cancel", "items": [{"reference": r} for r in unread], "reason": "shop closed"},
    )
    assert cancels.status_code == 202, cancels.text
    assert cancels.json()["approval"]["total"] is None
    for bad in (
        {"operation": "refund", "items": []},
        {"operation": "nothing", "items": [{"reference": "a-1"}]},
        {"operation": "refund", "items": [{"reference": "a-1"}]},
    ):
        assert post(rig.first, siri, BATCH, bad).status_code == 400, bad
    twice = {"operation": "capture", "items": [{"reference": "a-1", "amount": nok(1)}] * 2}
    assert post(rig.first, siri, BATCH, twice).status_code == 409


def test_an_admin_sets_the_threshold_for_every_instance(approving: TeamRig) -> None:
    admin = token(approving.first, "admin")
    limits = f"/api/v1/merchants/{MSN}/limits"

    def put(who: str, body: Any) -> httpx.Response:
        return httpx.put(f"{approving.second}{limits}", json=body, headers=bearer(who), timeout=60)

    siri = token(approving.first, "siri")
    assert put(siri, {"approvalThreshold": nok(100000)}).status_code == 403  # a supervisor may not
    for bad in ({}, {"approvalThreshold": {"value": "x"}}, {"approvalThreshold": nok(-1)}, {"other": 1}):
        assert put(admin, bad).status_code == 400, bad
    assert (
        httpx.put(
            f"{approving.second}/api/v1/merchants/999999/limits",
            json={"approvalThreshold": None},
            headers=bearer(admin),
            timeout=60,
        ).status_code
        == 404
    )

    # Raised to 200.00 NOK on the second instance: a 100.00 NOK refund through the first is sent at once.
    assert put(admin, {"approvalThreshold": nok(20000)}).json() == {"approvalThreshold": nok(20000)}
    listed = get(approving.first, siri, "/api/v1/merchants").json()
    assert listed["approvalThresholds"][MSN] == nok(20000)
    reference = captured_payment(approving)
    sent = move(approving.first, siri, "refund", reference, {"amount": nok(10000)})
    assert sent.status_code == 200, sent.text
    assert refund_events(approving, reference) == 1

    # Lowered again to 50.00: the next refund is held; none: nothing is held.
    assert put(admin, {"approvalThreshold": nok(5000)}).status_code == 200
    other = captured_payment(approving)
    ask_refund(approving, other, 6000)
    assert refund_events(approving, other) == 0
    assert put(admin, {"approvalThreshold": None}).json() == {"approvalThreshold": None}
    assert MSN not in get(approving.first, siri, "/api/v1/merchants").json()["approvalThresholds"]
    sent = move(approving.first, siri, "refund", other, {"amount": nok(3000), "reason": "goodwill"})
    assert sent.status_code == 200, sent.text
    assert ("admin", "set limit", "succeeded") in audit(approving)
