"""Every output path of ``epay`` redacts secrets a server echoes back (stderr, stdout, ``--json``)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from epay_desktop.cli import main
from tests.support.sandbox_server import running_sandbox

TOKEN = "opaque-token-Zq81xT0p"  # not JWT-shaped: only known as a secret because the client got it
SUBSCRIPTION_KEY = "demo-subscription-key"
CLIENT_SECRET = "demo-secret"
REF = "echo-ref-00001"


async def _token(request: Request) -> JSONResponse:
    return JSONResponse(
        {"token_type": "Bearer", "expires_in": "3600", "access_token": TOKEN, "ext_expires_in": "3600"}
    )


def _echo(request: Request) -> str:
    h = request.headers
    return (
        f"you sent key {h.get('ocp-apim-subscription-key')} and {h.get('authorization')}; "
        f"token {TOKEN}; secret {CLIENT_SECRET}"
    )


async def _problem(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "type": "about:blank",
            "title": f"Bad request {TOKEN}",
            "status": 400,
            "detail": _echo(request),
            "traceId": f"trace-{SUBSCRIPTION_KEY}",
            "extraDetails": [{"name": "ErrorCode", "reason": "1000"}],
        },
        status_code=400,
        media_type="application/problem+json",
    )


async def _events(request: Request) -> JSONResponse:
    """A 200 whose data carries the secrets (in a field the command prints)."""
    return JSONResponse(
        [
            {
                "reference": REF,
                "pspReference": f"psp-{TOKEN}",
                "name": "CREATED",
                "amount": {"currency": "NOK", "value": 100},
                "timestamp": "2026-01-01T10:00:00Z",
                "idempotencyKey": f"{SUBSCRIPTION_KEY}",
                "success": True,
            }
        ]
    )


@pytest.fixture
def echoing_server() -> Iterator[str]:
    app = Starlette(
        routes=[
            Route("/accesstoken/get", _token, methods=["POST"]),
            Route("/epayment/v1/payments/{reference}", _problem, methods=["GET"]),
            Route("/epayment/v1/payments/{reference}/events", _events, methods=["GET"]),
        ]
    )
    with running_sandbox(app=app) as url:
        yield url


@pytest.mark.parametrize("command", ["get", "events"])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_secrets_echoed_by_a_server_are_never_printed(
    echoing_server: str, capsys: pytest.CaptureFixture[str], command: str, as_json: bool
) -> None:
    argv = ["--base-url", echoing_server, *(["--json"] if as_json else []), command, REF]
    code = main(argv, stdin=io.StringIO(""))
    out, err = capsys.readouterr()
    assert code != 0 if command == "get" else code == 0
    for secret in (TOKEN, SUBSCRIPTION_KEY, CLIENT_SECRET):
        assert secret not in out
        assert secret not in err
    assert "[REDACTED]" in out + err
    if as_json:
        json.loads(out)  # still parseable after redaction
