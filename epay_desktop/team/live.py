"""Live updates for desktops, the team's webhooks and its refresh: what each instance runs beside the
API of ``app.py``.

    GET /api/v1/merchants/{msn}/live      (any role)  text/event-stream
        id: <note id>
        event: payment
        data: {"reference": str, "kind": "changed"|"working"|"done", "agent": str|null,
               "action": "cancel"|"capture"|"refund"|"refresh"|"webhook"|null, "at": ISO-8601}

        "working": an agent began a money move (``agent`` is doing ``action``); "done": it ended
        (read the payment again); "changed": the payment's row changed (a refresh, a webhook, ...).

        id: <note id>
        event: approval                    (only to the streams of whoever asked for the request)
        data: {"approval": id, "status": "sent"|"failed"|"expired"|"rejected", "requestedBy": str,
               "reference": str (its first payment), "at": ISO-8601}

        An approval request (four eyes) ended: its asker reads it (``GET /api/v1/approvals/{id}``).
        A comment line every ``heartbeat_s`` (15 s). A desktop that reconnects sends the last id it
        saw (``Last-Event-ID``, or ``?last_event_id=``) and is sent what it missed, oldest first (a
        note may come twice, none is missed); where that cannot be told (too many, or older than a
        day) it gets ``event: reload`` and reads the whole list again. The stream ends when the
        session is revoked or expires, when the instance stops, and when the desktop reads too slowly;
        the desktop then reconnects (to any instance).
    GET /api/v1/live/status                (no token)  {"listening": bool, "polling": bool}
    POST <path of live.webhook_url>                    the webhook receiver of ``epay-webhooks``

Fan-out: the database's triggers note every change and ``pg_notify`` it in the same transaction
(migration 6); every instance LISTENs on one connection of its own (``team.live_hub``) and hands each
note to its streams, so a change made through any instance reaches the desktops of every instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from epay_desktop.api import EPaymentClient
from epay_desktop.api.webhooks import WebhookEndpoint
from epay_desktop.services.accounts import Agent, TeamAccounts
from epay_desktop.services.webhook_inbox import WebhookInbox
from epay_desktop.store import RegisterError
from epay_desktop.store.postgres import LiveNote, PgStore, caused_by
from epay_desktop.team.config import TeamConfig
from epay_desktop.team.live_hub import LiveHub, Subscription, frame
from epay_desktop.team.refresher import Refresher
from epay_desktop.webhooks import create_receiver

__all__ = ["Live", "live_routes", "running_live", "stop_streams"]

log = logging.getLogger(__name__)

# Told on reconnect at most this many notes; more is a reload of the whole list.
REPLAY_LIMIT = 5_000
# Notes this much older than the last one seen are told again on reconnect (see PgLiveLog.since).
REPLAY_MARGIN = timedelta(seconds=10)


@dataclass
class Live:
    """What ``live_routes`` serves from, made by ``running_live`` in the app's lifespan."""

    accounts: TeamAccounts
    store: PgStore
    merchants: frozenset[str]
    hub: LiveHub
    refresher: Refresher
    heartbeat_s: float
    receiver: ASGIApp | None


@contextlib.asynccontextmanager
async def running_live(
    config: TeamConfig, store: PgStore, accounts: TeamAccounts, clients: Mapping[str, EPaymentClient]
) -> AsyncIterator[Live]:
    """The hub listening, the refresher electing, the webhook receiver ready (when configured)."""
    settings = config.live
    hub = LiveHub(config.database, store)
    refresher = Refresher(
        config.database,
        store,
        clients,
        every_s=settings.refresh_every_s,
        stale_after_s=settings.stale_after_s,
    )
    receiver: ASGIApp | None = None
    if settings.webhook_url:
        endpoint = WebhookEndpoint(settings.webhook_url, settings.webhook_secrets)
        receiver = create_receiver(endpoint, WebhookInbox(store, track_new=True))
    tasks = [
        asyncio.create_task(hub.run(), name="epay-team live"),
        asyncio.create_task(refresher.run(), name="epay-team refresh"),
    ]
    live = Live(accounts, store, frozenset(clients), hub, refresher, settings.heartbeat_s, receiver)
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hub.listening.wait(), timeout=10)
        yield live
    finally:
        hub.stopping = True
        hub.end_all()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def stop_streams(app: Starlette) -> None:
    """End the live streams of ``app`` (the server is stopping: they would hold it open forever)."""
    live: Live | None = getattr(app.state, "live", None)
    if live is not None:
        live.hub.stopping = True
        live.hub.end_all()


def _live(request: Request) -> Live:
    live: Live = request.app.state.live
    return live


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def _token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _last_seen(request: Request) -> int | None:
    given = request.headers.get("last-event-id") or request.query_params.get("last_event_id") or ""
    if not given.strip():
        return None
    value = int(given.strip())  # ValueError: the caller answers 400
    if value < 0:
        raise ValueError(given)
    return value


async def _stream(
    subscription: Subscription,
    replay: list[LiveNote] | None,
    heartbeat_s: float,
    still_allowed: Callable[[], Awaitable[bool]],
    end: Callable[[], None],
) -> AsyncIterator[str]:
    try:
        yield ": live\n\n"
        told: set[int] = set()
        if replay is None:
            yield "event: reload\ndata: {}\n\n"
        elif replay:
            told.update(missed.id for missed in replay)
            yield "".join(frame(missed) for missed in replay)
        clock = asyncio.get_running_loop().time
        checked = clock()
        while True:
            if clock() - checked >= heartbeat_s:
                # Also while notes keep coming: a revoked session is not told any more.
                if not await still_allowed():
                    return
                checked = clock()
            try:
                async with asyncio.timeout(heartbeat_s):
                    item = await subscription.queue.get()
            except TimeoutError:
                yield ": heartbeat\n\n"
                continue
            # What else is waiting goes out in the same write.
            chunk: list[str] = []
            while item is not None:
                if item[0] not in told:
                    chunk.append(item[1])
                if subscription.queue.empty():
                    break
                item = subscription.queue.get_nowait()
            if chunk:
                yield "".join(chunk)
            if item is None:
                return
    finally:
        end()


async def live_stream(request: Request) -> Response:
    live = _live(request)
    msn = request.path_params["msn"]
    token = _token(request)
    if not token:
        return _error(401, "not_logged_in", "Log in first: this call needs a session token.")
    try:
        agent: Agent | None = await live.accounts.agent_of(token)
    except RegisterError:
        return _error(503, "database_unavailable", "The team database cannot be reached now.")
    if agent is None:
        return _error(401, "not_logged_in", "The session has ended or was revoked; log in again.")
    if msn not in live.merchants:
        return _error(404, "unknown_merchant", f"This team serves no merchant with serial number {msn}.")
    try:
        last_seen = _last_seen(request)
    except ValueError:
        return _error(400, "bad_request", "Last-Event-ID is the id of the last event seen, a whole number.")
    if live.hub.stopping or not live.hub.listening.is_set():
        return _error(503, "live_unavailable", "Live updates are not available here now; try again.")
    # Subscribed before the missed notes are read: a note written meanwhile is in both, told once.
    subscription = live.hub.subscribe(msn, agent.name)
    replay: list[LiveNote] | None = []
    try:
        if last_seen is not None:
            replay = await asyncio.to_thread(
                live.store.live.since, last_seen, msn=msn, margin=REPLAY_MARGIN, limit=REPLAY_LIMIT
            )
            if replay is not None:
                replay = [missed for missed in replay if subscription.wants(missed)]
    except RegisterError:
        live.hub.unsubscribe(subscription)
        return _error(503, "database_unavailable", "The team database cannot be reached now.")

    async def still_allowed() -> bool:
        try:
            return await live.accounts.agent_of(token) is not None
        except RegisterError:
            return True  # the database is away a moment; the session was fine when last seen

    return StreamingResponse(
        _stream(
            subscription, replay, live.heartbeat_s, still_allowed, lambda: live.hub.unsubscribe(subscription)
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def live_status(request: Request) -> Response:
    live = _live(request)
    return JSONResponse({"listening": live.hub.listening.is_set(), "polling": live.refresher.leading})


class _Webhooks:
    """The receiver made in the lifespan (it needs the store), its writes noted as "webhook"."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        live: Live = scope["app"].state.live
        if live.receiver is None:
            await JSONResponse({"error": "not_found"}, status_code=404)(scope, receive, send)
            return
        with caused_by("webhook"):
            await live.receiver(scope, receive, send)


def live_routes(config: TeamConfig) -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        Route("/api/v1/merchants/{msn}/live", live_stream, methods=["GET"]),
        Route("/api/v1/live/status", live_status, methods=["GET"]),
    ]
    if config.live.webhook_url:
        path = WebhookEndpoint(config.live.webhook_url, config.live.webhook_secrets).path_and_query
        routes.append(Route(path.split("?", 1)[0], _Webhooks(), methods=["POST"]))
    return routes
