"""The Webhooks API v1 routes (``/webhooks/v1/webhooks``) and the webhook controls under
``/sandbox/v1/webhooks`` (deliveries with their attempts, faults)."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from epay_desktop.sandbox import validation as v
from epay_desktop.sandbox.problems import ProblemError
from epay_desktop.sandbox.webhooks.delivery import WebhookFaults
from epay_desktop.sandbox.webhooks.hub import Webhooks

API = "/webhooks/v1/webhooks"
CONTROLS = "/sandbox/v1/webhooks"


def _hub(request: Request) -> Webhooks:
    hub: Webhooks = request.app.state.sandbox.webhooks
    return hub


def _caller(request: Request) -> tuple[Webhooks, str | None]:
    """The token and subscription key are checked as for ePayment; the serial number is optional (a
    partner without one registers for all its sales units)."""
    headers = request.headers
    request.app.state.sandbox.tokens.check(
        headers.get("authorization"), headers.get("ocp-apim-subscription-key")
    )
    msn = headers.get("merchant-serial-number")
    return _hub(request), v.parse_msn(msn) if msn else None


async def register(request: Request) -> Response:
    hub, msn = _caller(request)
    item = hub.registry.register(msn, v.parse_json(await request.body()))
    return JSONResponse({"id": item.id, "secret": item.secret}, status_code=201)


async def list_webhooks(request: Request) -> Response:
    hub, msn = _caller(request)
    return JSONResponse({"webhooks": [r.to_json() for r in hub.registry.of(msn)]})


async def delete(request: Request) -> Response:
    hub, msn = _caller(request)
    raw = request.path_params["id"]
    try:
        registration_id = str(uuid.UUID(raw))
    except ValueError:
        raise ProblemError.invalid("id", "must be a UUID") from None
    hub.registry.delete(msn, registration_id)
    return Response(status_code=204)


async def deliveries(request: Request) -> Response:
    query = request.query_params
    items = _hub(request).dispatcher.deliveries(
        registration_id=query.get("registrationId"), reference=query.get("reference")
    )
    return JSONResponse({"deliveries": [d.to_json() for d in items]})


async def faults(request: Request) -> Response:
    dispatcher = _hub(request).dispatcher
    if request.method == "PUT":
        dispatcher.faults = WebhookFaults.from_json(v.parse_json(await request.body()))
    body: dict[str, Any] = dispatcher.faults.to_json()
    return JSONResponse(body)


def webhook_routes() -> list[Route]:
    return [
        Route(API, register, methods=["POST"]),
        Route(API, list_webhooks, methods=["GET"]),
        Route(API + "/{id}", delete, methods=["DELETE"]),
        Route(CONTROLS + "/deliveries", deliveries, methods=["GET"]),
        Route(CONTROLS + "/faults", faults, methods=["GET", "PUT"]),
    ]
