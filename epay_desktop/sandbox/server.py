"""Running the sandbox under uvicorn: the standalone command and the test helper share this."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol

from epay_desktop.sandbox.faults import AnswerDropped


class DroppedAnswerFilter(logging.Filter):
    """An answer dropped on purpose (a fault) is not a server error worth a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, AnswerDropped)


def install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, DroppedAnswerFilter) for f in logger.filters):
        logger.addFilter(DroppedAnswerFilter())


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with TCP_NODELAY set on every accepted connection, explicitly.

    uvicorn writes the status line and headers, then the body, as separate sends. With Nagle on, the
    second send waits for the ACK of the first, and the client delays that ACK (~40 ms on Linux): a
    sub-millisecond request then takes ~44 ms. asyncio sets TCP_NODELAY only on sockets whose
    ``proto`` is IPPROTO_TCP, and an accepted socket inherits ``proto`` from the listening one, so any
    listening socket made with proto 0 (``socket.socket()``, ``socket.fromfd``, one handed over by a
    service manager) gives slow connections. Setting it here does not depend on how the listening
    socket was made."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):  # a socket already closed by the peer
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (``port=0``: a free one, chosen by the OS)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio then sets TCP_NODELAY on accepted sockets too (NoDelayH11Protocol
    # does it anyway, whatever socket it is given); without it Nagle + delayed ACK add ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def build_server(app: Starlette, *, log_level: str = "warning") -> uvicorn.Server:
    install_log_filter()
    config = uvicorn.Config(
        app, lifespan="off", log_level=log_level, access_log=False, http=NoDelayH11Protocol
    )
    return uvicorn.Server(config)


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"
