"""The sandbox as a Starlette ASGI app: the real API's routes over the engine, plus the controls.

``create_app(SandboxConfig(...))`` builds one independent sandbox (its own engine, clock, faults).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from epay_desktop.sandbox import validation as v
from epay_desktop.sandbox.clock import Clock
from epay_desktop.sandbox.create_request import parse_create
from epay_desktop.sandbox.engine import Engine
from epay_desktop.sandbox.faults import Counters, Faults, FrontDoor
from epay_desktop.sandbox.persistence import StateFile, StateFileError
from epay_desktop.sandbox.problems import ProblemError
from epay_desktop.sandbox.tokens import TokenIssuer
from epay_desktop.sandbox.webhooks import Webhooks


@dataclass
class SandboxConfig:
    data: str = "demo"  # "demo" | "empty"
    token_lifetime: int = 3600
    rate_limits: bool = True
    state_file: Path | None = None
    seed: int = 0
    frozen_clock: bool = False  # only ``advance`` moves time (deterministic tests)
    # MSNs of sales units with late capture (DK/FI capture deadline 180 days instead of 14).
    late_capture: frozenset[str] = frozenset()


@dataclass
class Sandbox:
    """Everything one sandbox instance holds; reachable as ``app.state.sandbox``."""

    config: SandboxConfig
    clock: Clock
    engine: Engine
    tokens: TokenIssuer
    webhooks: Webhooks
    faults: Faults = field(default_factory=Faults)
    counters: Counters = field(default_factory=Counters)
    state: StateFile | None = None

    def load_data(self, data: str) -> None:
        from epay_desktop.sandbox.demo import load_demo

        if data not in ("demo", "empty"):
            raise ProblemError.invalid("data", 'must be "demo" or "empty"')
        self.engine.clear()
        self.engine.rng.seed(self.config.seed)
        if data == "demo":
            load_demo(self.engine, self.clock.now(), seed=self.config.seed)

    def save(self) -> None:
        """Commit what changed (only that) to the state file, if there is one."""
        if self.state is not None:
            self.state.save(self.engine, self.tokens.secret)


def problem_response(problem: ProblemError, path: str) -> Response:
    # Real error instances have no /epayment (or /webhooks) prefix (FACTS.md §1).
    instance = path.removeprefix("/epayment").removeprefix("/webhooks")
    return JSONResponse(
        problem.body(instance),
        status_code=problem.status,
        media_type="application/problem+json",
        headers=problem.headers or None,
    )


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


async def _body(request: Request, *, optional: bool = False) -> Any:
    return v.parse_json(await request.body(), optional=optional)


def _authorize(request: Request) -> tuple[Sandbox, str]:
    sandbox = _sandbox(request)
    headers = request.headers
    sandbox.tokens.check(headers.get("authorization"), headers.get("ocp-apim-subscription-key"))
    return sandbox, v.parse_msn(headers.get("merchant-serial-number"))


def _path_reference(request: Request) -> str:
    return v.parse_reference(request.path_params["reference"])


async def access_token(request: Request) -> Response:
    sandbox = _sandbox(request)
    h = request.headers
    if not h.get("ocp-apim-subscription-key"):
        return JSONResponse(
            {
                "statusCode": 401,
                "message": "Access denied due to missing subscription key. Make sure to include "
                "subscription key when making requests to an API.",
            },
            status_code=401,
        )
    if not h.get("client_id") or not h.get("client_secret"):
        return JSONResponse(
            {
                "error": "unauthorized_client",
                "error_description": "The client_id and client_secret headers are required.",
            },
            status_code=401,
        )
    answer = sandbox.tokens.issue(
        h["client_id"], h["ocp-apim-subscription-key"], h.get("merchant-serial-number")
    )
    return JSONResponse(answer, media_type="application/json;charset=UTF-8")


async def create_payment(request: Request) -> Response:
    sandbox, msn = _authorize(request)
    key = v.parse_idempotency_key(request.headers.get("idempotency-key"))
    body = await _body(request)
    reference = v.text_or_number(body.get("reference")) if isinstance(body, dict) else None
    sandbox.engine.check_rate("create", msn, reference or "", request.headers["ocp-apim-subscription-key"])
    landing = str(request.url_for("landing"))
    qr_image = str(request.url_for("qr_image"))
    status, answer = sandbox.engine.create(msn, key, body, landing, qr_image)
    return JSONResponse(answer, status_code=status)


async def get_payment(request: Request) -> Response:
    sandbox, msn = _authorize(request)
    reference = _path_reference(request)
    sandbox.engine.check_rate("get", msn, reference, request.headers["ocp-apim-subscription-key"])
    return JSONResponse(sandbox.engine.get(msn, reference))


async def get_events(request: Request) -> Response:
    sandbox, msn = _authorize(request)
    reference = _path_reference(request)
    sandbox.engine.check_rate("events", msn, reference, request.headers["ocp-apim-subscription-key"])
    return JSONResponse(sandbox.engine.events(msn, reference))


async def _modify(request: Request, operation: str) -> Response:
    sandbox, msn = _authorize(request)
    reference = _path_reference(request)
    # Idempotency-Key is "Recommended" on cancel, required on capture and refund (operations.md).
    raw_key = request.headers.get("idempotency-key")
    key = v.parse_optional_idempotency_key(raw_key)
    if operation != "cancel":
        key = v.parse_idempotency_key(raw_key)
    body = await _body(request, optional=operation == "cancel")
    engine = sandbox.engine
    engine.check_rate(operation, msn, reference, request.headers["ocp-apim-subscription-key"])
    engine.hold(msn, reference)
    try:
        if sandbox.faults.processing_ms:
            await asyncio.sleep(sandbox.faults.processing_ms / 1000)
        if key is None or operation == "cancel":
            status, answer = engine.cancel(msn, reference, key, body)
        else:
            run = engine.capture if operation == "capture" else engine.refund
            status, answer = run(msn, reference, key, body)
    finally:
        engine.release(msn, reference)
    return JSONResponse(answer, status_code=status)


async def cancel_payment(request: Request) -> Response:
    return await _modify(request, "cancel")


async def capture_payment(request: Request) -> Response:
    return await _modify(request, "capture")


async def refund_payment(request: Request) -> Response:
    return await _modify(request, "refund")


async def force_approve(request: Request) -> Response:
    sandbox, msn = _authorize(request)
    reference = _path_reference(request)
    body = await _body(request, optional=True)
    if body is not None:
        body = v.require_object(body)
        if body.get("customer") is not None:
            parse_create({"customer": body["customer"]} | _PLACEHOLDER_CREATE, sandbox.clock.now())
    sandbox.engine.force_approve(msn, reference)
    return Response(status_code=200)


# Lets force approve reuse the create validation of ``customer`` (phone numbers as JSON numbers too).
_PLACEHOLDER_CREATE: dict[str, Any] = {
    "amount": {"currency": "NOK", "value": 100},
    "paymentMethod": {"type": "WALLET"},
    "reference": "force-approve-check",
    "userFlow": "PUSH_MESSAGE",
}


async def _problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(exc, request.url.path)


def api_routes() -> list[Route]:
    return [
        Route("/accesstoken/get", access_token, methods=["POST"]),
        Route("/epayment/v1/payments", create_payment, methods=["POST"]),
        Route("/epayment/v1/payments/{reference}", get_payment, methods=["GET"]),
        Route("/epayment/v1/payments/{reference}/events", get_events, methods=["GET"]),
        Route("/epayment/v1/payments/{reference}/cancel", cancel_payment, methods=["POST"]),
        Route("/epayment/v1/payments/{reference}/capture", capture_payment, methods=["POST"]),
        Route("/epayment/v1/payments/{reference}/refund", refund_payment, methods=["POST"]),
        Route("/epayment/v1/test/payments/{reference}/approve", force_approve, methods=["POST"]),
    ]


def create_app(config: SandboxConfig | None = None) -> Starlette:
    """Raises ``StateFileError`` when ``config.state_file`` cannot be used (damaged, not ours)."""
    from epay_desktop.sandbox.controls import control_routes
    from epay_desktop.sandbox.webhooks.routes import webhook_routes

    config = config or SandboxConfig()
    clock = Clock(frozen=config.frozen_clock)
    faults = Faults()
    engine = Engine(
        clock,
        seed=config.seed,
        rate_limits=config.rate_limits,
        faults=faults,
        late_capture=config.late_capture,
    )
    state = StateFile(config.state_file) if config.state_file else None
    stored = state.load() if state is not None else None
    tokens = TokenIssuer(clock, config.token_lifetime, stored.token_secret if stored else None)
    webhooks = Webhooks(clock, seed=config.seed)
    engine.event_listeners.append(webhooks.on_event)
    sandbox = Sandbox(config, clock, engine, tokens, webhooks, faults, state=state)
    if stored is not None:
        try:
            engine.restore(stored.engine)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            assert state is not None
            state.close()
            raise StateFileError(state.path, f"a saved record is not readable ({exc!r})") from exc
        if not stored.legacy:  # what was just read is what the file holds: nothing to write
            engine.changed_payments.clear()
            engine.changed_answers.clear()
            engine.cleared = False
    else:
        sandbox.load_data(config.data)
    sandbox.save()

    app = Starlette(
        routes=[*api_routes(), *webhook_routes(), *control_routes()],
        middleware=[
            Middleware(
                FrontDoor,
                faults=sandbox.faults,
                counters=sandbox.counters,
                seed=config.seed,
                commit=sandbox.save,
            )
        ],
        exception_handlers={ProblemError: _problem_handler},
    )
    app.state.sandbox = sandbox
    return app
