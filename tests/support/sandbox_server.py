"""Run the sandbox under uvicorn on 127.0.0.1 (a free port) in a background thread.

    from tests.support.sandbox_server import running_sandbox

    with running_sandbox() as base_url:          # or running_sandbox(SandboxConfig(data="empty"))
        httpx.get(base_url + "/sandbox/v1/stats")

    with running_sandbox(app=my_app) as base_url:  # serve an app you built (to reach app.state.sandbox)
        ...

Also a fixture, ``sandbox_url`` (empty data set, rate limits off), for tests that just need a server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from starlette.applications import Starlette

from epay_desktop.sandbox import SandboxConfig, create_app
from epay_desktop.sandbox.server import base_url, bind, build_server

START_TIMEOUT = 10.0

DEMO_CREDENTIALS = {
    "client_id": "demo-client",
    "client_secret": "demo-secret",
    "Ocp-Apim-Subscription-Key": "demo-subscription-key",
}


@contextmanager
def running_sandbox(config: SandboxConfig | None = None, *, app: Starlette | None = None) -> Iterator[str]:
    """Start a sandbox server, yield its base URL (``http://127.0.0.1:<port>``), stop it on exit."""
    app = app if app is not None else create_app(config)
    sock = bind("127.0.0.1", 0)
    server = build_server(app)
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # surfaced in the caller's thread below
            errors.append(exc)

    thread = threading.Thread(target=serve, name="epay-sandbox", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if errors or not thread.is_alive():
                raise RuntimeError(f"the sandbox server did not start: {errors!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("the sandbox server did not start in time")
            time.sleep(0.01)
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT)
        sock.close()
    if errors:
        raise RuntimeError(f"the sandbox server failed: {errors!r}")


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    with running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as url:
        yield url
