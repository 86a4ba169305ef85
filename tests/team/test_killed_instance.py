"""An instance of ``epay-team`` killed (SIGKILL) while its cancel is on the wire: the other instance
finishes it, with the same Idempotency-Key, and the money moves once. Real parts: PostgreSQL, the
sandbox under uvicorn (holding every answer 3 s), one instance as its own process (``epay-team serve``,
killed), the other under uvicorn in this process."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from epay_desktop.api import Environment, EPaymentClient, SandboxControls
from epay_desktop.domain import Currency, Money
from tests.team.conftest import CREDENTIALS, MSN, PASSWORD, TeamRig, bearer, token
from tests.team.processes import kill, team_process, wait_for
from tests.team.test_team_service import add_agents, create_admin, event_names

pytestmark = pytest.mark.slow


def _intents(conninfo: str) -> list[tuple[str, str, int, str]]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute("SELECT idempotency_key, status, attempts, os_user FROM intents").fetchall()
    return [(str(k), str(s), int(a), str(u)) for k, s, a, u in rows]


def test_a_cancel_left_by_a_killed_instance_is_finished_by_the_other_once(
    team_rig: TeamRig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = team_rig
    assert create_admin(rig, tmp_path, monkeypatch) == 0
    add_agents(rig, token(rig.first, "admin"), kari="agent", ola="agent")
    reference = "team-killed-01"

    async def prepare(latency_ms: int) -> None:
        async with (
            EPaymentClient(Environment.sandbox(rig.sandbox), CREDENTIALS) as client,
            SandboxControls(rig.sandbox) as controls,
        ):
            if latency_ms:
                await client.create_payment(
                    reference=reference,
                    amount=Money(10000, Currency.NOK),
                    description="Killed midway",
                    phone_number="4791234567",
                )
                await controls.customer(MSN, reference, "approve")
            await controls.set_faults(latency_ms=latency_ms)

    asyncio.run(prepare(3000))  # every ePayment answer now takes 3 s: the kill lands mid-send
    with team_process(tmp_path / "team.toml") as (doomed_url, doomed):
        kari = token(doomed_url, "kari")

        def cancel_there() -> None:
            # The instance is killed under this request: that is the point.
            with contextlib.suppress(httpx.TransportError):
                httpx.post(
                    f"{doomed_url}/api/v1/merchants/{MSN}/payments/{reference}/cancel",
                    headers=bearer(kari),
                    timeout=60,
                )

        sender = threading.Thread(target=cancel_there, daemon=True)
        sender.start()
        wait_for(lambda: any(a > 0 for _k, _s, a, _u in _intents(rig.config.database)), "the attempt")
        kill(doomed)
        sender.join(timeout=60)
    ((key, status, _attempts, who),) = _intents(rig.config.database)
    assert (status, who) == ("pending", "kari")

    asyncio.run(prepare(0))
    time.sleep(3.5)  # the killed request, if it got through, has now been answered by the sandbox
    ola = token(rig.second, "ola")
    finished = httpx.post(
        f"{rig.second}/api/v1/merchants/{MSN}/payments/{reference}/resume", headers=bearer(ola), timeout=60
    )
    assert finished.status_code == 200, finished.text
    assert finished.json()["idempotency_key"] == key
    assert event_names(rig, reference).count("CANCELLED") == 1
    ((_key, status, _attempts, _who),) = _intents(rig.config.database)
    assert status in ("succeeded", "reconciled")
    again = httpx.post(
        f"{rig.second}/api/v1/merchants/{MSN}/payments/{reference}/resume", headers=bearer(ola), timeout=60
    )
    assert again.status_code == 404
    assert PASSWORD not in finished.text
