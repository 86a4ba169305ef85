"""The HTTP plumbing every route of ``epay-team`` shares: who calls (the session token, checked by
the database on every call, and the role), reading bodies, turning errors into JSON answers
(``{"error": code, "message": text}`` with fields of their own), and the JSON of a result."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from epay_desktop.api import EPaymentError, NotSentError, OutcomeUnknownError, RefusedError
from epay_desktop.domain import Currency, Money, MoneyError
from epay_desktop.services.accounts import Agent, Role, TeamAccounts, at_least
from epay_desktop.services.engine import SendResult
from epay_desktop.services.errors import (
    AlreadyPendingError,
    DeskError,
    NotTrackedError,
    RepeatNotConfirmedError,
    said,
)
from epay_desktop.services.team_approvals import (
    ApprovalClosedError,
    ApprovalNotFoundError,
    NotApprovedError,
    OwnRequestError,
    ReasonNeededError,
    TeamApprovals,
)
from epay_desktop.services.team_moves import (
    AlreadyDoneError,
    NothingPendingError,
    NotPermittedError,
    TeamMoves,
)
from epay_desktop.services.team_payments import TeamPayments, UnknownMerchantError
from epay_desktop.services.wire import intent_json
from epay_desktop.store import RegisterError

__all__ = [
    "MAX_BODY_BYTES",
    "Handler",
    "HttpError",
    "Team",
    "amount_of",
    "answers",
    "authorized",
    "flag",
    "intent_of",
    "move_error",
    "read_body",
    "reason_of",
    "result_json",
    "session_token",
    "team_of",
    "text_field",
]

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024


@dataclass
class Team:
    accounts: TeamAccounts
    payments: TeamPayments
    moves: TeamMoves
    approvals: TeamApprovals


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.extra = extra

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.code, "message": str(self), **self.extra}, status_code=self.status)


def team_of(request: Request) -> Team:
    team: Team = request.app.state.team
    return team


async def read_body(request: Request) -> dict[str, Any]:
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


def text_field(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise HttpError(400, "bad_request", f"{name} is missing or not text.")
    return value


def session_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HttpError(401, "not_logged_in", "Log in first: this call needs a session token.")
    return token.strip()


async def authorized(request: Request, needed: Role = Role.VIEWER) -> Agent:
    team = team_of(request)
    agent = await team.accounts.agent_of(session_token(request))
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


def answers(handler: Handler) -> Handler:
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


def amount_of(data: dict[str, Any]) -> Money:
    amount = data.get("amount")
    if not isinstance(amount, dict):
        raise HttpError(400, "bad_request", 'amount is missing: {"value": minor units, "currency": "NOK"}.')
    try:
        return Money(amount.get("value"), Currency(amount.get("currency")))  # type: ignore[arg-type]
    except (MoneyError, ValueError):
        raise HttpError(
            400, "bad_request", "amount needs an integer value in minor units and a currency."
        ) from None


def flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise HttpError(400, "bad_request", f"{name} is true or false.")
    return value


def intent_of(data: dict[str, Any]) -> int | None:
    """The optional ``"intent"`` of a body: the id of one operation of the journal."""
    value = data.get("intent")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise HttpError(400, "bad_request", "intent is the number of an operation of the journal.")
    return value


def reason_of(data: dict[str, Any]) -> str:
    value = data.get("reason", "")
    if not isinstance(value, str):
        raise HttpError(400, "bad_request", "reason is text.")
    return value


def result_json(agent: Agent, result: SendResult) -> dict[str, Any]:
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


def move_error(error: DeskError | EPaymentError, reference: str = "") -> HttpError:
    """The answer to a refused or failed money move (or approval), with what the desktop needs to say
    who holds or did it."""
    if isinstance(error, NothingPendingError):
        return HttpError(404, "nothing_pending", str(error))
    if isinstance(error, NotPermittedError):
        return HttpError(403, "not_permitted", str(error))
    if isinstance(error, UnknownMerchantError):
        return HttpError(404, "unknown_merchant", str(error))
    if isinstance(error, NotTrackedError):
        return HttpError(404, "not_tracked", str(error))
    if isinstance(error, ApprovalNotFoundError):
        return HttpError(404, "no_such_request", str(error))
    if isinstance(error, AlreadyPendingError):
        return HttpError(
            409,
            "in_progress",
            f"{error.intent.os_user} is already doing a {error.intent.operation.value} of "
            f"{reference or error.intent.reference}; nothing was sent.",
            by=error.intent.os_user,
            operation=error.intent.operation.value,
        )
    if isinstance(error, AlreadyDoneError):
        return HttpError(409, "already_done", str(error), by=error.intent.os_user)
    if isinstance(error, RepeatNotConfirmedError):
        return HttpError(
            409,
            "repeat_not_confirmed",
            f'{error} Send the same request with "again": true to move the money a second time.',
            by=error.previous.os_user,
            previous=intent_json(error.previous),
        )
    if isinstance(error, ReasonNeededError):
        return HttpError(400, "reason_needed", str(error), threshold=error.threshold.to_json())
    if isinstance(error, ApprovalClosedError):
        return HttpError(
            409, "request_closed", str(error), requestStatus=error.request.status, by=error.request.decided_by
        )
    if isinstance(error, OwnRequestError):
        return HttpError(403, "own_request", str(error))
    if isinstance(error, NotApprovedError):
        return HttpError(409, "not_approved", str(error), requestStatus=error.request.status)
    if isinstance(error, DeskError):
        return HttpError(409, "refused", str(error))
    if isinstance(error, RefusedError):
        return HttpError(422, "api_refused", said(error))
    if isinstance(error, OutcomeUnknownError):
        return HttpError(502, "outcome_unknown", said(error))
    if isinstance(error, NotSentError):
        return HttpError(503, "not_sent", said(error))
    return HttpError(502, "api_unavailable", said(error))
