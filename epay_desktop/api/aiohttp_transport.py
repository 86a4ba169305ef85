"""aiohttp's connections behind httpx's API (``httpx-aiohttp``), with errors sorted by whether the request
can have left.

What matters for money is whether a request may have reached the server: ``httpx-aiohttp``'s own table
turns every ``ClientConnectionError`` (a server that hung up after reading the request included) into
``ConnectTimeout``, which the session reads as "nothing was sent". Here only a connection that was
never made (or never had from the pool) says so; everything else may have reached the server.

Imported on the first request, not at start (``transport.py``): aiohttp's import costs about as much as
httpx's.
"""

from __future__ import annotations

import functools
import ssl

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import AiohttpResponseStream

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
    body of bytes, no proxy), with its headers as a list and one ``ClientTimeout`` per set of
    timeouts, which is cheaper than converting them for every request; the answer's body is read
    through the library's own stream."""

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
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=AiohttpResponseStream(response),
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


__all__ = ["SortedErrorsTransport", "sorted_errors_transport", "translate"]
