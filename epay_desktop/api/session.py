"""The connection under ``EPaymentClient``: one long-lived ``httpx.AsyncClient`` (TLS verified, explicit
timeouts), the access-token cache, the headers every call carries, and the one request path with its
safe retries: the same body bytes and Idempotency-Key on every attempt, and ``OutcomeUnknownError``
once an attempt of a money-moving call may have taken effect (see ``client.py`` for the whole rule).
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Final, Self

import httpx

from epay_desktop import APP_NAME, __version__
from epay_desktop.api.environment import Credentials, Environment
from epay_desktop.api.errors import EPaymentError, MalformedResponseError, NetworkError, OutcomeUnknownError
from epay_desktop.api.parse import TokenInfo, load_json, parse_problem, parse_token
from epay_desktop.api.redact import redact, register_secret
from epay_desktop.api.retry import RetryPolicy, parse_retry_after
from epay_desktop.api.token import TokenCache
from epay_desktop.api.transport import default_transport

log = logging.getLogger("epay_desktop.api")

SYSTEM_NAME: Final = APP_NAME[:30]
SYSTEM_VERSION: Final = __version__[:30]
DEFAULT_TIMEOUT: Final = httpx.Timeout(20.0, connect=5.0)

_ATTEMPTS: Final = "epay_desktop.attempts"  # response.extensions key: how many attempts it took
# Transport failures that happen before the request could reach the server: nothing was done.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class ApiSession:
    """Lifecycle, tokens and the request path of one merchant serial number's client (the operations
    are ``EPaymentClient``'s). Use as ``async with`` or call :meth:`aclose`."""

    def __init__(
        self,
        environment: Environment,
        credentials: Credentials,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        self.environment = environment
        self.credentials = credentials
        self.retry = retry if retry is not None else RetryPolicy()
        for secret in credentials.secrets:
            register_secret(secret)
        # TLS verification is always on: the system's trust store, hostname checks, no opt-out.
        self.ssl_context: ssl.SSLContext = ssl.create_default_context()
        self._http = httpx.AsyncClient(
            base_url=environment.base_url,
            transport=transport if transport is not None else default_transport(self.ssl_context),
            verify=self.ssl_context,
            timeout=timeout or DEFAULT_TIMEOUT,
            follow_redirects=False,
        )
        self._tokens = TokenCache(self._request_token, clock=self.retry.clock)
        self.requests_sent = 0

    # --- lifecycle --------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._tokens.aclose()
        await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    @property
    def token_requests(self) -> int:
        """How many access-token requests this client started."""
        return self._tokens.refreshes

    @property
    def merchant_serial_number(self) -> str:
        return self.credentials.merchant_serial_number

    # --- the one request path -----------------------------------------------------------------------

    def _headers(self, *, idempotency_key: str | None, has_body: bool) -> dict[str, str]:
        headers = {
            "Accept": "application/json, application/problem+json",
            "Ocp-Apim-Subscription-Key": self.credentials.subscription_key,
            "Merchant-Serial-Number": self.credentials.merchant_serial_number,
            "Vipps-System-Name": SYSTEM_NAME,
            "Vipps-System-Version": SYSTEM_VERSION,
            "Vipps-System-Plugin-Name": SYSTEM_NAME,
            "Vipps-System-Plugin-Version": SYSTEM_VERSION,
        }
        if has_body:
            headers["Content-Type"] = "application/json"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    async def _request_token(self) -> TokenInfo:
        response = await self._send(
            "POST", "/accesstoken/get", operation="get access token", authorized=False
        )
        info = parse_token(self._json(response, "access token"))
        register_secret(info.access_token)
        return info

    @staticmethod
    def _json(response: httpx.Response, what: str) -> Any:
        return load_json(response.content, what=what, status=response.status_code)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        reference: str = "",
        body: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        effectful: bool = False,
        retry_ambiguous: bool = True,
        authorized: bool = True,
    ) -> httpx.Response:
        policy = self.retry
        started = policy.clock()
        # Serialized once: every retry sends the very same bytes with the very same key.
        content = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        attempt = 0
        maybe_applied = False  # an attempt may have reached the server and taken effect
        refreshed_after_401 = False
        last_error: BaseException | None = None

        def unknown() -> OutcomeUnknownError:
            return OutcomeUnknownError(
                operation=operation,
                reference=reference,
                idempotency_key=idempotency_key or "",
                last_error=last_error,
                attempts=attempt,
            )

        while True:
            attempt += 1
            headers = self._headers(idempotency_key=idempotency_key, has_body=content is not None)
            token: str | None = None
            if authorized:
                try:
                    token = await self._tokens.get()
                except EPaymentError as exc:
                    # A token that cannot be had before a retry does not undo an earlier try that may
                    # have taken effect (finding 5): the event log decides, not this error.
                    if effectful and maybe_applied:
                        last_error = exc
                        attempt -= 1  # this attempt was never sent
                        raise unknown() from exc
                    raise
                headers["Authorization"] = f"Bearer {token}"
            else:
                headers["client_id"] = self.credentials.client_id
                headers["client_secret"] = self.credentials.client_secret
            self.requests_sent += 1
            try:
                response = await self._http.request(method, path, content=content, headers=headers)
            except httpx.TransportError as exc:
                sent = not isinstance(exc, _NOT_SENT)
                maybe_applied = maybe_applied or sent
                last_error = exc
                log.info("%s %s: %s on attempt %d (%s)", method, path, type(exc).__name__, attempt, operation)
                if effectful and sent and not retry_ambiguous:
                    raise unknown() from exc
                delay = policy.next_delay(attempt=attempt, started=started)
                if delay is None:
                    if effectful and maybe_applied:
                        raise unknown() from exc
                    raise NetworkError(
                        f"Could not {operation}{' of ' + reference if reference else ''}: "
                        f"{_describe_transport_error(exc)} (after {attempt} attempt(s)).",
                        operation=operation,
                        cause=exc,
                    ) from exc
                await policy.sleep(delay)
                continue

            status = response.status_code
            log.debug("%s %s → %d (attempt %d)", method, path, status, attempt)
            if 200 <= status < 300:
                response.extensions[_ATTEMPTS] = attempt
                return response
            if status == 401 and authorized and not refreshed_after_401:
                # The token may have expired early or been revoked: one refresh, one more try.
                refreshed_after_401 = True
                self._tokens.invalidate(token)
                attempt -= 1
                continue
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            error = parse_problem(status, response.content, response.headers, retry_after=retry_after)
            if not policy.is_retryable_status(status):
                if effectful and maybe_applied:
                    # An earlier try may have taken effect; this refusal of a later one does not say it
                    # did not (finding 4). "A 4xx stays a 4xx" holds per key only for a first refusal.
                    last_error = error
                    raise unknown() from error
                raise error
            last_error = error
            if status >= 500:
                maybe_applied = True
                if effectful and not retry_ambiguous:
                    raise unknown() from error
            delay = policy.next_delay(
                attempt=attempt,
                started=started,
                retry_after=retry_after if status in (423, 429, 503) else None,
            )
            log.info("%s %s → %d on attempt %d; retry in %s s", method, path, status, attempt, delay)
            if delay is None:
                if effectful and maybe_applied:
                    raise unknown() from error
                raise error
            await policy.sleep(delay)


def unknown_after_success(
    operation: str, reference: str, key: str, error: MalformedResponseError, response: httpx.Response
) -> OutcomeUnknownError:
    """A money-moving call answered 2xx with a body we cannot read: the effect may have happened, so
    the caller must reconcile (a MalformedResponseError would read as "nothing happened")."""
    attempts = response.extensions.get(_ATTEMPTS, 1)
    return OutcomeUnknownError(
        operation=operation,
        reference=reference,
        idempotency_key=key,
        last_error=error,
        attempts=attempts if isinstance(attempts, int) else 1,
    )


def _describe_transport_error(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return "the server could not be reached"
    if isinstance(exc, httpx.TimeoutException):
        return "the server did not answer in time"
    if isinstance(exc, httpx.LocalProtocolError):
        # Its text quotes the offending header value, which may be a secret: never shown (finding 3).
        return (
            "the request could not be sent: a header value is not allowed (check the credentials for "
            "line breaks or unusual characters)"
        )
    text = redact(str(exc)) or type(exc).__name__
    return f"the connection failed ({text})"
