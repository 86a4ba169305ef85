"""The desktop's side of team mode below the window: the team client (``api/team_client.py``), the
session token in the keyring (``services/team_login.py``) and the team desk's money moves
(``services/team_desk.py``), against real ``epay-team`` instances under uvicorn on 127.0.0.1 with a
throwaway PostgreSQL and the sandbox (the team conftest)."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import httpx
import pytest

from epay_desktop.api.team_client import (
    TeamClient,
    TeamLoginNeededError,
    TeamRefusedError,
    TeamUnreachableError,
    check_team_url,
)
from epay_desktop.services import Profile, ProfileError, ProfileKind
from epay_desktop.services.team_desk import TeamDesk
from epay_desktop.services.team_login import TeamTokens, log_in, log_out
from tests.services.keyrings import MemoryKeyring
from tests.team.conftest import MSN, PASSWORD, TeamRig, bearer
from tests.team.test_team_service import add_agents, approved_payment, create_admin, event_names, token


@pytest.fixture
def staffed(team_rig: TeamRig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TeamRig:
    assert create_admin(team_rig, tmp_path, monkeypatch) == 0
    add_agents(team_rig, token(team_rig.first, "admin"), kari="agent", ola="agent", vera="viewer")
    return team_rig


def team_profile(url: str, agent: str, name: str = "Support desk") -> Profile:
    return Profile(name, ProfileKind.TEAM, MSN, base_url=url, agent=agent)


@pytest.mark.parametrize(
    "url", ["https://team.example.no", "http://127.0.0.1:8080", "http://localhost:9000/", "http://[::1]:80"]
)
def test_a_team_server_url_is_https_or_plain_http_to_this_computer(url: str) -> None:
    check_team_url(url)
    team_profile(url, "kari").validate()


@pytest.mark.parametrize("url", ["http://team.example.no", "http://10.0.0.5:8080", "http://192.168.1.2"])
def test_plain_http_to_another_machine_is_refused_with_a_sentence(url: str) -> None:
    with pytest.raises(ProfileError, match=r"plain http:// to another machine.*Use https://"):
        team_profile(url, "kari").validate()


@pytest.mark.parametrize("url", ["", "ftp://team.example.no", "https://", "http://[::1"])
def test_no_usable_team_server_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="team server URL"):
        check_team_url(url)


def test_a_team_profile_needs_an_agent_and_keeps_it_in_the_profiles_file() -> None:
    with pytest.raises(ProfileError, match="agent name"):
        team_profile("https://team.example.no", "").validate()
    profile = team_profile("https://team.example.no", "kari")
    assert not profile.needs_secrets
    again = Profile.from_json(profile.to_json())
    assert again == profile
    assert again.agent == "kari"
    assert again.is_team


def test_login_keeps_the_token_in_the_keyring_and_logout_revokes_and_forgets_it(staffed: TeamRig) -> None:
    keyring = MemoryKeyring()
    tokens = TeamTokens(keyring)
    profile = team_profile(staffed.first, "kari")

    async def main() -> None:
        login = await log_in(profile, PASSWORD, tokens)
        assert (login.role, login.name) == ("agent", "kari")
        assert keyring.passwords[("epay-desktop", "Support desk:team_token")] == login.token
        async with TeamClient(staffed.second, token=tokens.get(profile)) as client:
            assert (await client.me())["name"] == "kari"  # any instance knows the session
        await log_out(profile, tokens)
        assert tokens.get(profile) == ""
        assert not keyring.passwords
        async with TeamClient(staffed.first, token=login.token) as client:
            with pytest.raises(TeamLoginNeededError, match="log in again"):
                await client.me()  # revoked at the server, not only forgotten here

    asyncio.run(main())


def test_a_wrong_password_is_said_and_nothing_is_stored(staffed: TeamRig) -> None:
    tokens = TeamTokens(MemoryKeyring())
    profile = team_profile(staffed.first, "kari")

    async def main() -> None:
        with pytest.raises(TeamLoginNeededError) as raised:
            await log_in(profile, "not the password", tokens)
        assert str(raised.value)
        assert tokens.get(profile) == ""

    asyncio.run(main())


def test_a_cancel_goes_through_the_server_which_journals_it(staffed: TeamRig) -> None:
    reference = approved_payment(staffed)

    async def main() -> None:
        async with TeamClient(staffed.first) as client:
            await client.login("kari", PASSWORD)
            desk = TeamDesk(team_profile(staffed.first, "kari"), client, agent="kari", role="agent")
            result = await desk.cancel(reference)
            assert result.released.value == 10000
            assert desk.busy_references() == frozenset()

    asyncio.run(main())
    assert event_names(staffed, reference).count("CANCELLED") == 1


def test_a_payment_added_by_reference_shows_when_it_was_made_at_once(staffed: TeamRig) -> None:
    reference = approved_payment(staffed)

    async def main() -> None:
        async with TeamClient(staffed.first) as client:
            await client.login("vera", PASSWORD)
            desk = TeamDesk(team_profile(staffed.first, "vera"), client, agent="vera", role="viewer")
            report = await desk.add_references(reference)
            assert report.added == (reference,)
            row = await desk.tracked(reference)
            assert row is not None
            assert row.created_at is not None  # read with its event log before the add answered
            assert row.payment is not None
            assert row.payment.amount.value == 10000

    asyncio.run(main())


def test_a_viewer_is_refused_by_the_server_in_a_sentence_and_nothing_moves(staffed: TeamRig) -> None:
    reference = approved_payment(staffed)

    async def main() -> None:
        async with TeamClient(staffed.first) as client:
            await client.login("vera", PASSWORD)
            desk = TeamDesk(team_profile(staffed.first, "vera"), client, agent="vera", role="viewer")
            with pytest.raises(TeamRefusedError) as raised:
                await desk.cancel(reference)
        assert raised.value.status == 403
        assert str(raised.value) == "As viewer you may not cancel; that needs the agent role."

    asyncio.run(main())
    assert "CANCELLED" not in event_names(staffed, reference)


def closed_port_url() -> str:
    """A loopback URL nobody listens on (bound, then closed: connecting is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_a_server_out_of_reach_makes_the_desk_read_only_and_refuses_moves_before_sending() -> None:
    async def main() -> None:
        gone = closed_port_url()
        async with TeamClient(gone, token="whatever") as client:
            desk = TeamDesk(team_profile(gone, "kari"), client, agent="kari", role="agent")
            seen: list[tuple[bool, str]] = []
            desk.on_connection(lambda online, why: seen.append((online, why)))
            assert await desk.load_register() == []
            assert desk.read_only
            assert seen[-1][0] is False
            assert "cannot be reached" in seen[-1][1]
            with pytest.raises(Exception, match="read-only"):
                await desk.cancel("anything-12345")
            with pytest.raises(TeamUnreachableError):
                await desk.refresh("anything-12345")

    asyncio.run(main())


def test_a_csv_import_keeps_the_shops_descriptions_on_the_server(staffed: TeamRig, tmp_path: Path) -> None:
    reference = approved_payment(staffed)
    csv_file = tmp_path / "orders.csv"
    csv_file.write_text(f"reference,description\n{reference},Two   loaves and a cake\n", encoding="utf-8")

    async def main() -> None:
        async with TeamClient(staffed.first) as client:
            await client.login("vera", PASSWORD)
            desk = TeamDesk(team_profile(staffed.first, "vera"), client, agent="vera", role="viewer")
            report = await desk.import_csv(csv_file)
            assert report.added == (reference,)
        async with TeamClient(staffed.second) as other:
            await other.login("kari", PASSWORD)
            colleague = TeamDesk(team_profile(staffed.second, "kari"), other, agent="kari", role="agent")
            await colleague.load_register()
            row = await colleague.tracked(reference)
            assert row is not None
            assert row.description == "Two loaves and a cake"  # kept by the server, seen by a colleague

    asyncio.run(main())


def test_descriptions_that_are_not_texts_are_refused_before_anything_is_added(staffed: TeamRig) -> None:
    headers = bearer(token(staffed.first, "vera"))
    for bad in ({"order-77": 5}, ["order-77"], {"order-77": "x" * 501}):
        answer = httpx.post(
            f"{staffed.first}/api/v1/merchants/{MSN}/payments",
            json={"references": ["order-77"], "descriptions": bad},
            headers=headers,
        )
        assert answer.status_code == 400, answer.text
        assert "descriptions must map references" in answer.json()["message"]
    listed = httpx.get(f"{staffed.first}/api/v1/merchants/{MSN}/payments", headers=headers).json()
    assert "order-77" not in json.dumps(listed)


def test_refresh_all_reads_every_payment_a_few_at_a_time(staffed: TeamRig) -> None:
    references = [approved_payment(staffed) for _ in range(5)]

    async def main() -> None:
        async with TeamClient(staffed.first) as client:
            await client.login("vera", PASSWORD)
            desk = TeamDesk(team_profile(staffed.first, "vera"), client, agent="vera", role="viewer")
            await desk.add_references("\n".join(references))
            before, most = len(asyncio.all_tasks()), 0
            seen = []
            async for row in desk.refresh_all(references, concurrency=2):
                # A task per payment's refresh, started as others finish (a task per payment up front
                # stalled the loop with a long list).
                most = max(most, len(asyncio.all_tasks()) - before)
                seen.append(row.reference)
            assert sorted(seen) == sorted(references)
            assert 0 < most <= 2

    asyncio.run(main())
