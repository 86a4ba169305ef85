"""``epay-team`` as its own process (``python -m epay_desktop.team serve``), for the tests that kill an
instance with SIGKILL mid-send: started on a free port of 127.0.0.1 and always reaped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def is_up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/me", timeout=2).status_code == 401
    except httpx.TransportError:
        return False


@contextmanager
def team_process(config: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """One instance serving ``config`` in a process of its own; yields its URL and the process (the
    test kills it), which is killed and reaped on exit whatever happened."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "epay_desktop.team", "serve", "--config", str(config), "--port", str(port)],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: is_up(url) or process.poll() is not None, "the instance to start")
        assert process.poll() is None, process.stderr.read().decode()[-2000:] if process.stderr else ""
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
