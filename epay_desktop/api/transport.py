"""The HTTP transport under the client's ``httpx.AsyncClient``: the one place that chooses it.

httpx's API stays (requests, responses, timeouts, the error classes the session sorts into "not sent"
and "may have been sent"); the connections are aiohttp's, through ``httpx-aiohttp``. Chosen by
measurement (``benchmarks/peer_sdk.py``): httpx's own pool (httpcore) looks over every pooled
connection for every request, so its cost per request grows with the number of requests in flight (at
16 at a time it took twice the official SDK's time per call); aiohttp's pool does not.

The errors are translated here, not by ``httpx-aiohttp``'s table, because what matters for money is
whether a request can have left: that table turns every ``ClientConnectionError`` (a server that hung
up after reading the request included) into ``ConnectTimeout``, which reads as "nothing was sent". Here
only a connection that was never made (or never had from the pool) says so; everything else may have
reached the server.

TLS verification stays on: the session's ``ssl.SSLContext`` (the system's trust store, hostname
checks) is handed to aiohttp's connector as it is.
"""

from __future__ import annotations

import ssl
from typing import Final

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

TRANSPORT_NAME: Final = "aiohttp through httpx-aiohttp"


def default_transport(ssl_context: ssl.SSLContext) -> httpx.AsyncBaseTransport:
    """The transport for a client that was not handed one (tests hand it ``httpx.ASGITransport``)."""
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


__all__ = ["TRANSPORT_NAME", "SortedErrorsTransport", "default_transport", "translate"]
