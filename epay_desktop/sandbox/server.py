"""Running the sandbox under uvicorn: the standalone command and the test helper share this."""

from __future__ import annotations

import logging
import socket

import uvicorn
from starlette.applications import Starlette

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


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (``port=0``: a free one, chosen by the OS)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # without it Nagle + delayed ACK add ~40 ms to every keep-alive request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def build_server(app: Starlette, *, log_level: str = "warning") -> uvicorn.Server:
    install_log_filter()
    config = uvicorn.Config(app, lifespan="off", log_level=log_level, access_log=False)
    return uvicorn.Server(config)


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"
