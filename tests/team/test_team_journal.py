"""The team desk's journal and audit (``services/team_journal.py``) below the window: the operations a
stopped instance left, each naming who asked; a supervisor's Abandon through the server and an agent's
refused; the audit's pages read whole; an answer that cannot be read said, never guessed. Real
``epay-team`` instances under uvicorn on 127.0.0.1 with a throwaway PostgreSQL and the sandbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from epay_desktop.api.errors import MalformedResponseError
from epay_desktop.api.team_client import TeamClient, TeamRefusedError
from epay_desktop.services import Profile, ProfileKind, RecoveryOutcome
from epay_desktop.services.team_desk import TeamDesk
from epay_desktop.services.team_journal import audit_entry_from_json
from tests.team.conftest import MSN, PASSWORD, TeamRig
from tests.team.test_history_api import left_by_a_stopped_instance
from tests.team.test_team_service import add_agents, approved_payment, create_admin, event_names, token


@pytest.fixture
def staffed(team_rig: TeamRig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TeamRig:
    assert create_admin(team_rig, tmp_path, monkeypatch) == 0
    add_agents(team_rig, token(team_rig.first, "admin"), kari="agent", siri="supervisor")
    return team_rig


async def logged_in(url: str, agent: str, role: str) -> TeamDesk:
    client = TeamClient(url)
    await client.login(agent, PASSWORD)
    return TeamDesk(
        Profile(f"Desk {agent}", ProfileKind.TEAM, MSN, base_url=url, agent=agent), client, role=role
    )


def test_a_supervisor_abandons_what_a_stopped_instance_left_and_an_agent_may_not(staffed: TeamRig) -> None:
    reference = approved_payment(staffed)
    left = left_by_a_stopped_instance(staffed, reference, "kari")

    async def main() -> None:
        kari = await logged_in(staffed.first, "kari", "agent")
        siri = await logged_in(staffed.second, "siri", "supervisor")
        try:
            (waiting,) = await siri.recover_pending()
            assert waiting.needs_decision
            assert (waiting.intent_id, waiting.reference) == (left.id, reference)
            assert "asked by kari" in waiting.message
            assert [i.os_user for i in await kari.pending_intents()] == ["kari"]
            with pytest.raises(TeamRefusedError, match="needs the supervisor role"):
                await kari.abandon_intent(left.id)
            result = await siri.abandon_intent(left.id)
            assert result.outcome is RecoveryOutcome.FAILED
            assert "abandoned by siri" in result.message
            assert await siri.pending_intents() == []
            history = await kari.audit(reference=reference)
            assert [(e.os_user, e.result) for e in history] == [("siri", "failed"), ("kari", "requested")]
            whole = await siri.audit(limit=3)  # newest first, as many as asked
            assert len(whole) == 3
            assert whole[0].id > whole[1].id > whole[2].id
            journal = await siri.journal()
            assert [(i.id, i.os_user, i.status.value) for i in journal] == [(left.id, "kari", "failed")]
        finally:
            await kari.aclose()
            await siri.aclose()

    asyncio.run(main())
    assert "CANCELLED" not in event_names(staffed, reference)


def test_an_audit_line_that_cannot_be_read_is_said_not_guessed() -> None:
    line = {
        "id": 7,
        "at": "2026-12-01T18:00:00+00:00",
        "agent": "kari",
        "merchantSerialNumber": "",
        "action": "login",
        "reference": "",
        "amount": None,
        "result": "succeeded",
        "detail": "",
        "idempotencyKey": "",
    }
    entry = audit_entry_from_json(line, MSN)
    assert (entry.os_user, entry.merchant_serial_number, entry.amount) == ("kari", "", None)
    for broken in (
        {**line, "at": "yesterday"},
        {**line, "id": "seven"},
        {k: v for k, v in line.items() if k != "agent"},
        [],
    ):
        with pytest.raises(MalformedResponseError, match="audit cannot be read"):
            audit_entry_from_json(broken, MSN)
