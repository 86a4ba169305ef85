"""What the desktops read of who did what: a merchant's audit and journal, and a supervisor's abandon
of an operation left without an outcome. Roles are checked by ``services/team_history.py`` (one
payment's history and the operations without an outcome for every role; the whole audit and journal,
and abandon, for supervisors and admins).

    GET  /api/v1/merchants/{msn}/audit?reference=&limit=&before=            newest first
    GET  /api/v1/merchants/{msn}/intents?status=pending|all&reference=&limit=&before=
    POST /api/v1/merchants/{msn}/intents/{id}/abandon                        (supervisor)

``limit`` is at most 1000 (the default); ``before`` is the ``id`` of the last line of the page before.
The JSON shapes are described in docs/team.md ("The API").
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from epay_desktop.api import EPaymentError
from epay_desktop.services.errors import DeskError, OperationFinishedError, OperationPendingError
from epay_desktop.services.team_history import (
    MAX_PAGE,
    TeamHistory,
    audit_entry_json,
    journal_line_json,
)
from epay_desktop.team.http import HttpError, answers, authorized, move_error

__all__ = ["history_routes"]


def _history(request: Request) -> TeamHistory:
    history: TeamHistory = request.app.state.history
    return history


def _number(request: Request, name: str, default: int | None, highest: int | None = None) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0 or (highest is not None and value > highest):
        limits = f"1 to {highest}" if highest is not None else "a positive whole number"
        raise HttpError(400, "bad_request", f"{name} is {limits}.")
    return value


def _reference(request: Request) -> str | None:
    return request.query_params.get("reference") or None


def _said(error: DeskError | EPaymentError) -> HttpError:
    if isinstance(error, OperationFinishedError):
        return HttpError(409, "already_finished", str(error))
    if isinstance(error, OperationPendingError):
        return HttpError(409, "may_be_on_its_way", str(error))
    return move_error(error)


@answers
async def audit(request: Request) -> Response:
    agent = await authorized(request)
    msn = request.path_params["msn"]
    try:
        entries = await _history(request).audit(
            agent,
            msn,
            reference=_reference(request),
            limit=_number(request, "limit", MAX_PAGE, MAX_PAGE) or MAX_PAGE,
            before=_number(request, "before", None),
        )
    except DeskError as error:
        raise _said(error) from None
    return JSONResponse({"merchantSerialNumber": msn, "audit": [audit_entry_json(e) for e in entries]})


@answers
async def intents(request: Request) -> Response:
    agent = await authorized(request)
    msn = request.path_params["msn"]
    status = request.query_params.get("status") or "pending"
    if status not in ("pending", "all"):
        raise HttpError(400, "bad_request", "status is pending or all.")
    try:
        lines, skipped = await _history(request).journal(
            agent,
            msn,
            pending_only=status == "pending",
            reference=_reference(request),
            limit=_number(request, "limit", MAX_PAGE, MAX_PAGE) or MAX_PAGE,
            before=_number(request, "before", None),
        )
    except DeskError as error:
        raise _said(error) from None
    now = datetime.now(UTC)
    return JSONResponse(
        {
            "merchantSerialNumber": msn,
            "now": now.isoformat(),
            "intents": [journal_line_json(line, now) for line in lines],
            "skipped": skipped,
        }
    )


@answers
async def abandon(request: Request) -> Response:
    agent = await authorized(request)
    msn = request.path_params["msn"]
    try:
        intent_id = int(request.path_params["intent"])
    except ValueError:
        raise HttpError(404, "nothing_pending", "There is no such operation.") from None
    try:
        result = await _history(request).abandon(agent, msn, intent_id)
    except (DeskError, EPaymentError) as error:
        raise _said(error) from None
    return JSONResponse(
        {
            "by": agent.name,
            "intent": result.intent.id,
            "operation": result.intent.operation.value,
            "reference": result.intent.reference,
            "reconciled": result.reconciled,
            "moved": result.moved,
            "message": result.message,
        }
    )


def history_routes(base: str) -> list[Route]:
    merchant = f"{base}/merchants/{{msn}}"
    return [
        Route(f"{merchant}/audit", audit, methods=["GET"]),
        Route(f"{merchant}/intents", intents, methods=["GET"]),
        Route(f"{merchant}/intents/{{intent}}/abandon", abandon, methods=["POST"]),
    ]
