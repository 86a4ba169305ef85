"""End to end over real HTTP: the sandbox sends signed webhooks to the ``epay-webhooks`` command
(uvicorn on 127.0.0.1, its own process), which verifies them and fills a real register file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from epay_desktop.domain import State
from epay_desktop.sandbox import Sandbox, SandboxConfig, create_app
from epay_desktop.store import Store
from tests.sandbox.conftest import Api
from tests.webhooks.conftest import register_hook

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(url: str, register: Path, port: int, secret: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "epay_desktop.webhooks",
            "--url",
            url,
            "--register",
            str(register),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1", "EPAY_WEBHOOK_SECRET": secret},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "receiving" in line, line + (process.stderr.read() if process.stderr else "")
    return process


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    timer = threading.Timer(15, process.kill)
    timer.start()
    try:
        out, err = process.communicate()
    finally:
        timer.cancel()
    assert process.returncode == 0, err
    return out, err


@pytest.mark.anyio
async def test_sandbox_to_epay_webhooks_to_the_register(tmp_path: Path) -> None:
    app = create_app(SandboxConfig(data="empty", rate_limits=False))
    sandbox: Sandbox = app.state.sandbox
    port = _free_port()
    url = f"http://127.0.0.1:{port}/hooks/vipps"
    register = tmp_path / "shop.sqlite3"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as client:
        api = Api(client)
        await api.fetch_token()
        secret = await register_hook(api, url)
        process = _start(url, register, port, secret)
        try:
            await api.authorized("over-http-1", 2500)
            assert (await api.capture("over-http-1", 2500)).status_code == 200
            assert (await api.create("over-http-2", 700)).status_code == 201
            assert (await api.cancel("over-http-2")).status_code == 200
            await sandbox.webhooks.dispatcher.idle(within=30)
            async with httpx.AsyncClient() as plain:
                health = (await plain.get(f"http://127.0.0.1:{port}/health")).json()
                forged = await plain.post(url, content=b'{"msn":"123456"}')
        finally:
            out, err = _stop(process)
            await sandbox.webhooks.aclose()
    deliveries = sandbox.webhooks.dispatcher.deliveries()
    assert [d.state for d in deliveries] == ["delivered"] * 5
    assert health["stored"] == 5
    assert forged.status_code == 401
    assert secret not in out + err
    with Store(register) as store:
        paid = store.register.get("123456", "over-http-1")
        stopped = store.register.get("123456", "over-http-2")
    assert paid is not None
    assert paid.payment is not None
    assert paid.payment.aggregate.captured.value == 2500
    assert stopped is not None
    assert stopped.payment is not None
    assert stopped.payment.state is State.TERMINATED


def test_the_command_refuses_to_start_without_what_it_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from epay_desktop.webhooks.__main__ import main

    monkeypatch.delenv("EPAY_WEBHOOK_SECRET", raising=False)
    url = "https://shop.example/hooks/vipps"
    assert main(["--url", url, "--register", str(tmp_path / "r.sqlite3")]) == 2
    assert "no secret" in capsys.readouterr().err
    assert main(["--url", url, "--profile", "No such shop"]) == 2
    assert "No such shop" in capsys.readouterr().err
    monkeypatch.setenv("EPAY_WEBHOOK_SECRET", "s3cret-value-for-the-test")
    assert main(["--url", "not a url", "--register", str(tmp_path / "r.sqlite3")]) == 2
    err = capsys.readouterr().err
    assert "absolute" in err
    assert "s3cret-value-for-the-test" not in err
