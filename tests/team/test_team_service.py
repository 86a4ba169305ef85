"""``epay-team`` end to end with real parts: PostgreSQL (a throwaway cluster), the sandbox and two
service instances under uvicorn on 127.0.0.1, plain HTTP requests made by hand as a desktop (or anyone
else) would make them."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest

from epay_desktop.api import EPaymentClient, SandboxControls, new_idempotency_key
from epay_desktop.domain import Currency, Money
from epay_desktop.services.accounts import LOGIN_LIMIT
from epay_desktop.team.__main__ import main as team_main
from tests.team.conftest import CREDENTIALS, MSN, PASSWORD, TeamRig, bearer, login, token

SECRET = CREDENTIALS.client_secret
SUBSCRIPTION_KEY = CREDENTIALS.subscription_key


def create_admin(rig: TeamRig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str = "admin") -> int:
    """``epay-team create-admin`` as a person runs it: a config file, the secrets from the environment."""
    config = tmp_path / "team.toml"
    config.write_text(
        f"database = {rig.config.database!r}\n\n[[merchants]]\nmsn = {MSN!r}\nenvironment = 'sandbox'\n"
        f"base_url = {rig.sandbox!r}\nclient_id = 'demo-client'\nclient_secret_env = 'TEAM_SECRET'\n"
        "subscription_key_env = 'TEAM_KEY'\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("TEAM_SECRET", SECRET)
    monkeypatch.setenv("TEAM_KEY", SUBSCRIPTION_KEY)
    monkeypatch.setenv("EPAY_TEAM_PASSWORD", PASSWORD)
    return team_main(["create-admin", name, "--config", str(config)])


def add_agents(rig: TeamRig, admin_token: str, **roles: str) -> None:
    for name, role in roles.items():
        answer = httpx.post(
            f"{rig.second}/api/v1/agents",
            json={"name": name, "password": PASSWORD, "role": role},
            headers=bearer(admin_token),
            timeout=30,
        )
        assert answer.status_code == 201, answer.text


@pytest.fixture
def staffed(team_rig: TeamRig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TeamRig:
    assert create_admin(team_rig, tmp_path, monkeypatch) == 0
    admin = token(team_rig.first, "admin")
    add_agents(team_rig, admin, kari="agent", ola="agent", vera="viewer", siri="supervisor")
    return team_rig


def approved_payment(rig: TeamRig, value: int = 10000) -> str:
    async def create() -> str:
        from epay_desktop.api import Environment

        reference = f"team-{new_idempotency_key()[:20]}"
        client = EPaymentClient(Environment.sandbox(rig.sandbox), CREDENTIALS)
        controls = SandboxControls(rig.sandbox)
        try:
            await client.create_payment(
                reference=reference,
                amount=Money(value, Currency.NOK),
                description="Team test",
                phone_number="4791234567",
            )
            await controls.customer(MSN, reference, "approve")
        finally:
            await client.aclose()
            await controls.aclose()
        return reference

    return asyncio.run(create())


def event_names(rig: TeamRig, reference: str) -> list[str]:
    async def read() -> list[str]:
        from epay_desktop.api import Environment

        client = EPaymentClient(Environment.sandbox(rig.sandbox), CREDENTIALS)
        try:
            return [e.name.value for e in await client.get_events(reference)]
        finally:
            await client.aclose()

    return asyncio.run(read())


def audit(rig: TeamRig) -> list[tuple[str, str, str]]:
    with psycopg.connect(rig.config.database) as conn:
        rows = conn.execute("SELECT os_user, action, result FROM audit ORDER BY id").fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def move(
    url: str, who: str, operation: str, reference: str, body: dict[str, object] | None = None
) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/merchants/{MSN}/payments/{reference}/{operation}",
        json=body or {},
        headers=bearer(who),
        timeout=60,
    )


def test_two_agents_cancelling_one_payment_on_two_instances_move_it_once(staffed: TeamRig) -> None:
    rig = staffed
    reference = approved_payment(rig)
    kari, ola = token(rig.first, "kari"), token(rig.second, "ola")
    together = threading.Barrier(2)

    def cancel(url: str, who: str) -> httpx.Response:
        together.wait(timeout=30)
        return move(url, who, "cancel", reference)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(cancel, (rig.first, rig.second), (kari, ola)))

    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    won = next(a for a in answers if a.status_code == 200).json()
    lost = next(a for a in answers if a.status_code == 409).json()
    assert won["by"] in ("kari", "ola")
    assert won["moved"] == {"value": 10000, "currency": "NOK"}
    assert lost["by"] == won["by"]  # the other agent is told who did it
    assert won["by"] in lost["message"]
    assert event_names(rig, reference).count("CANCELLED") == 1
    lines = audit(rig)
    assert (won["by"], "cancel", "requested") in lines
    assert (won["by"], "cancel", "succeeded") in lines
    # The merchant's secrets are not in the database, nor in any answer.
    with psycopg.connect(rig.config.database) as conn:
        everything = "".join(
            str(conn.execute(f"SELECT array_agg(t::text) FROM {table} t").fetchone())
            for table in (
                "payments",
                "intents",
                "audit",
                "meta",
                "agents",
                "agent_sessions",
                "login_attempts",
            )
        )
    for secret in (SECRET, SUBSCRIPTION_KEY, PASSWORD, kari, ola):
        assert secret not in everything
        assert all(secret not in a.text for a in answers)


def test_roles_are_checked_by_the_server_for_hand_made_requests(staffed: TeamRig) -> None:
    rig = staffed
    reference = approved_payment(rig)
    viewer, agent, supervisor = (token(rig.first, n) for n in ("vera", "kari", "siri"))

    refused = move(rig.second, viewer, "cancel", reference)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "not_permitted"
    assert (
        move(
            rig.first, viewer, "capture", reference, {"amount": {"value": 100, "currency": "NOK"}}
        ).status_code
        == 403
    )
    as_admin = httpx.post(
        f"{rig.first}/api/v1/agents",
        json={"name": "mallory", "password": PASSWORD, "role": "admin"},
        headers=bearer(viewer),
        timeout=30,
    )
    assert as_admin.status_code == 403
    assert "CANCELLED" not in event_names(rig, reference)
    assert ("vera", "cancel", "refused") in audit(rig)
    assert login(rig.first, "mallory").status_code == 401

    captured = move(rig.first, agent, "capture", reference, {"amount": {"value": 4000, "currency": "NOK"}})
    assert captured.status_code == 200, captured.text
    assert captured.json()["moved"] == {"value": 4000, "currency": "NOK"}
    body = {"amount": {"value": 1500, "currency": "NOK"}}
    assert move(rig.second, agent, "refund", reference, body).status_code == 403
    refunded = move(rig.second, supervisor, "refund", reference, body)
    assert refunded.status_code == 200, refunded.text
    assert event_names(rig, reference).count("REFUNDED") == 1
    lines = audit(rig)
    assert ("kari", "refund", "refused") in lines
    assert ("kari", "capture", "succeeded") in lines
    assert ("siri", "refund", "succeeded") in lines

    no_token = httpx.post(f"{rig.first}/api/v1/merchants/{MSN}/payments/{reference}/cancel", timeout=30)
    assert no_token.status_code == 401
    forged = move(rig.first, "not-a-token", "cancel", reference)
    assert forged.status_code == 401
    assert "CANCELLED" not in event_names(rig, reference)


def test_login_attempts_are_limited_across_instances_and_audited(staffed: TeamRig) -> None:
    rig = staffed
    for attempt in range(LOGIN_LIMIT):
        wrong = login((rig.first, rig.second)[attempt % 2], "kari", "not the password")
        assert wrong.status_code == 401, wrong.text
    limited = login(rig.second, "kari")  # the right password, too late: not even checked
    assert limited.status_code == 429
    assert limited.json()["error"] == "login_limited"
    assert login(rig.first, "ola").status_code == 200  # another name is not held up
    lines = audit(rig)
    assert lines.count(("kari", "login", "refused")) == LOGIN_LIMIT + 1
    assert ("ola", "login", "succeeded") in lines


def test_a_session_revoked_on_one_instance_is_refused_by_the_other(staffed: TeamRig) -> None:
    rig = staffed
    kari = token(rig.first, "kari")
    me = httpx.get(f"{rig.second}/api/v1/me", headers=bearer(kari), timeout=30)
    assert me.json() == {"name": "kari", "role": "agent"}
    assert httpx.post(f"{rig.first}/api/v1/logout", headers=bearer(kari), timeout=30).status_code == 200
    assert httpx.get(f"{rig.second}/api/v1/me", headers=bearer(kari), timeout=30).status_code == 401


def test_create_admin_only_makes_the_first_account(
    staffed: TeamRig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert create_admin(staffed, tmp_path, monkeypatch, name="second-admin") == 1
    assert login(staffed.first, "second-admin").status_code == 401
