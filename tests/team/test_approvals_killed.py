"""An instance of ``epay-team`` killed (SIGKILL) while the refund of a request it approved is on the
wire: another instance finishes the request with the key fixed when it was asked, and the money moves
once. Real parts: PostgreSQL, the sandbox under uvicorn (holding every answer 3 s), the approving
instance as its own process (killed), the others under uvicorn in this process."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from epay_desktop.api import SandboxControls
from tests.team.conftest import CREDENTIALS, MSN, TeamRig, bearer, token
from tests.team.processes import kill, team_process, wait_for
from tests.team.test_approvals import APPROVALS, approving, ask_refund, captured_payment, refund_events

__all__ = ["approving"]  # the fixture, used by name below

pytestmark = pytest.mark.slow


def _config_file(rig: TeamRig, path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path.write_text(
        f"database = {rig.config.database!r}\n\n[[merchants]]\nmsn = {MSN!r}\nenvironment = 'sandbox'\n"
        f"base_url = {rig.sandbox!r}\nclient_id = 'demo-client'\nclient_secret_env = 'TEAM_SECRET'\n"
        "subscription_key_env = 'TEAM_KEY'\napproval_threshold = { value = 5000, currency = 'NOK' }\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("TEAM_SECRET", CREDENTIALS.client_secret)
    monkeypatch.setenv("TEAM_KEY", CREDENTIALS.subscription_key)
    return path


def _refund_intents(conninfo: str) -> list[tuple[str, str, int, str]]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT idempotency_key, status, attempts, os_user FROM intents WHERE operation = 'refund'"
        ).fetchall()
    return [(str(k), str(s), int(a), str(u)) for k, s, a, u in rows]


def _latency(rig: TeamRig, milliseconds: int) -> None:
    async def set_it() -> None:
        async with SandboxControls(rig.sandbox) as controls:
            await controls.set_faults(latency_ms=milliseconds)

    asyncio.run(set_it())


def test_an_approved_refund_left_by_a_killed_instance_is_finished_by_another_once(
    approving: TeamRig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = approving
    reference = captured_payment(rig)
    asked = ask_refund(rig, reference, 6000)
    key = asked["items"][0]["idempotencyKey"]
    config = _config_file(rig, tmp_path / "approving.toml", monkeypatch)

    _latency(rig, 3000)  # every ePayment answer now takes 3 s: the kill lands mid-send
    with team_process(config) as (doomed_url, doomed):
        sven = token(doomed_url, "sven")

        def approve_there() -> None:
            # The instance is killed under this request: that is the point.
            with contextlib.suppress(httpx.TransportError):
                httpx.post(f"{doomed_url}{APPROVALS}/{asked['id']}/approve", headers=bearer(sven), timeout=60)

        approver = threading.Thread(target=approve_there, daemon=True)
        approver.start()
        wait_for(lambda: any(a > 0 for _k, _s, a, _u in _refund_intents(rig.config.database)), "the attempt")
        kill(doomed)
        approver.join(timeout=60)
    assert _refund_intents(rig.config.database) == [(key, "pending", 1, "sven")]

    _latency(rig, 0)
    time.sleep(3.5)  # the killed request, if it got through, has now been answered by the sandbox
    admin = token(rig.second, "admin")
    inbox = httpx.get(f"{rig.second}{APPROVALS}?status=approved", headers=bearer(admin), timeout=60)
    assert [a["id"] for a in inbox.json()["approvals"]] == [asked["id"]]  # approved, not yet sent
    finished = httpx.post(f"{rig.second}{APPROVALS}/{asked['id']}/send", headers=bearer(admin), timeout=60)
    assert finished.status_code == 200, finished.text
    body = finished.json()
    assert body["approval"]["status"] == "sent"
    assert body["items"][0]["result"]["idempotency_key"] == key
    assert body["items"][0]["result"]["moved"] == {"currency": "NOK", "value": 6000}
    assert refund_events(rig, reference) == 1
    ((_key, status, _attempts, _who),) = _refund_intents(rig.config.database)
    assert status in ("succeeded", "reconciled")

    again = httpx.post(f"{rig.first}{APPROVALS}/{asked['id']}/send", headers=bearer(admin), timeout=60)
    assert again.status_code == 200
    assert again.json()["items"][0]["result"] is None
    assert refund_events(rig, reference) == 1
