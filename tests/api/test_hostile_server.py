"""A hostile or broken server, over real HTTP on 127.0.0.1 (uvicorn): an answer that is not for the
requested payment is never a success, a server trickling bytes is cut off by a deadline for the whole
request, a gzip bomb is refused before it fills the memory, and a TLS failure is said as such."""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from epay_desktop.api import (
    Environment,
    EPaymentClient,
    MalformedResponseError,
    NetworkError,
    OutcomeUnknownError,
    RetryPolicy,
)
from epay_desktop.domain import Currency, Money
from tests.api.fakes import CREDENTIALS, REF, payment_body
from tests.api.test_client_fake import _self_signed
from tests.support.sandbox_server import running_sandbox

pytestmark = pytest.mark.anyio
OTHER = "someone-elses-0001"


async def _token(request: Request) -> JSONResponse:
    return JSONResponse({"token_type": "Bearer", "expires_in": "3600", "access_token": "tok-abcdefgh"})


async def _other_payment(request: Request) -> JSONResponse:
    return JSONResponse(payment_body(OTHER, captured=500))


async def _other_events(request: Request) -> JSONResponse:
    event = {
        "reference": OTHER,
        "pspReference": "p",
        "name": "CAPTURED",
        "amount": {"currency": "NOK", "value": 500},
        "timestamp": "2026-01-01T10:00:00Z",
        "idempotencyKey": "k",
        "success": True,
    }
    return JSONResponse([event])


async def _other_created(request: Request) -> JSONResponse:
    return JSONResponse({"reference": OTHER, "redirectUrl": "https://example.com"}, status_code=201)


async def _trickle(request: Request) -> StreamingResponse:
    async def drip() -> AsyncIterator[bytes]:
        text = json.dumps(payment_body(REF, captured=500)).encode()
        for byte in text:
            await asyncio.sleep(0.2)  # each byte well inside any read timeout
            yield bytes([byte])

    return StreamingResponse(drip(), media_type="application/json")


BOMB = gzip.compress(b" " * (64 * 1024 * 1024), compresslevel=9)  # 64 MB of spaces, ~64 KB on the wire


async def _bomb(request: Request) -> Response:
    return Response(BOMB, media_type="application/json", headers={"Content-Encoding": "gzip"})


def _app(path_handler: object) -> Starlette:
    return Starlette(
        routes=[
            Route("/accesstoken/get", _token, methods=["POST"]),
            Route("/epayment/v1/payments", _other_created, methods=["POST"]),
            Route("/epayment/v1/payments/{reference}/events", _other_events, methods=["GET"]),
            Route("/epayment/v1/payments/{reference}", path_handler, methods=["GET"]),  # type: ignore[arg-type]
            Route("/epayment/v1/payments/{reference}/capture", path_handler, methods=["POST"]),  # type: ignore[arg-type]
        ]
    )


@pytest.fixture
def hostile() -> Iterator[dict[str, str]]:
    urls = {}
    with (
        running_sandbox(app=_app(_other_payment)) as other,
        running_sandbox(app=_app(_trickle)) as trickle,
        running_sandbox(app=_app(_bomb)) as bomb,
    ):
        urls.update(other=other, trickle=trickle, bomb=bomb)
        yield urls


def _client(url: str, **session: object) -> EPaymentClient:
    return EPaymentClient(
        Environment.sandbox(url),
        CREDENTIALS,
        retry=RetryPolicy(max_attempts=2, base_delay=0, max_delay=0),
        **session,  # type: ignore[arg-type]
    )


async def test_a_capture_answered_with_another_payment_is_not_a_success(hostile: dict[str, str]) -> None:
    async with _client(hostile["other"]) as client:
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.capture(REF, Money(500, Currency.NOK), idempotency_key="key-1")
        assert OTHER in str(caught.value.last_error)
        with pytest.raises(MalformedResponseError, match=f"{OTHER}'?, not '?{REF}"):
            await client.get_payment(REF)
        with pytest.raises(MalformedResponseError, match=OTHER):
            await client.get_events(REF)
        with pytest.raises(OutcomeUnknownError):
            await client.create_payment(
                reference=REF, amount=Money(100, Currency.NOK), description="Two buns"
            )


async def test_a_trickling_server_is_cut_off_by_a_deadline_for_the_whole_request(
    hostile: dict[str, str],
) -> None:
    async with _client(hostile["trickle"], request_deadline=1.0) as client:
        with pytest.raises(NetworkError, match="did not answer in time"):
            await client.get_payment(REF)
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.capture(REF, Money(500, Currency.NOK), idempotency_key="key-2")
        assert "did not answer in time" in str(caught.value)


async def test_a_gzip_bomb_is_refused_by_its_decompressed_size(hostile: dict[str, str]) -> None:
    async with _client(hostile["bomb"], max_answer_bytes=2 * 1024 * 1024) as client:
        with pytest.raises(MalformedResponseError, match="larger than"):
            await client.get_payment(REF)
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.capture(REF, Money(500, Currency.NOK), idempotency_key="key-3")
        assert "larger than" in str(caught.value.last_error)


async def test_a_tls_failure_is_said_as_such(tmp_path: Path) -> None:
    cert_file, key_file = _self_signed(tmp_path)
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert_file, key_file)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read(1024)
        except (ssl.SSLError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_side)
    port = server.sockets[0].getsockname()[1]
    client = EPaymentClient(
        Environment.sandbox(f"https://127.0.0.1:{port}"), CREDENTIALS, retry=RetryPolicy.none()
    )
    try:
        with pytest.raises(NetworkError) as caught:
            await client.get_payment(REF)
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()
    text = str(caught.value)
    assert "could not be reached" not in text
    assert "certificate" in text
    assert "TLS" in text
