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

import ssl

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport


def sorted_errors_transport(ssl_context: ssl.SSLContext) -> SortedErrorsTransport:
    """The transport over ``ssl_context`` (TLS verified as the session set it up)."""
    return SortedErrorsTransport(verify=ssl_context, trust_env=False)


class SortedErrorsTransport(AiohttpTransport):
    """``AiohttpTransport`` whose errors say truthfully whether the request can have been sent."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.TransportError as error:
            cause = error.__cause__
            if isinstance(cause, aiohttp.ClientError | TimeoutError):
                raise translate(cause) from cause
            raise
        except (aiohttp.ClientError, TimeoutError) as error:
            raise translate(error) from error
        except ValueError as error:
            # aiohttp refuses a header value with a line break before writing anything; its text may
            # quote a secret, which the session never shows.
            raise httpx.LocalProtocolError(str(error)) from error


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
