"""Live updates of ``epay-team`` with real parts: PostgreSQL's LISTEN/NOTIFY between two instances
under uvicorn, server-sent events read over HTTP as a desktop reads them, the sandbox, signed webhooks,
and the refresh elected by an advisory lock (one instance killed with SIGKILL, the other takes over)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from epay_desktop.sandbox import SandboxConfig
from epay_desktop.sandbox.webhooks.signing import signed_headers
from epay_desktop.store import NewEntry
from epay_desktop.store.postgres import PgStore
from epay_desktop.team.config import LiveConfig, Merchant, TeamConfig
from tests.support.postgres import Cluster
from tests.support.sandbox_server import running_sandbox
from tests.team.conftest import CREDENTIALS, MSN, PASSWORD, TeamRig, bearer, running_team, token
from tests.team.test_team_service import add_agents, approved_payment, create_admin

ROOT = Path(__file__).resolve().parents[2]
HOOK_URL = "http://team.example/hooks/vipps"
HOOK_SECRET = "hook-secret-for-tests"
WAIT = 60.0  # a bound for a hang, not a speed claim


@dataclass
class Stream:
    """One desktop's live stream, read in a thread: events land in ``events`` as they arrive."""

    status: int = 0
    events: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    comments: list[str] = field(default_factory=list)
    ended: threading.Event = field(default_factory=threading.Event)

    def next(self, where: Callable[[dict[str, Any]], bool] = lambda _e: True) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=0.2)
            except queue.Empty:
                continue
            if where(event):
                return event
        pytest.fail("no such live event arrived")


@contextmanager
def streaming(url: str, headers: dict[str, str]) -> Iterator[Stream]:
    stream = Stream()
    started = threading.Event()
    client = httpx.Client(timeout=httpx.Timeout(WAIT, read=None))

    def read() -> None:
        try:
            with client.stream("GET", url, headers=headers) as answer:
                stream.status = answer.status_code
                started.set()
                fields: dict[str, str] = {}
                for line in answer.iter_lines():
                    if line.startswith(":"):
                        stream.comments.append(line)
                    elif not line:
                        if "data" in fields:
                            stream.events.put(
                                {
                                    "id": fields.get("id"),
                                    "event": fields.get("event"),
                                    **json.loads(fields["data"]),
                                }
                            )
                        fields = {}
                    else:
                        name, _, value = line.partition(":")
                        fields[name] = value.lstrip(" ")
        except httpx.HTTPError:
            pass
        finally:
            started.set()
            stream.ended.set()

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    started.wait(WAIT)
    try:
        yield stream
    finally:
        client.close()
        thread.join(timeout=WAIT)


def live_url(base: str) -> str:
    return f"{base}/api/v1/merchants/{MSN}/live"


def fast_live(**changes: Any) -> LiveConfig:
    return replace(
        LiveConfig(heartbeat_s=0.3, refresh_every_s=0.2, stale_after_s=0.2, webhook_url=HOOK_URL),
        webhook_secrets=(HOOK_SECRET,),
        **changes,
    )


@pytest.fixture
def live_rig(postgres_cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TeamRig]:
    """Two instances with quick heartbeats and refreshes and the webhook receiver, staffed."""
    conninfo = postgres_cluster.new_schema("live")
    with running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as sandbox:
        from epay_desktop.api import Environment

        config = TeamConfig(
            conninfo, (Merchant(Environment.sandbox(sandbox), CREDENTIALS),), live=fast_live()
        )
        with running_team(config, migrate=True) as first, running_team(config) as second:
            rig = TeamRig(sandbox, config, first, second)
            assert create_admin(rig, tmp_path, monkeypatch) == 0
            add_agents(rig, token(first, "admin"), kari="agent", ola="agent", vera="viewer")
            yield rig


def test_a_cancel_through_one_instance_reaches_a_desktop_on_the_other(live_rig: TeamRig) -> None:
    rig = live_rig
    reference = approved_payment(rig)
    with streaming(live_url(rig.second), bearer(token(rig.second, "vera"))) as watcher:
        assert watcher.status == 200
        cancelled = httpx.post(
            f"{rig.first}/api/v1/merchants/{MSN}/payments/{reference}/cancel",
            headers=bearer(token(rig.first, "kari")),
            timeout=WAIT,
        )
        assert cancelled.status_code == 200, cancelled.text
        working = watcher.next(lambda e: e["reference"] == reference)
        done = watcher.next(lambda e: e["reference"] == reference)
    assert (working["event"], working["kind"], working["agent"], working["action"]) == (
        "payment",
        "working",
        "kari",
        "cancel",
    )
    assert (done["kind"], done["agent"], done["action"]) == ("done", "kari", "cancel")
    assert int(working["id"]) < int(done["id"])
    assert datetime.fromisoformat(working["at"]) <= datetime.fromisoformat(done["at"]) <= datetime.now(UTC)


def test_the_stream_needs_a_live_session(live_rig: TeamRig) -> None:
    rig = live_rig
    assert httpx.get(live_url(rig.first), timeout=WAIT).status_code == 401
    assert httpx.get(live_url(rig.first), headers=bearer("forged"), timeout=WAIT).status_code == 401
    vera = token(rig.first, "vera")
    unknown = httpx.get(f"{rig.first}/api/v1/merchants/999999/live", headers=bearer(vera), timeout=WAIT)
    assert unknown.status_code == 404
    assert httpx.get(live_url(rig.first), headers={**bearer(vera), "Last-Event-ID": "x"}).status_code == 400
    with streaming(live_url(rig.second), bearer(vera)) as watcher:
        assert watcher.status == 200
        deadline = time.monotonic() + WAIT
        while not any("heartbeat" in c for c in watcher.comments) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any("heartbeat" in c for c in watcher.comments)
        # Logged out through the other instance: the stream ends at its next heartbeat.
        assert httpx.post(f"{rig.first}/api/v1/logout", headers=bearer(vera), timeout=WAIT).status_code == 200
        assert watcher.ended.wait(WAIT)


def _signed_delivery(reference: str, name: str, psp: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "msn": MSN,
            "reference": reference,
            "pspReference": psp,
            "name": name,
            "amount": {"value": 1000, "currency": "NOK"},
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "idempotencyKey": None,
            "success": True,
        }
    ).encode()
    return body, signed_headers(HOOK_SECRET, HOOK_URL, body, datetime.now(UTC))


def test_webhooks_are_received_stored_once_and_told_and_a_reconnect_is_told_what_it_missed(
    live_rig: TeamRig,
) -> None:
    rig = live_rig
    ola = token(rig.second, "ola")
    body, headers = _signed_delivery("live-hook-0001", "CREATED", "psp-1")
    with streaming(live_url(rig.second), bearer(ola)) as watcher:
        refused = httpx.post(
            f"{rig.first}/hooks/vipps", content=body, headers={**headers, "authorization": "HMAC-SHA256 x"}
        )
        assert refused.status_code == 401
        first = httpx.post(f"{rig.first}/hooks/vipps", content=body, headers=headers, timeout=WAIT)
        again = httpx.post(f"{rig.second}/hooks/vipps", content=body, headers=headers, timeout=WAIT)
        assert (first.json()["outcome"], again.json()["outcome"]) == ("stored", "duplicate")
        told = watcher.next(lambda e: e["reference"] == "live-hook-0001")
        assert (told["kind"], told["action"], told["agent"]) == ("changed", "webhook", None)
    # The duplicate changed nothing, so nothing more was told (one note for the insert and updates).
    assert _notes(rig, "webhook") == 1
    # Two more while this desktop was away; it reconnects to the other instance with the last id seen.
    for name, psp in (("AUTHORIZED", "psp-2"), ("CAPTURED", "psp-3")):
        body, headers = _signed_delivery("live-hook-0001", name, psp)
        assert httpx.post(f"{rig.second}/hooks/vipps", content=body, headers=headers).status_code == 200
    with streaming(live_url(rig.first), {**bearer(ola), "Last-Event-ID": str(told["id"])}) as back:
        missed = [back.next(lambda e: e["action"] == "webhook") for _ in range(2)]
    assert int(told["id"]) < int(missed[0]["id"]) < int(missed[1]["id"])
    with PgStore(rig.config.database, migrate=False) as store:
        row = store.register.get(MSN, "live-hook-0001")
        assert row is not None
        assert row.events is not None
        assert [e.psp_reference for e in row.events] == ["psp-1", "psp-2", "psp-3"]
        with psycopg.connect(rig.config.database) as conn:
            conn.execute("DELETE FROM live_events")
    with streaming(live_url(rig.first), {**bearer(ola), "Last-Event-ID": str(told["id"])}) as pruned:
        assert pruned.next()["event"] == "reload"


def _notes(rig: TeamRig, action: str) -> int:
    with psycopg.connect(rig.config.database) as conn:
        row = conn.execute("SELECT count(*) FROM live_events WHERE action = %s", (action,)).fetchone()
    return int(row[0]) if row else 0


def _status(url: str) -> dict[str, Any]:
    try:
        answer = httpx.get(f"{url}/api/v1/live/status", timeout=5)
    except httpx.TransportError:
        return {}
    return dict(answer.json()) if answer.status_code == 200 else {}


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _config_file(path: Path, rig: TeamRig) -> Path:
    path.write_text(
        f"database = {rig.config.database!r}\n\n[[merchants]]\nmsn = {MSN!r}\nenvironment = 'sandbox'\n"
        f"base_url = {rig.sandbox!r}\nclient_id = {CREDENTIALS.client_id!r}\n"
        f"client_secret = {CREDENTIALS.client_secret!r}\n"
        f"subscription_key = {CREDENTIALS.subscription_key!r}\n\n"
        "[live]\nheartbeat_s = 0.3\nrefresh_every_s = 0.2\nstale_after_s = 0.2\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.slow
def test_one_instance_polls_and_another_takes_over_when_it_is_killed(
    postgres_cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conninfo = postgres_cluster.new_schema("poll")
    with ExitStack() as stack:
        sandbox = stack.enter_context(running_sandbox(SandboxConfig(data="empty", rate_limits=False)))
        from epay_desktop.api import Environment

        config = TeamConfig(
            conninfo, (Merchant(Environment.sandbox(sandbox), CREDENTIALS),), live=fast_live()
        )
        with PgStore(conninfo) as store:  # the schema, made by its owner
            store.register.add(MSN, [NewEntry("live-poll-0001")])
        rig = TeamRig(sandbox, config, "", "")
        port = _free_port()
        doomed_url = f"http://127.0.0.1:{port}"
        doomed = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "epay_desktop.team",
                "serve",
                "--config",
                str(_config_file(tmp_path / "poll.toml", rig)),
                "--port",
                str(port),
            ],
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def reap() -> None:
            if doomed.poll() is None:
                doomed.kill()
                doomed.wait(timeout=30)

        stack.callback(reap)
        _until(lambda: _status(doomed_url).get("polling") is True or doomed.poll() is not None, "a poller")
        assert doomed.poll() is None
        survivor = stack.enter_context(running_team(config))
        rig = TeamRig(sandbox, config, doomed_url, survivor)
        assert create_admin(rig, tmp_path, monkeypatch) == 0
        add_agents(rig, token(survivor, "admin"), vera="viewer")
        _until(lambda: _status(survivor).get("listening") is True, "the survivor to listen")
        time.sleep(1.0)  # five refresh rounds of the poller: the survivor stays a candidate all along
        assert (_status(doomed_url)["polling"], _status(survivor)["polling"]) == (True, False)
        with psycopg.connect(conninfo) as conn:
            holders = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7160002 "
                "AND objsubid = 2 AND granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchone()
        assert holders == (1,)

        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
        _until(lambda: _status(survivor).get("polling") is True, "the survivor to take over")
        # What it polls reaches desktops: a payment approved at the API is read and told as a refresh.
        reference = approved_payment(rig)
        with streaming(live_url(survivor), bearer(token(survivor, "vera"))) as watcher:
            with PgStore(conninfo, migrate=False) as store:
                store.register.add(MSN, [NewEntry(reference)])
            told = watcher.next(lambda e: e["reference"] == reference and e["action"] == "refresh")
        assert told["kind"] == "changed"
    assert PASSWORD not in json.dumps(told)


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_an_instance_told_to_stop_ends_its_streams_and_stops(live_rig: TeamRig, tmp_path: Path) -> None:
    rig = live_rig
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    instance = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "epay_desktop.team",
            "serve",
            "--config",
            str(_config_file(tmp_path / "stop.toml", rig)),
            "--port",
            str(port),
        ],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _until(lambda: _status(url).get("listening") is True or instance.poll() is not None, "the instance")
        with streaming(live_url(url), bearer(token(url, "vera"))) as watcher:
            assert watcher.status == 200
            instance.send_signal(signal.SIGTERM)
            assert watcher.ended.wait(WAIT)
            # uvicorn stops gracefully, then raises the signal it caught again.
            assert instance.wait(timeout=WAIT) == -signal.SIGTERM
        assert instance.stderr is not None
        assert "Application shutdown complete" in instance.stderr.read().decode(errors="replace")
    finally:
        if instance.poll() is None:
            instance.kill()
            instance.wait(timeout=30)
        if instance.stderr is not None:
            instance.stderr.close()


def test_an_instance_that_loses_its_listen_connection_ends_its_streams_and_listens_again(
    live_rig: TeamRig,
) -> None:
    rig = live_rig
    ola = token(rig.second, "ola")
    with streaming(live_url(rig.second), bearer(ola)) as watcher:
        assert watcher.status == 200
        with psycopg.connect(rig.config.database, autocommit=True) as conn:
            cut = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'LISTEN %%'"
            ).fetchone()
        assert cut is not None
        assert cut[0] >= 2  # both instances' listeners
        # It may have missed notes meanwhile: its desktops are sent away to reconnect.
        assert watcher.ended.wait(WAIT)
    _until(lambda: _status(rig.second).get("listening") is True, "the instance to listen again")
    with streaming(live_url(rig.second), bearer(ola)) as again:
        body, headers = _signed_delivery("live-hook-0002", "CREATED", "psp-9")
        assert httpx.post(f"{rig.first}/hooks/vipps", content=body, headers=headers).status_code == 200
        told = again.next(lambda e: e["reference"] == "live-hook-0002")
    assert told["action"] == "webhook"


def seen_until_done(stream: Stream) -> list[dict[str, Any]]:
    """Every event up to and with the next end of a money move."""
    seen = []
    while not seen or seen[-1].get("kind") != "done":
        seen.append(stream.next())
    return seen


def test_how_an_approval_request_ended_is_told_to_whoever_asked_only_also_on_reconnect(
    postgres_cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conninfo = postgres_cluster.new_schema("live_approval")
    with running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as sandbox:
        from epay_desktop.api import Environment
        from epay_desktop.domain import Currency, Money

        merchant = Merchant(
            Environment.sandbox(sandbox), CREDENTIALS, approval_threshold=Money(1_000, Currency.NOK)
        )
        config = TeamConfig(conninfo, (merchant,), live=fast_live())
        with running_team(config, migrate=True) as first, running_team(config) as second:
            rig = TeamRig(sandbox, config, first, second)
            assert create_admin(rig, tmp_path, monkeypatch) == 0
            add_agents(rig, token(first, "admin"), siri="supervisor", tove="supervisor")
            siri, tove = token(first, "siri"), token(second, "tove")
            reference = approved_payment(rig, 5_000)
            base = f"{first}/api/v1/merchants/{MSN}/payments"
            assert (
                httpx.post(
                    base, json={"references": [reference]}, headers=bearer(siri), timeout=30
                ).status_code
                == 201
            )
            amount = {"value": 5_000, "currency": "NOK"}
            captured = httpx.post(
                f"{base}/{reference}/capture", json={"amount": amount}, headers=bearer(siri), timeout=30
            )
            assert captured.status_code == 200, captured.text
            asked = httpx.post(
                f"{base}/{reference}/refund",
                json={"amount": amount, "reason": "Returned"},
                headers=bearer(siri),
                timeout=30,
            )
            assert asked.status_code == 202, asked.text
            request_id = asked.json()["approval"]["id"]
            with (
                streaming(live_url(second), bearer(siri)) as asker,
                streaming(live_url(first), bearer(tove)) as decider,
            ):
                assert (asker.status, decider.status) == (200, 200)
                rejected = httpx.post(
                    f"{second}/api/v1/approvals/{request_id}/reject",
                    json={"note": "No"},
                    headers=bearer(tove),
                    timeout=30,
                )
                assert rejected.status_code == 200, rejected.text
                told = asker.next(lambda e: e["event"] == "approval")
                assert {k: told[k] for k in ("approval", "status", "requestedBy", "reference")} == {
                    "approval": request_id,
                    "status": "rejected",
                    "requestedBy": "siri",
                    "reference": reference,
                }
                # Tove's stream is told what comes after (a small refund, sent at once), never Siri's news.
                small = {"value": 500, "currency": "NOK"}
                done = httpx.post(
                    f"{base}/{reference}/refund", json={"amount": small}, headers=bearer(siri), timeout=30
                )
                assert done.status_code == 200, done.text
                assert not [e for e in seen_until_done(decider) if e["event"] == "approval"]
            # Reconnecting from before it: told again to Siri, never to Tove.
            before = int(told["id"]) - 1
            with streaming(live_url(first), bearer(siri) | {"Last-Event-ID": str(before)}) as again:
                assert again.next(lambda e: e["event"] == "approval")["approval"] == request_id
            with streaming(live_url(first), bearer(tove) | {"Last-Event-ID": str(before)}) as other:
                assert not [e for e in seen_until_done(other) if e["event"] == "approval"]
