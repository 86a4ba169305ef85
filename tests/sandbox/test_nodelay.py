"""Regression check for the standalone sandbox's ~44 ms per request: every connection it accepts
(the 16 opened at once by concurrent creates and the ones opened later) must have TCP_NODELAY, or
Nagle + delayed ACK hold back the body uvicorn sends after the headers. Checked on the server's own
sockets, not by timing."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager

import httpx
import pytest
import uvicorn

from epay_desktop.sandbox import SandboxConfig, create_app
from epay_desktop.sandbox.server import base_url, bind, build_server
from tests.support.sandbox_server import DEMO_CREDENTIALS


@contextmanager
def serving(sock: socket.socket) -> Iterator[tuple[str, uvicorn.Server]]:
    server = build_server(create_app(SandboxConfig(data="empty", rate_limits=False)))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive(), "the sandbox did not start"
            assert time.monotonic() < deadline, "the sandbox did not start in time"
            time.sleep(0.01)
        yield base_url(sock), server
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _create(client: httpx.Client, token: str, reference: str) -> int:
    headers = {
        "Authorization": f"Bearer {token}",
        "Ocp-Apim-Subscription-Key": DEMO_CREDENTIALS["Ocp-Apim-Subscription-Key"],
        "Merchant-Serial-Number": "123456",
        "Idempotency-Key": reference,
    }
    body = {
        "amount": {"currency": "NOK", "value": 4900},
        "paymentMethod": {"type": "WALLET"},
        "reference": reference,
        "userFlow": "PUSH_MESSAGE",
        "customer": {"phoneNumber": "4791234567"},
    }
    return client.post("/epayment/v1/payments", headers=headers, json=body).status_code


def _server_sockets_nodelay(server: uvicorn.Server) -> list[int]:
    flags = []
    for connection in list(server.server_state.connections):
        sock = connection.transport.get_extra_info("socket")  # type: ignore[attr-defined]
        flags.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    return flags


def _plain_listener() -> socket.socket:
    # proto 0, as socket.socket(), socket.fromfd() or a service manager's socket would have it:
    # asyncio does not set TCP_NODELAY on connections accepted from such a socket by itself.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@pytest.mark.parametrize("listener", ["bind", "plain"])
def test_every_accepted_connection_has_tcp_nodelay(listener: str) -> None:
    sock = bind("127.0.0.1", 0) if listener == "bind" else _plain_listener()
    with serving(sock) as (url, server), ExitStack() as clients:
        with httpx.Client(base_url=url) as first:
            token = first.post("/accesstoken/get", headers=DEMO_CREDENTIALS).json()["access_token"]
        # 16 connections opened at once by concurrent creates, then 4 more opened afterwards.
        early = [clients.enter_context(httpx.Client(base_url=url)) for _ in range(16)]
        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(lambda i: _create(early[i], token, f"nodelay-{i:06d}"), range(16)))
        assert statuses == [201] * 16
        late = [clients.enter_context(httpx.Client(base_url=url)) for _ in range(4)]
        for i, client in enumerate(late):
            assert _create(client, token, f"nodelay-late-{i:04d}") == 201
        flags = _server_sockets_nodelay(server)
        assert len(flags) == 20  # every keep-alive connection is still open on the server
        assert all(flags), f"connections without TCP_NODELAY: {flags.count(0)} of {len(flags)}"
