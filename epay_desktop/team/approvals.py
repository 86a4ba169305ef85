"""Four-eyes approval over HTTP: batches, and the approvals inbox of supervisors. The rules are the
services' (``services/team_approvals.py``); every call checks the session and the role on the server.

    POST /api/v1/merchants/{msn}/batch          (supervisor)  {"operation", "items": [{"reference",
         "amount"?}], "reason"?, "again"?}: held (202) when above the threshold, else sent one by one
    GET  /api/v1/approvals?status=pending&msn=  (supervisor)  requests, newest first (expired ones
         are expired first); status: pending (default), approved, sent, failed, rejected, expired,
         all. An approved request ends as sent, failed (``failure`` says which payment did not move
         and why) or expired (its time ran out before any of it was started), once (``finishedAt``)
    GET  /api/v1/approvals/{id}                 (supervisor)
    POST /api/v1/approvals/{id}/approve         (supervisor, not whoever asked)  {"note"?}: sent once
    POST /api/v1/approvals/{id}/reject          (supervisor, also whoever asked) {"note"?}: never sent
    POST /api/v1/approvals/{id}/send            (supervisor)  finishes an approved request whose
         instance stopped mid-send (the items' own keys; an item already finished is left alone)
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from epay_desktop.api import EPaymentError
from epay_desktop.domain import Money
from epay_desktop.services.accounts import Agent, Role
from epay_desktop.services.errors import DeskError
from epay_desktop.services.team_approvals import ItemOutcome, SentRequest, TeamApprovals
from epay_desktop.services.wire import moment, money_json
from epay_desktop.store import Operation, RegisterError
from epay_desktop.store.postgres import ApprovalRequest
from epay_desktop.team.http import (
    HttpError,
    amount_of,
    answers,
    authorized,
    flag,
    move_error,
    read_body,
    reason_of,
    result_json,
    team_of,
)

__all__ = ["approval_json", "approval_routes", "expire_periodically"]

log = logging.getLogger(__name__)

# How often each instance expires the requests whose time is up (each expiry is one conditional
# UPDATE, so instances doing it at once expire each request once).
EXPIRE_EVERY_S = 60.0
STATUSES = ("pending", "approved", "sent", "failed", "rejected", "expired")


def approval_json(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "merchantSerialNumber": request.msn,
        "operation": request.operation,
        "items": [
            {
                "reference": item.reference,
                "amount": money_json(item.amount),
                "idempotencyKey": item.idempotency_key,
                "intentId": item.intent_id,
                "intentStatus": item.intent_status.value if item.intent_status else None,
                "outcome": item.outcome,
            }
            for item in request.items
        ],
        "total": money_json(request.total),
        "reason": request.reason,
        "again": request.again,
        "requestedBy": request.requested_by,
        "requestedAt": moment(request.requested_at),
        "expiresAt": moment(request.expires_at),
        "status": request.status,
        "decidedBy": request.decided_by,
        "decidedAt": moment(request.decided_at),
        "note": request.note,
        "sentAt": moment(request.sent_at),
        "failure": request.failure,
        "finishedAt": moment(request.finished_at),
        "description": request.describe(),
    }


def _outcome_json(agent: Agent, outcome: ItemOutcome) -> dict[str, Any]:
    data: dict[str, Any] = {
        "reference": outcome.reference,
        "amount": money_json(outcome.amount),
        "result": result_json(agent, outcome.result) if outcome.result else None,
        "error": None,
    }
    if isinstance(outcome.error, DeskError | EPaymentError):
        refused = move_error(outcome.error, outcome.reference)
        data["error"] = {
            "status": refused.status,
            "error": refused.code,
            "message": str(refused),
            **refused.extra,
        }
    return data


def _sent_json(agent: Agent, sent: SentRequest) -> dict[str, Any]:
    return {"approval": approval_json(sent.request), "items": [_outcome_json(agent, o) for o in sent.items]}


def _request_id(request: Request) -> int:
    try:
        return int(request.path_params["id"])
    except ValueError:
        raise HttpError(404, "no_such_request", "An approval request is named by its number.") from None


def _note(data: dict[str, Any]) -> str:
    value = data.get("note", "")
    if not isinstance(value, str):
        raise HttpError(400, "bad_request", "note is text.")
    return value


def _items(data: dict[str, Any], operation: Operation) -> list[tuple[str, Money | None]]:
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise HttpError(400, "bad_request", 'items is missing: [{"reference": ..., "amount": {...}}, ...].')
    found: list[tuple[str, Money | None]] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("reference"), str) or not item["reference"]:
            raise HttpError(400, "bad_request", "Each item has a reference (text).")
        found.append((item["reference"], None if operation is Operation.CANCEL else amount_of(item)))
    return found


@answers
async def batch(request: Request) -> Response:
    agent = await authorized(request, Role.SUPERVISOR)
    data = await read_body(request)
    try:
        operation = Operation(str(data.get("operation")))
    except ValueError:
        raise HttpError(400, "bad_request", "operation is cancel, capture or refund.") from None
    items = _items(data, operation)
    try:
        done = await team_of(request).approvals.batch(
            agent,
            request.path_params["msn"],
            operation,
            items,
            again=flag(data, "again"),
            reason=reason_of(data),
        )
    except (DeskError, EPaymentError) as error:
        raise move_error(error) from None
    if isinstance(done, ApprovalRequest):
        return JSONResponse({"held": True, "approval": approval_json(done)}, status_code=202)
    return JSONResponse({"held": False, "items": [_outcome_json(agent, o) for o in done]})


@answers
async def list_approvals(request: Request) -> Response:
    await authorized(request, Role.SUPERVISOR)
    status = request.query_params.get("status", "pending")
    if status not in (*STATUSES, "all"):
        raise HttpError(400, "bad_request", f"status is one of {', '.join(STATUSES)} or all.")
    found = await team_of(request).approvals.requests(
        status=None if status == "all" else status, msn=request.query_params.get("msn")
    )
    return JSONResponse({"approvals": [approval_json(r) for r in found]})


@answers
async def one_approval(request: Request) -> Response:
    await authorized(request, Role.SUPERVISOR)
    try:
        found = await team_of(request).approvals.get(_request_id(request))
    except DeskError as error:
        raise move_error(error) from None
    return JSONResponse(approval_json(found))


@answers
async def approve(request: Request) -> Response:
    agent = await authorized(request, Role.SUPERVISOR)
    data = await read_body(request)
    try:
        sent = await team_of(request).approvals.approve(agent, _request_id(request), note=_note(data))
    except (DeskError, EPaymentError) as error:
        raise move_error(error) from None
    return JSONResponse(_sent_json(agent, sent))


@answers
async def reject(request: Request) -> Response:
    agent = await authorized(request, Role.SUPERVISOR)
    data = await read_body(request)
    try:
        rejected = await team_of(request).approvals.reject(agent, _request_id(request), note=_note(data))
    except DeskError as error:
        raise move_error(error) from None
    return JSONResponse({"approval": approval_json(rejected)})


@answers
async def send(request: Request) -> Response:
    agent = await authorized(request, Role.SUPERVISOR)
    try:
        sent = await team_of(request).approvals.send(agent, _request_id(request))
    except (DeskError, EPaymentError) as error:
        raise move_error(error) from None
    return JSONResponse(_sent_json(agent, sent))


def approval_routes(base: str) -> list[Route]:
    """Batches and the approvals inbox."""
    one = f"{base}/approvals/{{id}}"
    return [
        Route(f"{base}/merchants/{{msn}}/batch", batch, methods=["POST"]),
        Route(f"{base}/approvals", list_approvals, methods=["GET"]),
        Route(one, one_approval, methods=["GET"]),
        Route(f"{one}/approve", approve, methods=["POST"]),
        Route(f"{one}/reject", reject, methods=["POST"]),
        Route(f"{one}/send", send, methods=["POST"]),
    ]


async def expire_periodically(approvals: TeamApprovals, every: float = EXPIRE_EVERY_S) -> None:
    """Expire requests whose time is up, now and every ``every`` seconds, until cancelled; a database
    out of reach is logged and tried again next time."""
    while True:
        try:
            expired = await approvals.expire_due()
        except RegisterError as error:
            log.warning("approval requests not expired now: %s", error)
        else:
            for request in expired:
                log.info("approval request #%d ended: %s %s", request.id, request.status, request.failure)
        await asyncio.sleep(every)
