"""Serving ``epay-team`` under uvicorn: a server that ends the live streams when it stops, before it
waits for the requests still running (a stream never ends by itself; a money move does)."""

from __future__ import annotations

import socket

import uvicorn
from starlette.applications import Starlette

from epay_desktop.team.live import stop_streams

__all__ = ["TeamServer"]


class TeamServer(uvicorn.Server):
    def __init__(self, app: Starlette, **options: object) -> None:
        super().__init__(uvicorn.Config(app, **options))  # type: ignore[arg-type]
        self.app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        stop_streams(self.app)
        await super().shutdown(sockets)
