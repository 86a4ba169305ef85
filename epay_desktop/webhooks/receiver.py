"""The receiving end of webhooks as an ASGI app: POST to the registered path, ``GET /health``.

- 200 once the event is stored (or was already: a duplicate is answered 200 too, so it is not
  retried), with ``{"outcome": "stored" | "duplicate" | "untracked"}`` (untracked: an inbox that only
  follows the payments its register tracks, as in Demo, took note and stored nothing);
- 401 for a missing or wrong signature (content hash, signature, host, path, date), 400 for a genuine
  delivery whose body cannot be read, 413 for a body far larger than any webhook; nothing is written
  for any of them, and the answer never says more than what was wrong;
- 503 only when the register itself cannot be written (locked, damaged): the sender retries later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from epay_desktop.api.webhooks import (
    MAX_BODY,
    PayloadError,
    SignatureError,
    WebhookEndpoint,
    parse_notification,
)
from epay_desktop.services.webhook_inbox import WebhookInbox
from epay_desktop.store import RegisterError

log = logging.getLogger("epay_desktop.webhooks")


class _TooLargeError(Exception):
    pass


async def _read_body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _TooLargeError
        chunks.append(chunk)
    return b"".join(chunks)


def _refused(status: int, reason: str, detail: str) -> Response:
    return JSONResponse({"error": reason, "detail": detail}, status_code=status)


def create_receiver(
    endpoint: WebhookEndpoint,
    inbox: WebhookInbox,
    *,
    clock: Callable[[], datetime] | None = None,
) -> Starlette:
    """The receiver of deliveries to ``endpoint.url``; ``clock`` gives "now" for the date check (the
    sandbox's clock in Demo mode, where time can be moved)."""
    now = clock or (lambda: datetime.now(UTC))
    path = endpoint.path_and_query.split("?", 1)[0]

    async def receive(request: Request) -> Response:
        try:
            body = await _read_body(request)
        except _TooLargeError:
            return _refused(413, "too-large", f"a webhook body is at most {MAX_BODY} bytes")
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.scope.get("query_string", b"")
        target = raw_path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
        try:
            endpoint.verify(
                method=request.method, path_and_query=target, headers=request.headers, body=body, now=now()
            )
        except SignatureError as exc:
            log.info("refused a delivery: %s", exc)
            return _refused(401, "signature", str(exc))
        try:
            notification = parse_notification(body)
        except PayloadError as exc:
            log.info("refused a genuine delivery with an unreadable body: %s", exc)
            return _refused(400, "payload", str(exc))
        try:
            received = await inbox.receive_soon(notification)
        except RegisterError as exc:
            log.warning("could not store a webhook (%s); the sender will retry", type(exc).__name__)
            return _refused(503, "register", "the register cannot be written right now; retry later")
        return JSONResponse({"outcome": received.outcome})

    async def health(request: Request) -> Response:
        counts = dict(inbox.counts)
        return JSONResponse(
            {
                "status": "ok",
                "url": endpoint.url,
                "stored": counts.get("stored", 0),
                "duplicates": counts.get("duplicate", 0),
            }
        )

    routes = [Route("/health", health, methods=["GET"])]
    if path != "/health":
        routes.insert(0, Route(path, receive, methods=["POST"]))
    return Starlette(routes=routes)
