"""Fixtures for the team service, all real: a throwaway PostgreSQL cluster, the sandbox under uvicorn
on 127.0.0.1, and ``epay-team`` instances under uvicorn on 127.0.0.1 (each its own thread and loop,
sharing nothing but the database, as separate processes would)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest

from epay_desktop.api import Credentials, Environment
from epay_desktop.sandbox import SandboxConfig
from epay_desktop.sandbox.server import base_url, bind
from epay_desktop.services import DEMO_PROFILE
from epay_desktop.team.app import create_app
from epay_desktop.team.config import Merchant, TeamConfig
from epay_desktop.team.serving import TeamServer
from tests.support.postgres import Cluster
from tests.support.sandbox_server import running_sandbox

MSN = DEMO_PROFILE.merchant_serial_number
CREDENTIALS = Credentials("demo-client", "demo-secret", "demo-subscription-key", MSN)
START_TIMEOUT = 20.0
PASSWORD = "correct horse battery"


@contextmanager
def running_team(config: TeamConfig, *, migrate: bool = False, port: int = 0) -> Iterator[str]:
    """One ``epay-team`` instance under uvicorn (lifespan on: it opens its pool and clients) on a free
    port of 127.0.0.1 (or ``port``: an instance started again where one stopped); yields its base URL
    and stops it on exit."""
    sock = bind("127.0.0.1", port)
    server = TeamServer(
        create_app(config, migrate=migrate), lifespan="on", log_level="warning", access_log=False
    )
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # surfaced in the test's thread below
            errors.append(exc)

    thread = threading.Thread(target=serve, name="epay-team", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if errors or not thread.is_alive():
                raise RuntimeError(f"epay-team did not start: {errors!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("epay-team did not start in time")
            time.sleep(0.01)
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT)
        sock.close()
    if errors:
        raise RuntimeError(f"epay-team failed: {errors!r}")


@dataclass
class TeamRig:
    sandbox: str
    config: TeamConfig
    first: str
    second: str


@pytest.fixture
def team_rig(postgres_cluster: Cluster) -> Iterator[TeamRig]:
    """The sandbox and two instances of the team service on one PostgreSQL schema."""
    conninfo = postgres_cluster.new_schema("team")
    with running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as sandbox:
        config = TeamConfig(conninfo, (Merchant(Environment.sandbox(sandbox), CREDENTIALS),))
        with running_team(config, migrate=True) as first, running_team(config) as second:
            yield TeamRig(sandbox, config, first, second)


def login(url: str, name: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/login", json={"name": name, "password": password}, timeout=30)


def token(url: str, name: str, password: str = PASSWORD) -> str:
    answer = login(url, name, password)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}
