"""The team service's HTTP API (Starlette). Every call but ``login`` carries a session token
(``Authorization: Bearer ...``) that the database checks, and the role is checked by the server on every
call, whatever the desktop shows. Answers are JSON; an error is ``{"error": code, "message": text}``
with fields of its own (who holds a payment, for example).

    POST /api/v1/login                                    {"name", "password"} -> token, role
    POST /api/v1/logout
    GET  /api/v1/me
    POST /api/v1/agents, GET /api/v1/agents, PATCH /api/v1/agents/{name}   (admin): team/agents.py
    GET  /api/v1/merchants
    GET  /api/v1/merchants/{msn}/payments                        (viewer)   the tracked payments
    POST /api/v1/merchants/{msn}/payments                        (viewer)   {"references": [...],
         "descriptions": {reference: text}} (optional: the shop's own, e.g. a CSV column)
    GET  /api/v1/merchants/{msn}/payments/{reference}            (viewer)   one, with its event log
    POST /api/v1/merchants/{msn}/payments/{reference}/refresh    (viewer)   read from the API, saved
    POST /api/v1/merchants/{msn}/payments/{reference}/cancel     (agent)
    POST /api/v1/merchants/{msn}/payments/{reference}/capture    (agent)       {"amount": {...}}
    POST /api/v1/merchants/{msn}/payments/{reference}/refund     (supervisor)  {"amount": {...}}
         capture and refund take "again": true to send the same amount a second time within
         10 minutes (else 409 repeat_not_confirmed), and "reason": text for the audit
         a refund above the merchant's approval threshold is held (202, nothing sent): see approvals
    POST /api/v1/merchants/{msn}/payments/{reference}/resume     (the role of the operation)
         finishes the operation left without an outcome (its instance stopped mid-send);
         {"intent": id} only that one, {"decided": true} also when it began more than a day ago
    GET  /api/v1/merchants/{msn}/audit, .../intents, POST .../intents/{id}/abandon: team/history.py
    POST /api/v1/merchants/{msn}/batch, /api/v1/approvals...     four-eyes approval: team/approvals.py

The JSON shapes are described in docs/team.md ("The API").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from epay_desktop.api import EPaymentClient, EPaymentError
from epay_desktop.services.accounts import (
    SESSION_LIFETIME,
    LoginLimitedError,
    LoginRefusedError,
    TeamAccounts,
)
from epay_desktop.services.engine import SendResult
from epay_desktop.services.errors import DeskError
from epay_desktop.services.team_approvals import TeamApprovals
from epay_desktop.services.team_history import TeamHistory
from epay_desktop.services.team_moves import TeamMoves
from epay_desktop.services.team_payments import MAX_DESCRIPTION, TeamPayments, team_payment_json
from epay_desktop.store import Operation
from epay_desktop.store.postgres import ApprovalRequest, PgStore
from epay_desktop.team.agents import agent_routes
from epay_desktop.team.approvals import approval_json, approval_routes, expire_periodically
from epay_desktop.team.config import TeamConfig
from epay_desktop.team.history import history_routes
from epay_desktop.team.http import (
    Handler,
    HttpError,
    Team,
    amount_of,
    answers,
    authorized,
    flag,
    intent_of,
    move_error,
    read_body,
    reason_of,
    result_json,
    session_token,
    team_of,
    text_field,
)
from epay_desktop.team.live import live_routes, running_live

__all__ = ["create_app"]

log = logging.getLogger(__name__)


@answers
async def login(request: Request) -> Response:
    data = await read_body(request)
    try:
        agent, token = await team_of(request).accounts.login(
            text_field(data, "name"), text_field(data, "password")
        )
    except LoginLimitedError as error:
        raise HttpError(429, "login_limited", str(error)) from None
    except LoginRefusedError as error:
        raise HttpError(401, "login_refused", str(error)) from None
    return JSONResponse(
        {
            "token": token,
            "name": agent.name,
            "role": agent.role.value,
            "expires_in": int(SESSION_LIFETIME.total_seconds()),
        }
    )


@answers
async def logout(request: Request) -> Response:
    agent = await authorized(request)
    await team_of(request).accounts.logout(agent, session_token(request))
    return JSONResponse({"name": agent.name, "logged_out": True})


@answers
async def me(request: Request) -> Response:
    agent = await authorized(request)
    return JSONResponse({"name": agent.name, "role": agent.role.value})


@answers
async def merchants(request: Request) -> Response:
    await authorized(request)
    team = team_of(request)
    thresholds = team.approvals.thresholds
    return JSONResponse(
        {
            "merchants": team.moves.merchants,
            "approvalThresholds": {msn: money.to_json() for msn, money in sorted(thresholds.items())},
        }
    )


def _mover(operation: Operation | None) -> Handler:
    """The handler of one operation, or (``None``) of finishing the one without an outcome."""

    async def move(request: Request) -> Response:
        agent = await authorized(request)
        data = await read_body(request)
        msn, reference = request.path_params["msn"], request.path_params["reference"]
        team = team_of(request)
        result: SendResult | ApprovalRequest
        try:
            if operation is None:
                result = await team.moves.resume(
                    agent, msn, reference, intent_id=intent_of(data), decided=flag(data, "decided")
                )
            else:
                amount = None if operation is Operation.CANCEL else amount_of(data)
                result = await team.approvals.move(
                    agent,
                    operation,
                    msn,
                    reference,
                    amount,
                    again=flag(data, "again"),
                    reason=reason_of(data),
                )
        except (DeskError, EPaymentError) as error:
            raise move_error(error, reference) from None
        if isinstance(result, ApprovalRequest):
            # Held: nothing was sent; a second supervisor decides.
            return JSONResponse({"held": True, "approval": approval_json(result)}, status_code=202)
        return JSONResponse(result_json(agent, result))

    move.__name__ = operation.value if operation else "resume"
    return answers(move)


@answers
async def list_payments(request: Request) -> Response:
    await authorized(request)
    msn = request.path_params["msn"]
    try:
        found = await team_of(request).payments.list(msn)
    except DeskError as error:
        raise move_error(error) from None
    return JSONResponse({"merchantSerialNumber": msn, "payments": [team_payment_json(p) for p in found]})


@answers
async def one_payment(request: Request) -> Response:
    await authorized(request)
    try:
        found = await team_of(request).payments.one(
            request.path_params["msn"], request.path_params["reference"]
        )
    except DeskError as error:
        raise move_error(error) from None
    return JSONResponse(team_payment_json(found, details=True))


@answers
async def refresh_payment(request: Request) -> Response:
    await authorized(request)
    try:
        found = await team_of(request).payments.refresh(
            request.path_params["msn"], request.path_params["reference"]
        )
    except (DeskError, EPaymentError) as error:
        raise move_error(error) from None
    return JSONResponse(team_payment_json(found, details=True))


@answers
async def add_payments(request: Request) -> Response:
    agent = await authorized(request)
    data = await read_body(request)
    references = data.get("references")
    if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
        raise HttpError(400, "bad_request", 'references is missing: {"references": ["order-1", ...]}.')
    descriptions = data.get("descriptions", {})
    if not isinstance(descriptions, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(v) <= MAX_DESCRIPTION
        for k, v in descriptions.items()
    ):
        raise HttpError(
            400,
            "bad_request",
            f"descriptions must map references to texts of at most {MAX_DESCRIPTION} characters: "
            '{"order-1": "..."}.',
        )
    try:
        report = await team_of(request).payments.add(
            agent, request.path_params["msn"], references, descriptions=descriptions
        )
    except DeskError as error:
        raise move_error(error) from None
    return JSONResponse(
        {
            "added": list(report.added),
            "alreadyTracked": list(report.already_tracked),
            "rejected": [{"text": r.text, "reason": r.reason} for r in report.rejected],
            "summary": report.summary(),
        },
        status_code=201 if report.added else 200,
    )


def payment_routes(base: str) -> list[Route]:
    """What the desktops read: the tracked payments (any role), and adding and refreshing them."""
    payments = f"{base}/merchants/{{msn}}/payments"
    return [
        Route(payments, list_payments, methods=["GET"]),
        Route(payments, add_payments, methods=["POST"]),
        Route(f"{payments}/{{reference}}", one_payment, methods=["GET"]),
        Route(f"{payments}/{{reference}}/refresh", refresh_payment, methods=["POST"]),
    ]


def create_app(
    config: TeamConfig,
    *,
    migrate: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The service for ``config``. ``migrate``: bring the schema up to date on start (run as the owner
    role; the service's own role opens without). ``transport``: reach the API through it (tests)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = await asyncio.to_thread(PgStore, config.database, migrate=migrate)
        clients = {
            m.credentials.merchant_serial_number: EPaymentClient(
                m.environment, m.credentials, transport=transport
            )
            for m in config.merchants
        }
        accounts = TeamAccounts(store)
        payments = TeamPayments(store, clients)
        moves = TeamMoves(store, accounts, payments)
        approvals = TeamApprovals(store, moves, config.approval_thresholds, lifetime=config.approval_lifetime)
        app.state.team = Team(accounts, payments, moves, approvals)
        app.state.history = TeamHistory(store, accounts, moves)
        expiring = asyncio.create_task(expire_periodically(approvals), name="expire approvals")
        try:
            async with running_live(config, store, accounts, clients) as live:
                app.state.live = live
                yield
        finally:
            expiring.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await expiring
            await moves.aclose()
            await asyncio.to_thread(store.close)

    base = "/api/v1"
    routes = [
        Route(f"{base}/login", login, methods=["POST"]),
        Route(f"{base}/logout", logout, methods=["POST"]),
        Route(f"{base}/me", me, methods=["GET"]),
        *agent_routes(base),
        Route(f"{base}/merchants", merchants, methods=["GET"]),
        *payment_routes(base),
        *approval_routes(base),
        *history_routes(base),
    ]
    for operation in (*Operation, None):
        name = operation.value if operation else "resume"
        routes.append(
            Route(
                f"{base}/merchants/{{msn}}/payments/{{reference}}/{name}", _mover(operation), methods=["POST"]
            )
        )
    return Starlette(routes=[*routes, *live_routes(config)], lifespan=lifespan)
