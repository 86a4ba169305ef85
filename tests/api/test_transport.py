"""The client's own transport (aiohttp behind httpx's API) over real sockets on 127.0.0.1: what each way a
connection can fail means for a money-moving call. Nothing sent: a plain error, safe to try again.
Maybe sent (the server read the request, then hung up or never answered): outcome unknown."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from epay_desktop.api import (
    Credentials,
    Environment,
    EPaymentClient,
    NetworkError,
    OutcomeUnknownError,
    RetryPolicy,
)
from epay_desktop.api.aiohttp_transport import SortedErrorsTransport
from epay_desktop.api.transport import ANSWER_LIMIT, DeferredTransport

pytestmark = pytest.mark.anyio

CREDENTIALS = Credentials("demo-client", "demo-secret", "demo-subscription-key", "123456")
TOKEN = json.dumps({"access_token": "token-1", "expires_in": "3600", "token_type": "Bearer"}).encode()


@asynccontextmanager
async def raw_server(on_request: str) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server that answers access-token requests properly and every other request by ``on_request``:
    "hang-up" (read it, close without a word), "silence" (read it, never answer), "half-answer,
    hang-up" or "half-answer, silence" (read it, send the answer's head and part of its body, then
    close, or say nothing more)."""
    seen: list[bytes] = []
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            seen.append(head.split(b"\r\n", 1)[0])
            if b"/accesstoken/get" in head.split(b"\r\n", 1)[0]:
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(TOKEN)}\r\n\r\n".encode()
                    + TOKEN
                )
                await writer.drain()
                continue
            if on_request == "hang-up":
                writer.close()
                return
            if on_request.startswith("half-answer"):
                # The answer's head and part of its body; then hang up, or say nothing more.
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
                    b'{"reference": "order-12345678", "st'
                )
                await writer.drain()
                if on_request == "half-answer, hang-up":
                    writer.close()
                    return
            if on_request.startswith("half-chunked"):
                # An answer of no declared length (read as a stream), broken off: hang up or reset.
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b'10\r\n{"reference": "o\r\n'
                )
                await writer.drain()
                if on_request == "half-chunked, reset":
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.close()
                return
            await asyncio.sleep(3600)

    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handle(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()

    server = await asyncio.start_server(guarded, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


def client_for(url: str) -> EPaymentClient:
    return EPaymentClient(
        Environment.sandbox(url),
        CREDENTIALS,
        retry=RetryPolicy.none(),
        timeout=httpx.Timeout(0.5, connect=0.5),
    )


async def test_the_client_sends_through_the_sorted_errors_transport_with_its_tls_context() -> None:
    async with raw_server("hang-up") as (url, _seen), client_for(url) as client:
        transport = client.session._http._transport  # type: ignore[attr-defined]
        assert isinstance(transport, DeferredTransport)
        assert transport.inner is None  # nothing sent yet: aiohttp not needed yet
        assert transport.ssl_context is client.session.ssl_context
        await client.fetch_token()
        assert isinstance(transport.inner, SortedErrorsTransport)
        assert transport.inner.ssl_context is client.session.ssl_context


async def test_a_refused_connection_is_not_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nobody listens there
    async with client_for(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(NetworkError, match="could not be reached"):
            await client.cancel("order-12345678", idempotency_key="key-refused")


async def test_a_server_that_hangs_up_after_reading_a_cancel_leaves_its_outcome_unknown() -> None:
    async with raw_server("hang-up") as (url, seen), client_for(url) as client:
        with pytest.raises(OutcomeUnknownError):
            await client.cancel("order-12345678", idempotency_key="key-hang-up")
    assert any(b"/cancel" in line for line in seen)


async def test_a_cancel_without_an_answer_in_time_leaves_its_outcome_unknown() -> None:
    async with raw_server("silence") as (url, seen), client_for(url) as client:
        with pytest.raises(OutcomeUnknownError):
            await client.cancel("order-12345678", idempotency_key="key-silence")
    assert any(b"/cancel" in line for line in seen)


async def test_a_read_that_fails_after_the_request_left_is_a_network_error() -> None:
    async with raw_server("hang-up") as (url, _seen), client_for(url) as client:
        with pytest.raises(NetworkError):
            await client.get_payment("order-12345678")


@pytest.mark.parametrize("then", ["hang-up", "silence"])
async def test_a_cancel_whose_answer_breaks_off_leaves_its_outcome_unknown(then: str) -> None:
    # The server answered (so it read the request): whatever happens to the body, it may have moved money.
    async with raw_server(f"half-answer, {then}") as (url, seen), client_for(url) as client:
        with pytest.raises(OutcomeUnknownError):
            await client.cancel("order-12345678", idempotency_key=f"key-half-{then}")
    assert any(b"/cancel" in line for line in seen)


@pytest.mark.parametrize("then", ["hang-up", "reset"])
async def test_a_cancel_whose_streamed_answer_breaks_off_leaves_its_outcome_unknown(then: str) -> None:
    # No declared length: the answer is read as a stream, whose errors must say "it may have been sent".
    async with raw_server(f"half-chunked, {then}") as (url, seen), client_for(url) as client:
        with pytest.raises(OutcomeUnknownError):
            await client.cancel("order-12345678", idempotency_key=f"key-chunked-{then}")
    assert any(b"/cancel" in line for line in seen)


async def test_a_plain_answer_comes_back_read_and_a_streamed_one_as_a_stream() -> None:
    async with raw_server("hang-up") as (url, _seen), client_for(url) as client:
        await client.fetch_token()  # builds the transport
        transport = client.session._http._transport  # type: ignore[attr-defined]
        inner = transport.inner
        assert isinstance(inner, SortedErrorsTransport)
        plain = await inner.handle_async_request(
            httpx.Request("POST", url + "/accesstoken/get", extensions={ANSWER_LIMIT: 10_000})
        )
        assert plain.content == TOKEN  # read, no stream left to read
        assert plain.is_stream_consumed
        await plain.aclose()
        unlimited = await inner.handle_async_request(httpx.Request("POST", url + "/accesstoken/get"))
        assert not unlimited.is_stream_consumed  # the caller did not say how much it takes
        assert await unlimited.aread() == TOKEN
        await unlimited.aclose()
        too_long = await inner.handle_async_request(
            httpx.Request("POST", url + "/accesstoken/get", extensions={ANSWER_LIMIT: len(TOKEN) - 1})
        )
        assert not too_long.is_stream_consumed  # left to the caller, who refuses it by its size
        await too_long.aclose()
