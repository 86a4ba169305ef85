"""The HTTP transport under the client's ``httpx.AsyncClient``: the one place that chooses it.

httpx's API stays (requests, responses, timeouts, the error classes the session sorts into "not sent"
and "may have been sent"); the connections are aiohttp's, through ``httpx-aiohttp``
(``aiohttp_transport.py``). Chosen by measurement (``benchmarks/peer_sdk.py``): httpx's own pool
(httpcore) looks over every pooled connection for every request, so its cost per request grows with
the number of requests in flight (16 at a time: about twice the official SDK's time per call, against
about 1.5x through aiohttp).

aiohttp is imported when the first request is sent, in a worker thread, not when the client is built:
its import costs about as much as httpx's, and the window lists the register before anything is sent.
TLS verification stays on: the session's ``ssl.SSLContext`` is handed to aiohttp's connector as it is.
Neither side keeps cookies (the API needs none).
"""

from __future__ import annotations

import asyncio
import ssl
from types import ModuleType
from typing import TYPE_CHECKING, Final

import httpx

if TYPE_CHECKING:
    from epay_desktop.api.aiohttp_transport import SortedErrorsTransport

TRANSPORT_NAME: Final = "aiohttp through httpx-aiohttp"
# The request extension that tells the transport how many bytes of answer the caller accepts (an
# ``int``): an answer declared no longer than that and not compressed may come back already read (its
# ``httpx.Response`` built once, with the body in it), any other is handed back as a stream.
ANSWER_LIMIT: Final = "epay_desktop.answer_limit"


def default_transport(ssl_context: ssl.SSLContext) -> httpx.AsyncBaseTransport:
    """The transport for a client that was not handed one (tests hand it ``httpx.ASGITransport``)."""
    return DeferredTransport(ssl_context)


class DeferredTransport(httpx.AsyncBaseTransport):
    """Builds the aiohttp transport on the first request (importing aiohttp off the loop's thread)."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self.ssl_context = ssl_context
        self.inner: SortedErrorsTransport | None = None
        self._loading: asyncio.Future[ModuleType] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        inner = self.inner or await self._build()
        return await inner.handle_async_request(request)

    async def _build(self) -> SortedErrorsTransport:
        loading = self._loading
        if loading is None:
            loading = self._loading = asyncio.ensure_future(asyncio.to_thread(_import_aiohttp_transport))
        # Shielded: a first request that is cancelled does not cancel the import the next one waits on.
        loaded: ModuleType = await asyncio.shield(loading)
        if self.inner is None:
            self.inner = loaded.sorted_errors_transport(self.ssl_context)
        return self.inner

    async def aclose(self) -> None:
        if self.inner is not None:
            await self.inner.aclose()


def _import_aiohttp_transport() -> ModuleType:
    # A plain import statement (not importlib by name), so freezing tools such as PyInstaller see it.
    from epay_desktop.api import aiohttp_transport

    return aiohttp_transport


__all__ = ["ANSWER_LIMIT", "TRANSPORT_NAME", "DeferredTransport", "default_transport"]
