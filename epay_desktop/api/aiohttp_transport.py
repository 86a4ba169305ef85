"""aiohttp's connections behind httpx's API (``httpx-aiohttp``), with errors sorted by whether the request
can have left.

What matters for money is whether a request may have reached the server: ``httpx-aiohttp``'s own table
turns every ``ClientConnectionError`` (a server that hung up after reading the request included) into
``ConnectTimeout``, which the session reads as "nothing was sent". Here only a connection that was
never made (or never had from the pool) says so; everything else may have reached the server.

An answer of a known length within the size the caller accepts (``transport.ANSWER_LIMIT`` in the
request's extensions) and not compressed, which is every answer of the API's, is read here, and its
``httpx.Response`` is built once with the body in it: no stream to wrap and iterate, no second response
built after reading it. Any other answer is handed on as a stream, read (and decompressed) by the caller
up to its limit; errors while reading it are sorted the same way.

Imported on the first request, not at start (``transport.py``): aiohttp's import costs about as much as
httpx's.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from epay_desktop.api.transport import ANSWER_LIMIT

# As ``AiohttpTransport`` sizes its pool by default.
_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


def sorted_errors_transport(ssl_context: ssl.SSLContext) -> SortedErrorsTransport:
    """The transport over ``ssl_context`` (TLS verified as the session set it up)."""

    def session() -> aiohttp.ClientSession:
        # Built on the first request, inside the running loop. No cookie jar: the API needs none (the
        # httpx client above keeps none either).
        connector = aiohttp.TCPConnector(
            ssl=ssl_context, limit=_LIMITS.max_connections or 0, keepalive_timeout=_LIMITS.keepalive_expiry
        )
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    return SortedErrorsTransport(verify=ssl_context, trust_env=False, limits=_LIMITS, client=session)


class SortedErrorsTransport(AiohttpTransport):
    """``AiohttpTransport`` whose errors say truthfully whether the request can have been sent.

    It hands a request to aiohttp as ``AiohttpTransport`` does for the requests this client makes (a
    body of bytes, no proxy), with its headers as a list and one ``ClientTimeout`` per set of timeouts,
    which is cheaper than converting them for every request; a small plain answer comes back read (see
    the module)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        try:
            response = await self.client.request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                data=request.content or None,
                allow_redirects=False,
                auto_decompress=False,
                compress=False,
                timeout=self._timeout(request),
            ).__aenter__()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise translate(error) from error
        except ValueError as error:
            # aiohttp refuses a header value with a line break before writing anything; its text may
            # quote a secret, which the session never shows.
            raise httpx.LocalProtocolError(str(error)) from error
        extensions = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode()
        limit = request.extensions.get(ANSWER_LIMIT)
        length = response.content_length
        if (
            isinstance(limit, int)
            and length is not None
            and length <= limit
            and "Content-Encoding" not in response.headers
        ):
            try:
                body = await response.read()
            except (aiohttp.ClientError, TimeoutError) as error:
                raise translate(error) from error
            finally:
                response.release()  # read whole: its connection goes back to the pool
            return httpx.Response(
                status_code=response.status,
                headers=response.raw_headers,
                content=body,
                request=request,
                extensions=extensions,
            )
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=SortedErrorsStream(response),
            request=request,
            extensions=extensions,
        )

    @staticmethod
    def _timeout(request: httpx.Request) -> aiohttp.ClientTimeout:
        given = request.extensions.get("timeout", {})
        return _client_timeout(given.get("connect"), given.get("read"), given.get("pool"))


@functools.lru_cache(maxsize=16)
def _client_timeout(connect: float | None, read: float | None, pool: float | None) -> aiohttp.ClientTimeout:
    """httpx's timeouts as aiohttp's (made once per set; they cannot be changed): connect (to the
    server), read (between bytes), and pool (a connection from the pool, which aiohttp's ``connect``
    covers)."""
    return aiohttp.ClientTimeout(sock_connect=connect, sock_read=read, connect=pool)


class SortedErrorsStream(httpx.AsyncByteStream):
    """An answer's body as aiohttp reads it, its errors sorted by ``translate`` (a connection that breaks
    while the answer is read was made: the request may have reached the server)."""

    CHUNK_SIZE = 16 * 1024

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(self.CHUNK_SIZE):
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as error:
            raise translate(error) from error

    async def aclose(self) -> None:
        # As aiohttp's own ``async with``: let go of the connection, then wait for the request's writer.
        self._response.release()
        try:
            await self._response.wait_for_close()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise translate(error) from error


def translate(error: BaseException) -> httpx.TransportError:
    """The httpx error that says what an aiohttp error means for the request."""
    message = str(error) or type(error).__name__
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message)  # no connection in time (connecting or from the pool)
    if isinstance(error, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)  # refused, unreachable, TLS handshake or certificate failed
    if isinstance(error, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(message)
    if isinstance(error, aiohttp.ServerTimeoutError | TimeoutError):
        return httpx.ReadTimeout(message)
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(message)
    return httpx.ReadError(message)  # after the connection was made: the request may have gone out


__all__ = ["SortedErrorsStream", "SortedErrorsTransport", "sorted_errors_transport", "translate"]
