"""Who did what, read from ``epay-team`` with hand-made HTTP requests: a merchant's audit and journal
(one payment's for every role, the whole for supervisors), Resume of one named operation a stopped
instance left, and a supervisor's Abandon. Real parts: PostgreSQL (a throwaway cluster), the sandbox and
two service instances under uvicorn on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from epay_desktop.api import new_idempotency_key
from epay_desktop.store import Intent, Operation
from epay_desktop.store.postgres import PgStore
from tests.team.conftest import MSN, TeamRig, bearer, token
from tests.team.test_team_service import add_agents, approved_payment, create_admin, event_names, move


@pytest.fixture
def staffed(team_rig: TeamRig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TeamRig:
    assert create_admin(team_rig, tmp_path, monkeypatch) == 0
    add_agents(
        team_rig, token(team_rig.first, "admin"), kari="agent", ola="agent", vera="viewer", siri="supervisor"
    )
    return team_rig


def get(url: str, who: str, path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{url}/api/v1/merchants/{MSN}/{path}", params=params, headers=bearer(who), timeout=30)


def left_by_a_stopped_instance(rig: TeamRig, reference: str, who: str, *, minutes: int = 10) -> Intent:
    """A cancel journaled as an instance does before sending, ``minutes`` ago, with nothing after it:
    that instance stopped there."""
    with PgStore(rig.config.database, migrate=False) as store:
        return store.journal.begin(
            operation=Operation.CANCEL,
            profile="team",
            msn=MSN,
            reference=reference,
            amount=None,
            idempotency_key=new_idempotency_key(),
            os_user=who,
            now=datetime.now(UTC) - timedelta(minutes=minutes),
        )


def test_a_payments_history_names_the_agents_and_the_whole_audit_is_for_supervisors(
    staffed: TeamRig,
) -> None:
    rig = staffed
    reference = approved_payment(rig)
    kari, vera, siri = (token(rig.first, n) for n in ("kari", "vera", "siri"))
    assert move(rig.first, kari, "cancel", reference).status_code == 200

    # A viewer, on the other instance, reads the payment's own history: who asked, who finished.
    own = get(rig.second, vera, "audit", reference=reference)
    assert own.status_code == 200, own.text
    lines = [(e["agent"], e["action"], e["result"]) for e in own.json()["audit"]]
    assert lines == [("kari", "cancel", "succeeded"), ("kari", "cancel", "requested")]  # newest first
    first = own.json()["audit"][0]
    assert first["reference"] == reference
    assert first["idempotencyKey"]
    assert datetime.fromisoformat(first["at"]).tzinfo is not None

    # The whole audit and the whole journal are refused to a viewer and an agent, and the refusal is
    # itself in the audit, which a supervisor reads whole (logins included).
    for who in (vera, kari):
        for path, params in (("audit", {}), ("intents", {"status": "all"})):
            refused = get(rig.second, who, path, **params)
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"] == "not_permitted"
            assert "supervisor" in refused.json()["message"]
    whole = get(rig.first, siri, "audit")
    assert whole.status_code == 200, whole.text
    seen = {(e["agent"], e["action"], e["result"]) for e in whole.json()["audit"]}
    assert ("vera", "read the whole audit", "refused") in seen
    assert ("kari", "read the whole journal", "refused") in seen
    assert ("kari", "login", "succeeded") in seen
    assert ("kari", "cancel", "succeeded") in seen
    journal = get(rig.first, siri, "intents", status="all")
    assert journal.status_code == 200, journal.text
    (done,) = journal.json()["intents"]
    assert (done["askedBy"], done["finishedBy"], done["status"]) == ("kari", "kari", "succeeded")

    # Paging: newest first, one line a page, each page older than the one before; bad input refused.
    page_one = get(rig.first, siri, "audit", limit=1).json()["audit"]
    page_two = get(rig.first, siri, "audit", limit=1, before=page_one[0]["id"]).json()["audit"]
    assert len(page_one) == len(page_two) == 1
    assert page_two[0]["id"] < page_one[0]["id"]
    for bad in ({"limit": 0}, {"limit": 1001}, {"before": "x"}):
        assert get(rig.first, siri, "audit", **bad).status_code == 400
    assert get(rig.first, siri, "intents", status="later").status_code == 400
    unknown = httpx.get(f"{rig.first}/api/v1/merchants/999999/audit", headers=bearer(siri), timeout=30)
    assert unknown.status_code == 404
    assert httpx.get(f"{rig.first}/api/v1/merchants/{MSN}/audit", timeout=30).status_code == 401


def test_an_operation_left_by_a_stopped_instance_is_listed_and_resumed_once(staffed: TeamRig) -> None:
    rig = staffed
    reference = approved_payment(rig)
    left = left_by_a_stopped_instance(rig, reference, "kari")
    vera, ola = token(rig.first, "vera"), token(rig.second, "ola")

    pending = get(rig.first, vera, "intents")  # pending ones: every role
    assert pending.status_code == 200, pending.text
    (item,) = pending.json()["intents"]
    assert (item["id"], item["askedBy"], item["status"], item["stalled"]) == (
        left.id,
        "kari",
        "pending",
        True,
    )

    # A viewer may not send it again; an agent on the other instance does, naming the operation.
    body = {"intent": left.id, "decided": True}
    assert move(rig.second, vera, "resume", reference, body).status_code == 403
    resumed = move(rig.second, ola, "resume", reference, body)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["by"] == "ola"
    again = move(rig.first, ola, "resume", reference, body)
    assert again.status_code == 404
    assert again.json()["error"] == "nothing_pending"
    assert event_names(rig, reference).count("CANCELLED") == 1
    assert get(rig.first, vera, "intents").json()["intents"] == []
    history = [
        (e["agent"], e["result"]) for e in get(rig.first, vera, "audit", reference=reference).json()["audit"]
    ]
    assert history == [("ola", "succeeded"), ("vera", "refused"), ("kari", "requested")]
    assert move(rig.first, ola, "resume", reference, {"intent": "one"}).status_code == 400


def test_only_a_supervisor_abandons_and_never_one_that_may_still_be_on_its_way(staffed: TeamRig) -> None:
    rig = staffed
    reference = approved_payment(rig)
    left = left_by_a_stopped_instance(rig, reference, "kari")
    kari, siri = token(rig.first, "kari"), token(rig.second, "siri")

    def abandon(url: str, who: str, intent_id: int) -> httpx.Response:
        return httpx.post(
            f"{url}/api/v1/merchants/{MSN}/intents/{intent_id}/abandon", headers=bearer(who), timeout=30
        )

    refused = abandon(rig.first, kari, left.id)
    assert refused.status_code == 403
    assert refused.json()["error"] == "not_permitted"
    with psycopg.connect(rig.config.database) as conn:
        # Sent a moment ago by an instance that may still be waiting for the answer.
        conn.execute(
            "UPDATE intents SET attempts = 1, outcome = %s WHERE id = %s",
            (f"last attempt sent at {datetime.now(UTC).isoformat()}", left.id),
        )
    on_its_way = abandon(rig.second, siri, left.id)
    assert on_its_way.status_code == 409
    assert on_its_way.json()["error"] == "may_be_on_its_way"
    with psycopg.connect(rig.config.database) as conn:
        old = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
        conn.execute(
            "UPDATE intents SET outcome = %s WHERE id = %s", (f"last attempt sent at {old}", left.id)
        )
    abandoned = abandon(rig.second, siri, left.id)
    assert abandoned.status_code == 200, abandoned.text
    assert abandoned.json()["reconciled"] is False
    assert "siri" in abandoned.json()["message"]
    assert abandon(rig.first, siri, left.id).json()["error"] == "already_finished"
    assert abandon(rig.first, siri, 999_999).status_code == 404
    assert "CANCELLED" not in event_names(rig, reference)
    history = get(rig.first, siri, "audit", reference=reference).json()["audit"]
    assert [(e["agent"], e["result"]) for e in history] == [("siri", "failed"), ("kari", "requested")]
    whole = {(e["agent"], e["action"], e["result"]) for e in get(rig.first, siri, "audit").json()["audit"]}
    assert ("kari", "abandon an operation", "refused") in whole
    # The payment is free again: an agent cancels it.
    assert move(rig.first, kari, "cancel", reference).status_code == 200
