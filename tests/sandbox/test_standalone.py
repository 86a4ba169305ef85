"""The sandbox under uvicorn answers real HTTP from a separate client; the command starts, prints
its URL, keeps state with --state and stops cleanly on Ctrl+C (SIGINT)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from epay_desktop.sandbox import SandboxConfig
from tests.support.sandbox_server import DEMO_CREDENTIALS, running_sandbox

BODY = {
    "amount": {"currency": "NOK", "value": 4900},
    "paymentMethod": {"type": "WALLET"},
    "reference": "standalone-ref-1",
    "userFlow": "QR",
    "paymentDescription": "1x Cappuccino",
}


def _headers(client: httpx.Client, key: str | None = None) -> dict[str, str]:
    token = client.post("/accessToken/get", headers=DEMO_CREDENTIALS).json()["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "Ocp-Apim-Subscription-Key": DEMO_CREDENTIALS["Ocp-Apim-Subscription-Key"],
        "Merchant-Serial-Number": "123456",
    }
    return headers | ({"Idempotency-Key": key} if key else {})


def test_real_http_flow_and_concurrent_replays() -> None:
    with (
        running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as url,
        httpx.Client(base_url=url) as c,
    ):
        assert url.startswith("http://127.0.0.1:")
        headers = _headers(c)
        assert (
            c.post(
                "/epayment/v1/payments", headers=headers | {"Idempotency-Key": "c1"}, json=BODY
            ).status_code
            == 201
        )
        assert (
            c.post("/epayment/v1/test/payments/standalone-ref-1/approve", headers=headers).status_code == 200
        )

        def capture(_: int) -> int:
            with httpx.Client(base_url=url) as own:  # ten separate connections, at once
                response = own.post(
                    "/epayment/v1/payments/standalone-ref-1/capture",
                    headers=headers | {"Idempotency-Key": "same"},
                    json={"modificationAmount": {"currency": "NOK", "value": 1000}},
                )
                return response.status_code

        with ThreadPoolExecutor(10) as pool:
            assert set(pool.map(capture, range(10))) == {200}
        payment = c.get("/epayment/v1/payments/standalone-ref-1", headers=headers).json()
        assert payment["aggregate"]["capturedAmount"]["value"] == 1000


def test_dropped_answer_over_real_http_is_a_transport_error() -> None:
    with running_sandbox(SandboxConfig(data="empty")) as url, httpx.Client(base_url=url) as c:
        headers = _headers(c)
        c.post("/epayment/v1/payments", headers=headers | {"Idempotency-Key": "c1"}, json=BODY)
        c.post("/epayment/v1/test/payments/standalone-ref-1/approve", headers=headers)
        c.put("/sandbox/v1/faults", json={"dropAfterCommit": 1})
        cancel = "/epayment/v1/payments/standalone-ref-1/cancel"
        with pytest.raises(httpx.TransportError):
            c.post(cancel, headers=headers | {"Idempotency-Key": "lost"})
        retry = c.post(cancel, headers=headers | {"Idempotency-Key": "lost"})
        assert retry.status_code == 200
        assert retry.json()["aggregate"]["cancelledAmount"]["value"] == 4900


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "epay_desktop.sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+", line)
    assert found, line
    return process, found.group(0)


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    timer = threading.Timer(15, process.kill)
    timer.start()
    try:
        out, err = process.communicate()
    finally:
        timer.cancel()
    assert process.returncode == 0, err
    return out


@pytest.mark.slow
def test_command_prints_url_keeps_state_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.sqlite"
    process, url = _start("--data", "empty", "--state", str(state))
    try:
        with httpx.Client(base_url=url) as c:
            headers = _headers(c)
            assert (
                c.post(
                    "/epayment/v1/payments", headers=headers | {"Idempotency-Key": "k"}, json=BODY
                ).status_code
                == 201
            )
    finally:
        out = _stop(process)
    assert "stopped" in out
    process, url = _start("--data", "empty", "--state", str(state))
    try:
        with httpx.Client(base_url=url) as c:
            headers = _headers(c)
            payment = c.get("/epayment/v1/payments/standalone-ref-1", headers=headers)
            assert payment.status_code == 200
            replay = c.post("/epayment/v1/payments", headers=headers | {"Idempotency-Key": "k"}, json=BODY)
            assert replay.status_code == 201  # the idempotency store survived the restart too
    finally:
        _stop(process)
