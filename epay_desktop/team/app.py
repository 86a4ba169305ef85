"""The team service's HTTP API (Starlette). Every call but ``login`` carries a session token
(``Authorization: Bearer ...``) that the database checks, and the role is checked by the server on every
call, whatever the desktop shows. Answers are JSON; an error is ``{"error": code, "message": text}``
with fields of its own (who holds a payment, for example).

    POST /api/v1/login                                    {"name", "password"} -> token, role
    POST /api/v1/logout
    GET  /api/v1/me
    POST /api/v1/agents                  (admin)          {"name", "password", "role"}
    GET  /api/v1/merchants
    GET  /api/v1/merchants/{msn}/payments                        (viewer)   the tracked payments
    POST /api/v1/merchants/{msn}/payments                        (viewer)   {"references": [...]}
    GET  /api/v1/merchants/{msn}/payments/{reference}            (viewer)   one, with its event log
    POST /api/v1/merchants/{msn}/payments/{reference}/refresh    (viewer)   read from the API, saved
    POST /api/v1/merchants/{msn}/payments/{reference}/cancel     (agent)
    POST /api/v1/merchants/{msn}/payments/{reference}/capture    (agent)       {"amount": {...}}
    POST /api/v1/merchants/{msn}/payments/{reference}/refund     (supervisor)  {"amount": {...}}
         capture and refund take "again": true to send the same amount a second time within
         10 minutes (else 409 repeat_not_confirmed), and "reason": text for the audit
    POST /api/v1/merchants/{msn}/payments/{reference}/resume     (the role of the operation)
         finishes the operation left without an outcome (its instance stopped mid-send)

The JSON shapes are described in docs/team.md ("The API").
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from epay_desktop.api import EPaymentClient, EPaymentError, NotSentError, OutcomeUnknownError, RefusedError
from epay_desktop.domain import Currency, Money, MoneyError
from epay_desktop.services.accounts import (
    SESSION_LIFETIME,
    Agent,
    LoginLimitedError,
    LoginRefusedError,
    Role,
    TeamAccounts,
    at_least,
)
from epay_desktop.services.engine import SendResult
from epay_desktop.services.errors import (
    AlreadyPendingError,
    DeskError,
    NotTrackedError,
    RepeatNotConfirmedError,
    said,
)
from epay_desktop.services.team_moves import (
    AlreadyDoneError,
    NothingPendingError,
    NotPermittedError,
    TeamMoves,
)
from epay_desktop.services.team_payments import (
    TeamPayments,
    UnknownMerchantError,
    team_payment_json,
)
from epay_desktop.services.wire import intent_json
from epay_desktop.store import Operation, RegisterError
from epay_desktop.store.postgres import AgentExistsError, PgStore
from epay_desktop.team.config import TeamConfig
from epay_desktop.team.live import live_routes, running_live

__all__ = ["create_app"]

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 16 * 1024


@dataclass
class Team:
    accounts: TeamAccounts
    payments: TeamPayments
    moves: TeamMoves


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.extra = extra

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.code, "message": str(self), **self.extra}, status_code=self.status)


def _team(request: Request) -> Team:
    team: Team = request.app.state.team
    return team


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise HttpError(413, "too_large", "The request body is too large.")
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise HttpError(400, "bad_request", "The request body is not JSON.") from None
    if not isinstance(data, dict):
        raise HttpError(400, "bad_request", "The request body must be a JSON object.")
    return data


def _field(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise HttpError(400, "bad_request", f"{name} is missing or not text.")
    return value


def _token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HttpError(401, "not_logged_in", "Log in first: this call needs a session token.")
    return token.strip()


async def _agent(request: Request, needed: Role = Role.VIEWER) -> Agent:
    team = _team(request)
    agent = await team.accounts.agent_of(_token(request))
    if agent is None:
        raise HttpError(401, "not_logged_in", "The session has ended or was revoked; log in again.")
    if not at_least(agent.role, needed):
        await team.accounts.audit(
            agent.name, request.url.path, "refused", detail=f"role {agent.role.value}; needs {needed.value}"
        )
        raise HttpError(
            403, "not_permitted", f"As {agent.role.value} you may not do this; it needs {needed.value}."
        )
    return agent


Handler = Callable[[Request], Awaitable[Response]]


def _answers(handler: Handler) -> Handler:
    """Turn the errors of a call into JSON answers; nothing else leaks (no tracebacks, no secrets)."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except HttpError as error:
            return error.response()
        except RegisterError as error:
            log.warning("database unavailable: %s", error)
            return HttpError(
                503, "database_unavailable", "The team database cannot be reached now."
            ).response()

    return wrapped


@_answers
async def login(request: Request) -> Response:
    data = await _body(request)
    try:
        agent, token = await _team(request).accounts.login(_field(data, "name"), _field(data, "password"))
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


@_answers
async def logout(request: Request) -> Response:
    agent = await _agent(request)
    await _team(request).accounts.logout(agent, _token(request))
    return JSONResponse({"name": agent.name, "logged_out": True})


@_answers
async def me(request: Request) -> Response:
    agent = await _agent(request)
    return JSONResponse({"name": agent.name, "role": agent.role.value})


@_answers
async def add_agent(request: Request) -> Response:
    admin = await _agent(request, Role.ADMIN)
    data = await _body(request)
    try:
        role = Role(_field(data, "role"))
    except ValueError:
        raise HttpError(400, "bad_request", f"role is one of {', '.join(r.value for r in Role)}.") from None
    try:
        added = await _team(request).accounts.add_agent(
            _field(data, "name"), _field(data, "password"), role, by=admin.name
        )
    except AgentExistsError as error:
        raise HttpError(409, "agent_exists", str(error)) from None
    except ValueError as error:
        raise HttpError(400, "bad_request", str(error)) from None
    return JSONResponse({"name": added.name, "role": added.role.value}, status_code=201)


@_answers
async def merchants(request: Request) -> Response:
    await _agent(request)
    return JSONResponse({"merchants": _team(request).moves.merchants})


def _amount(data: dict[str, Any]) -> Money:
    amount = data.get("amount")
    if not isinstance(amount, dict):
        raise HttpError(400, "bad_request", 'amount is missing: {"value": minor units, "currency": "NOK"}.')
    try:
        return Money(amount.get("value"), Currency(amount.get("currency")))  # type: ignore[arg-type]
    except (MoneyError, ValueError):
        raise HttpError(
            400, "bad_request", "amount needs an integer value in minor units and a currency."
        ) from None


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise HttpError(400, "bad_request", f"{name} is true or false.")
    return value


def _reason(data: dict[str, Any]) -> str:
    value = data.get("reason", "")
    if not isinstance(value, str):
        raise HttpError(400, "bad_request", "reason is text.")
    return value


def _result(agent: Agent, result: SendResult) -> dict[str, Any]:
    return {
        "by": agent.name,
        "operation": result.intent.operation.value,
        "reference": result.intent.reference,
        "idempotency_key": result.intent.idempotency_key,
        "moved": {"value": result.moved.value, "currency": result.moved.currency.value},
        "state": result.payment.state.value,
        "reconciled": result.reconciled,
        "message": result.message,
    }


def _mover(operation: Operation | None) -> Handler:
    """The handler of one operation, or (``None``) of finishing the one without an outcome."""

    async def move(request: Request) -> Response:
        agent = await _agent(request)
        data = await _body(request)
        msn, reference = request.path_params["msn"], request.path_params["reference"]
        moves = _team(request).moves
        try:
            if operation is None:
                result = await moves.resume(agent, msn, reference)
            else:
                amount = None if operation is Operation.CANCEL else _amount(data)
                result = await moves.move(
                    agent, operation, msn, reference, amount, again=_flag(data, "again"), reason=_reason(data)
                )
        except NothingPendingError as error:
            raise HttpError(404, "nothing_pending", str(error)) from None
        except NotPermittedError as error:
            raise HttpError(403, "not_permitted", str(error)) from None
        except UnknownMerchantError as error:
            raise HttpError(404, "unknown_merchant", str(error)) from None
        except AlreadyPendingError as error:
            raise HttpError(
                409,
                "in_progress",
                f"{error.intent.os_user} is already doing a {error.intent.operation.value} of "
                f"{reference}; nothing was sent.",
                by=error.intent.os_user,
                operation=error.intent.operation.value,
            ) from None
        except AlreadyDoneError as error:
            raise HttpError(409, "already_done", str(error), by=error.intent.os_user) from None
        except RepeatNotConfirmedError as error:
            raise HttpError(
                409,
                "repeat_not_confirmed",
                f'{error} Send the same request with "again": true to move the money a second time.',
                by=error.previous.os_user,
                previous=intent_json(error.previous),
            ) from None
        except DeskError as error:
            raise HttpError(409, "refused", str(error)) from None
        except RefusedError as error:
            raise HttpError(422, "api_refused", said(error)) from None
        except OutcomeUnknownError as error:
            raise HttpError(502, "outcome_unknown", said(error)) from None
        except NotSentError as error:
            raise HttpError(503, "not_sent", said(error)) from None
        return JSONResponse(_result(agent, result))

    move.__name__ = operation.value if operation else "resume"
    return _answers(move)


def _merchant_errors(error: DeskError) -> HttpError:
    if isinstance(error, UnknownMerchantError):
        return HttpError(404, "unknown_merchant", str(error))
    if isinstance(error, NotTrackedError):
        return HttpError(404, "not_tracked", str(error))
    return HttpError(409, "refused", str(error))


@_answers
async def list_payments(request: Request) -> Response:
    await _agent(request)
    msn = request.path_params["msn"]
    try:
        found = await _team(request).payments.list(msn)
    except DeskError as error:
        raise _merchant_errors(error) from None
    return JSONResponse({"merchantSerialNumber": msn, "payments": [team_payment_json(p) for p in found]})


@_answers
async def one_payment(request: Request) -> Response:
    await _agent(request)
    try:
        found = await _team(request).payments.one(
            request.path_params["msn"], request.path_params["reference"]
        )
    except DeskError as error:
        raise _merchant_errors(error) from None
    return JSONResponse(team_payment_json(found, details=True))


@_answers
async def refresh_payment(request: Request) -> Response:
    await _agent(request)
    try:
        found = await _team(request).payments.refresh(
            request.path_params["msn"], request.path_params["reference"]
        )
    except DeskError as error:
        raise _merchant_errors(error) from None
    except RefusedError as error:
        raise HttpError(422, "api_refused", said(error)) from None
    except EPaymentError as error:
        raise HttpError(502, "api_unavailable", said(error)) from None
    return JSONResponse(team_payment_json(found, details=True))


@_answers
async def add_payments(request: Request) -> Response:
    agent = await _agent(request)
    data = await _body(request)
    references = data.get("references")
    if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
        raise HttpError(400, "bad_request", 'references is missing: {"references": ["order-1", ...]}.')
    try:
        report = await _team(request).payments.add(agent, request.path_params["msn"], references)
    except DeskError as error:
        raise _merchant_errors(error) from None
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
        app.state.team = Team(accounts, payments, moves)
        try:
            async with running_live(config, store, accounts, clients) as live:
                app.state.live = live
                yield
        finally:
            await moves.aclose()
            await asyncio.to_thread(store.close)

    base = "/api/v1"
    routes = [
        Route(f"{base}/login", login, methods=["POST"]),
        Route(f"{base}/logout", logout, methods=["POST"]),
        Route(f"{base}/me", me, methods=["GET"]),
        Route(f"{base}/agents", add_agent, methods=["POST"]),
        Route(f"{base}/merchants", merchants, methods=["GET"]),
        *payment_routes(base),
    ]
    for operation in (*Operation, None):
        name = operation.value if operation else "resume"
        routes.append(
            Route(
                f"{base}/merchants/{{msn}}/payments/{{reference}}/{name}", _mover(operation), methods=["POST"]
            )
        )
    return Starlette(routes=[*routes, *live_routes(config)], lifespan=lifespan)
