"""An instance of ``epay-team`` killed (SIGKILL) while its cancel is on the wire: the other instance
finishes it, with the same Idempotency-Key, and the money moves once. Real parts: PostgreSQL, the
sandbox under uvicorn (holding every answer 3 s), one instance as its own process (``epay-team serve``,
killed), the other under uvicorn in this process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
import pytest

from epay_desktop.api import Environment, EPaymentClient, SandboxControls
from epay_desktop.domain import Currency, Money
from tests.team.conftest import CREDENTIALS, MSN, PASSWORD, TeamRig, bearer, token
from tests.team.test_team_service import add_agents, create_admin, event_names

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/me", timeout=2).status_code == 401
    except httpx.TransportError:
        return False


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
    port = _free_port()
    doomed_url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    doomed = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "epay_desktop.team",
            "serve",
            "--config",
            str(tmp_path / "team.toml"),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait(lambda: _up(doomed_url) or doomed.poll() is not None, "the instance to start")
        assert doomed.poll() is None, doomed.stderr.read().decode()[-2000:] if doomed.stderr else ""
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
        _wait(lambda: any(a > 0 for _k, _s, a, _u in _intents(rig.config.database)), "the attempt")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
        sender.join(timeout=60)
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait(timeout=30)
        if doomed.stderr:
            doomed.stderr.close()
    assert doomed.returncode == -signal.SIGKILL
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
