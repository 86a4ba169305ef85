"""``--state FILE``: a change is committed before its answer leaves (a sandbox killed right after a
200 still has it), a save writes only what changed, a damaged file is refused with a sentence, and a
state file of the earlier one-row format is still read."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from epay_desktop.sandbox import SandboxConfig, create_app
from epay_desktop.sandbox.app import Sandbox
from epay_desktop.sandbox.persistence import StateFileError
from tests.support.sandbox_server import DEMO_CREDENTIALS

BASE_URL = "http://sandbox.test"
pytestmark = pytest.mark.anyio


def _body(reference: str) -> dict[str, object]:
    return {
        "amount": {"currency": "NOK", "value": 4900},
        "paymentMethod": {"type": "WALLET"},
        "reference": reference,
        "userFlow": "QR",
    }


def _headers(client: httpx.Client) -> dict[str, str]:
    token = client.post("/accessToken/get", headers=DEMO_CREDENTIALS).json()["access_token"]
    return {
        "Authorization": f"Bearer {token}",
        "Ocp-Apim-Subscription-Key": DEMO_CREDENTIALS["Ocp-Apim-Subscription-Key"],
        "Merchant-Serial-Number": "123456",
    }


def _start(state: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "epay_desktop.sandbox",
            "--port",
            "0",
            "--data",
            "empty",
            "--state",
            str(state),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+", line)
    assert found, line + (process.stderr.read() if process.stderr else "")
    return process, found.group(0)


def _kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=15)


@pytest.mark.slow
def test_a_sandbox_killed_right_after_a_200_keeps_what_it_confirmed(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.sqlite"
    confirmed: list[str] = []
    for round_ in range(3):
        process, url = _start(state)
        try:
            with httpx.Client(base_url=url) as c:
                headers = _headers(c)
                reference = f"killed-{round_}"
                assert (
                    c.post(
                        "/epayment/v1/payments",
                        headers=headers | {"Idempotency-Key": f"c{round_}"},
                        json=_body(reference),
                    ).status_code
                    == 201
                )
                c.post(f"/epayment/v1/test/payments/{reference}/approve", headers=headers)
                answer = c.post(
                    f"/epayment/v1/payments/{reference}/capture",
                    headers=headers | {"Idempotency-Key": f"cap{round_}"},
                    json={"modificationAmount": {"currency": "NOK", "value": 1000}},
                )
                assert answer.status_code == 200
                _kill(process)  # at once, with no chance to save afterwards
                confirmed.append(reference)
        finally:
            if process.poll() is None:
                _kill(process)
    process, url = _start(state)
    try:
        with httpx.Client(base_url=url) as c:
            headers = _headers(c)
            for reference in confirmed:
                payment = c.get(f"/epayment/v1/payments/{reference}", headers=headers).json()
                assert payment["aggregate"]["capturedAmount"]["value"] == 1000, reference
    finally:
        _kill(process)


def _sandbox(app: object) -> Sandbox:
    sandbox: Sandbox = app.state.sandbox  # type: ignore[attr-defined]
    return sandbox


async def _create(client: httpx.AsyncClient, headers: dict[str, str], reference: str) -> None:
    answer = await client.post(
        "/epayment/v1/payments",
        headers=headers | {"Idempotency-Key": f"k-{reference}"},
        json=_body(reference),
    )
    assert answer.status_code == 201


async def test_a_change_writes_only_what_changed_at_any_size(tmp_path: Path) -> None:
    config = SandboxConfig(data="empty", rate_limits=False, state_file=tmp_path / "state.sqlite")
    app = create_app(config)
    sandbox = _sandbox(app)
    assert sandbox.state is not None
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        token = (await client.post("/accessToken/get", headers=DEMO_CREDENTIALS)).json()["access_token"]
        headers = {
            "Authorization": f"Bearer {token}",
            "Ocp-Apim-Subscription-Key": DEMO_CREDENTIALS["Ocp-Apim-Subscription-Key"],
            "Merchant-Serial-Number": "123456",
        }
        costs = []
        for count in (10, 300):
            while len(sandbox.engine.payments) < count:
                await _create(client, headers, f"bulk-ref-{len(sandbox.engine.payments):05d}")
            before = sandbox.state.rows_written
            await _create(client, headers, f"one-more-{count:05d}")
            costs.append(sandbox.state.rows_written - before)
        assert costs == [2, 2]  # the payment and its idempotent answer, whatever the size
    sandbox.state.close()
    restarted = _sandbox(create_app(config))
    assert len(restarted.engine.payments) == 301


async def test_a_reset_rewrites_the_file(tmp_path: Path) -> None:
    config = SandboxConfig(data="demo", rate_limits=False, state_file=tmp_path / "state.sqlite")
    app = create_app(config)
    demo_count = len(_sandbox(app).engine.payments)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        assert (await client.post("/sandbox/v1/reset", json={"data": "empty"})).status_code < 300
    assert _sandbox(create_app(config)).engine.payments == {}
    assert demo_count > 0


def test_a_state_file_of_the_one_row_format_is_read_and_converted(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    source = _sandbox(create_app(SandboxConfig(data="demo", rate_limits=False)))
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE sandbox_state (name TEXT PRIMARY KEY, value BLOB NOT NULL)")
        db.executemany(
            "INSERT INTO sandbox_state VALUES (?, ?)",
            [("engine", json.dumps(source.engine.snapshot())), ("token_secret", b"s" * 32)],
        )
    db.close()
    config = SandboxConfig(data="empty", rate_limits=False, state_file=path)
    first = _sandbox(create_app(config))
    assert first.engine.payments.keys() == source.engine.payments.keys()
    assert first.state is not None
    first.state.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM sandbox_state WHERE name = 'engine'").fetchone() == (0,)
    db.close()
    assert _sandbox(create_app(config)).engine.payments.keys() == source.engine.payments.keys()


@pytest.mark.parametrize(
    "damage",
    [b"this is not a database at all" * 100, b""],
    ids=["garbage", "truncated-table"],
)
def test_a_damaged_state_file_is_refused_with_a_sentence(tmp_path: Path, damage: bytes) -> None:
    path = tmp_path / "state.sqlite"
    if damage:
        path.write_bytes(damage)
    else:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE sandbox_state (name TEXT PRIMARY KEY, value BLOB NOT NULL)")
            db.execute("CREATE TABLE sandbox_payment (msn TEXT, reference TEXT, value TEXT)")
            db.executemany("INSERT INTO sandbox_state VALUES (?, ?)", [("token_secret", b"s" * 32)])
            db.execute("INSERT INTO sandbox_payment VALUES ('123456', 'r', '{\"broken\": ')")
        db.close()
    with pytest.raises(StateFileError, match="cannot be used"):
        create_app(SandboxConfig(data="empty", state_file=path))
    result = subprocess.run(
        [sys.executable, "-m", "epay_desktop.sandbox", "--port", "0", "--state", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "cannot be used" in result.stderr


def test_a_foreign_sqlite_file_as_state_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    db.close()
    before = path.read_bytes()
    with pytest.raises(StateFileError, match="another program"):
        create_app(SandboxConfig(data="empty", state_file=path))
    assert path.read_bytes() == before
