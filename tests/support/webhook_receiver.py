"""A webhook target for tests: an ASGI app that records every POST and answers what it is told."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Recorder:
    received: list[Received] = field(default_factory=list)
    # Given the request number (from 1) and the body, the status to answer.
    answer: Callable[[int, Any], int] = lambda _n, _body: 200

    def names(self) -> list[str]:
        return [r.json["name"] for r in self.received]

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            body = await request.body()
            self.received.append(Received(request.url.path, dict(request.headers), body))
            return Response(status_code=self.answer(len(self.received), json.loads(body)))

        return Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])
