"""Controls the real API lacks, under ``/sandbox/v1`` (JSON, camelCase, no auth).

Payment-scoped calls take the ``Merchant-Serial-Number`` header. Described by the OpenAPI document
served at ``GET /sandbox/v1/openapi.json`` (``controls_openapi.py``).
"""

from __future__ import annotations

import html
import io
from typing import Any

import segno
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from epay_desktop.sandbox import validation as v
from epay_desktop.sandbox.controls_openapi import CONTROLS_OPENAPI
from epay_desktop.sandbox.create_request import QR_DEFAULT_SIZE
from epay_desktop.sandbox.engine import Engine
from epay_desktop.sandbox.faults import Faults
from epay_desktop.sandbox.problems import ProblemError
from epay_desktop.sandbox.records import PaymentRecord

PREFIX = "/sandbox/v1"
MAX_PAGE = 1000
QR_BORDER = 4  # the quiet zone QR readers need, in modules


def _sandbox(request: Request) -> Any:
    return request.app.state.sandbox


def _int_query(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > high:
        raise ProblemError.invalid(name, f"must be an integer from 0 to {high}")
    return int(raw)


async def openapi(request: Request) -> Response:
    return JSONResponse(CONTROLS_OPENAPI)


async def list_payments(request: Request) -> Response:
    msn = v.parse_msn(request.headers.get("merchant-serial-number"))
    offset = _int_query(request, "offset", 0, 10**9)
    limit = _int_query(request, "limit", 100, MAX_PAGE)
    items, total = _sandbox(request).engine.list_payments(msn, offset, limit)
    return JSONResponse({"items": items, "total": total, "offset": offset, "limit": limit})


async def customer(request: Request) -> Response:
    msn = v.parse_msn(request.headers.get("merchant-serial-number"))
    reference = v.parse_reference(request.path_params["reference"])
    return JSONResponse(_sandbox(request).engine.customer(msn, reference, request.path_params["action"]))


async def _json_object(request: Request) -> dict[str, Any]:
    return v.require_object(v.parse_json(await request.body()))


async def advance_clock(request: Request) -> Response:
    body = await _json_object(request)
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= 10**8:
        raise ProblemError.invalid("seconds", "must be a number from 0 to 100000000")
    sandbox = _sandbox(request)
    now = sandbox.clock.advance(float(seconds))
    sandbox.engine.version += 1
    return JSONResponse({"now": now.isoformat().replace("+00:00", "Z")})


async def reset(request: Request) -> Response:
    raw = await request.body()
    body = v.require_object(v.parse_json(raw)) if raw.strip() else {}
    data = body.get("data", "demo")
    sandbox = _sandbox(request)
    sandbox.clock.restart()
    sandbox.faults.__dict__.update(Faults().__dict__)
    sandbox.webhooks.reset_faults()
    sandbox.load_data(data)
    return JSONResponse({"data": data, "payments": len(sandbox.engine.payments)})


async def faults(request: Request) -> Response:
    sandbox = _sandbox(request)
    if request.method == "PUT":
        new = Faults.from_json(v.parse_json(await request.body()))
        sandbox.faults.__dict__.update(new.__dict__)
    return JSONResponse(sandbox.faults.to_json())


async def stats(request: Request) -> Response:
    counters = _sandbox(request).counters
    return JSONResponse({"tokenRequests": counters.token_requests, "requests": counters.requests})


def _by_token(request: Request) -> PaymentRecord | None:
    """The payment whose landing URL carries the ``token`` query value (exactly), if any."""
    token = request.query_params.get("token", "")
    if not token:
        return None
    engine: Engine = _sandbox(request).engine
    suffix = f"?token={token}"
    with engine.lock:
        for payment in engine.payments.values():
            url = payment.landing_url or payment.redirect_url  # state files from before QR formats
            if url and url.endswith(suffix):
                return payment
    return None


async def qr_image(request: Request) -> Response:
    """Where ``redirectUrl`` of a QR payment points when it was asked as an image: a QR code of the
    landing URL (the target URL a phone opens), as SVG or as a PNG of about ``qrFormat.size`` px."""
    p = _by_token(request)
    if p is None or p.landing_url is None or p.qr_format not in ("IMAGE/SVG+XML", "IMAGE/PNG"):
        raise ProblemError(404, "Not Found", "No QR image has this token.")
    code = segno.make(p.landing_url, error="m")
    out = io.BytesIO()
    if p.qr_format == "IMAGE/PNG":
        size = p.qr_size or QR_DEFAULT_SIZE
        modules = code.symbol_size(scale=1, border=QR_BORDER)[0]
        # PNG modules are whole pixels: the largest scale that fits, so the image is at most ``size``.
        code.save(out, kind="png", scale=max(1, size // modules), border=QR_BORDER)
        return Response(out.getvalue(), media_type="image/png")
    code.save(out, kind="svg", scale=4, border=QR_BORDER, xmldecl=False)
    return Response(out.getvalue(), media_type="image/svg+xml")


async def landing(request: Request) -> Response:
    """Where ``redirectUrl`` points: a bare page that lets a person play the customer."""
    p = _by_token(request)
    if p is None:
        return HTMLResponse("<h1>Unknown payment</h1>", status_code=404)
    ref, msn = html.escape(p.reference), html.escape(p.msn)
    buttons = "".join(
        f"<button onclick=\"act('{a}')\">{a.capitalize()}</button> " for a in ("approve", "reject")
    )
    page = f"""<!doctype html><meta charset="utf-8"><title>ePayment sandbox</title>
<h1>{html.escape(p.description or p.reference)}</h1>
<p>{p.amount / 100:.2f} {p.currency.value} · reference {ref} · state <b id="s">{p.state}</b></p>
{buttons}
<script>
async function act(a) {{
  const r = await fetch("{PREFIX}/payments/{ref}/customer/" + a,
    {{method: "POST", headers: {{"Merchant-Serial-Number": "{msn}"}}}});
  const j = await r.json(); document.getElementById("s").textContent = j.state || j.title;
}}
</script>"""
    return HTMLResponse(page)


def control_routes() -> list[Route]:
    return [
        Route(f"{PREFIX}/openapi.json", openapi, methods=["GET"]),
        Route(f"{PREFIX}/payments", list_payments, methods=["GET"]),
        Route(f"{PREFIX}/payments/{{reference}}/customer/{{action}}", customer, methods=["POST"]),
        Route(f"{PREFIX}/clock/advance", advance_clock, methods=["POST"]),
        Route(f"{PREFIX}/reset", reset, methods=["POST"]),
        Route(f"{PREFIX}/faults", faults, methods=["GET", "PUT"]),
        Route(f"{PREFIX}/stats", stats, methods=["GET"]),
        Route(f"{PREFIX}/landing", landing, methods=["GET"], name="landing"),
        Route(f"{PREFIX}/qr-image", qr_image, methods=["GET"], name="qr_image"),
    ]
