"""The connection under ``EPaymentClient``: one long-lived ``httpx.AsyncClient`` (TLS verified, explicit
timeouts), the access-token cache, the headers every call carries, and the one request path with its
safe retries: the same body bytes and Idempotency-Key on every attempt, and ``OutcomeUnknownError``
once an attempt of a money-moving call may have taken effect (see ``client.py`` for the whole rule).

The request path is in stages, each calling the next (after ``httpx/_client.py``)::

    ApiSession.send(request)            the retry loop: backoff, Retry-After, the total budget, and
                                        what the call's outcome is once the retries end
    └── _attempt(call)                  one attempt, classified: a 2xx answer, or what failed, whether
                                        it may have reached the server, whether to try again
        └── _send_authorized(call)      the headers with the access token; a 401 gets one fresh token
            └── _send_single(...)       one HTTP request
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypedDict

import httpx

from epay_desktop import APP_NAME, __version__
from epay_desktop.api.environment import Credentials, Environment
from epay_desktop.api.errors import (
    ApiError,
    EPaymentError,
    MalformedResponseError,
    NetworkError,
    OutcomeUnknownError,
    call_words,
    could_not,
)
from epay_desktop.api.lifecycle import AsyncClosing
from epay_desktop.api.parse import TokenInfo, load_json, parse_problem, parse_token
from epay_desktop.api.redact import redact, register_secret
from epay_desktop.api.retry import RetryPolicy, parse_retry_after
from epay_desktop.api.token import TokenCache
from epay_desktop.api.transport import ANSWER_LIMIT, default_transport
from epay_desktop.i18n import _, ngettext

__all__ = [
    "DEFAULT_MAX_ANSWER_BYTES",
    "DEFAULT_REQUEST_DEADLINE",
    "DEFAULT_TIMEOUT",
    "SYSTEM_NAME",
    "SYSTEM_VERSION",
    "AnswerTooLargeError",
    "ApiRequest",
    "ApiSession",
    "read_json",
    "unknown_after_success",
]

log = logging.getLogger("epay_desktop.api")
# httpx's own line per request, as its client writes it (``_exchange`` stands in for its ``send``).
_httpx_log = logging.getLogger("httpx")

SYSTEM_NAME: Final = APP_NAME[:30]
SYSTEM_VERSION: Final = __version__[:30]
DEFAULT_TIMEOUT: Final = httpx.Timeout(20.0, connect=5.0)
# For one attempt as a whole, connect to last byte: the timeouts above are per read, so a server that
# trickles a byte now and then would keep a capture waiting for ever without this.
DEFAULT_REQUEST_DEADLINE: Final = 30.0
# An answer larger than this once decompressed is refused: the API's answers are a few KB, and a small
# gzip body can unpack to gigabytes (a "gzip bomb").
DEFAULT_MAX_ANSWER_BYTES: Final = 8 * 1024 * 1024
# How many request URLs are kept parsed (a few hundred bytes each).
URLS_KEPT: Final = 512

_ATTEMPTS: Final = "epay_desktop.attempts"  # response.extensions key: how many attempts it took
# Transport failures that happen before the request could reach the server: nothing was done.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
# The statuses whose Retry-After is honoured (others are retried on the backoff).
_WAIT_AS_TOLD = frozenset({423, 429, 503})


class AnswerTooLargeError(Exception):
    """The answer grew past the size limit while it was read (and decompressed); reading stopped."""


class RequestDeadlineError(httpx.ReadTimeout):
    """One attempt took longer than the deadline for a whole request (connect to last byte)."""


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One call of the API, as every attempt of it sends it.

    ``effectful``: a call that may move money or create something (a failure after it may have reached
    the server is ``OutcomeUnknownError``). ``retry_ambiguous=False``: such a call without an
    idempotency key is not repeated once an attempt may have reached the server."""

    method: str
    path: str
    operation: str
    reference: str = ""
    content: bytes | None = None  # serialized once: every retry sends the very same bytes
    idempotency_key: str | None = None
    effectful: bool = False
    retry_ambiguous: bool = True
    authorized: bool = True

    @classmethod
    def build(
        cls, method: str, path: str, *, body: Mapping[str, Any] | None = None, **fields: Any
    ) -> ApiRequest:
        content = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        return cls(method, path, content=content, **fields)

    @property
    def what(self) -> str:
        """``cancel of ref-123`` (for messages)."""
        return f"{self.operation}{' of ' + self.reference if self.reference else ''}"


@dataclass(slots=True)
class _Call:
    """The state of one ``send`` across its attempts."""

    request: ApiRequest
    attempts: int = 0
    maybe_applied: bool = False  # an attempt may have reached the server and taken effect
    refreshed_after_401: bool = False


@dataclass(frozen=True, slots=True)
class _Attempt:
    """One attempt, classified. ``response`` is set for a 2xx answer; otherwise ``error`` says what
    failed: the transport's exception (``httpx.TransportError``) or the API's answer (``ApiError``)."""

    response: httpx.Response | None = None
    error: BaseException | None = None
    reached: bool = False  # this attempt may have reached the server and taken effect
    retryable: bool = False
    retry_after: float | None = None


class SessionOptions(TypedDict, total=False):
    """How a session connects, retries and waits (``ApiSession``'s keyword arguments, which the
    client passes through)."""

    transport: httpx.AsyncBaseTransport | None
    retry: RetryPolicy | None
    timeout: httpx.Timeout | None
    request_deadline: float
    max_answer_bytes: int


class ApiSession(AsyncClosing):
    """Lifecycle, tokens and the request path of one merchant serial number's connection (the
    operations are ``EPaymentClient``'s, which holds a session). Use as ``async with`` or call
    :meth:`aclose`."""

    def __init__(
        self,
        environment: Environment,
        credentials: Credentials,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        request_deadline: float = DEFAULT_REQUEST_DEADLINE,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
    ) -> None:
        self.environment = environment
        self.request_deadline = request_deadline
        self.max_answer_bytes = max_answer_bytes
        self.credentials = credentials
        self.retry = retry if retry is not None else RetryPolicy()
        for secret in credentials.secrets:
            register_secret(secret)
        # TLS verification is always on: the system's trust store, hostname checks, no opt-out.
        self.ssl_context: ssl.SSLContext = ssl.create_default_context()
        self._transport = transport if transport is not None else default_transport(self.ssl_context)
        self._http = _CookielessClient(
            base_url=environment.base_url,
            transport=self._transport,
            verify=self.ssl_context,
            timeout=timeout or DEFAULT_TIMEOUT,
            follow_redirects=False,
        )
        # Each request is built here as ``build_request`` would (the client's base URL and default
        # headers, then ours, in its order, and its timeouts) and handed to the client's transport as
        # ``send`` would (``_exchange``); building it from parts made once saves merging them per call.
        self._url_prefix = str(self._http.base_url).rstrip("/")
        self._fixed_headers = _fixed_headers(self._http.headers, credentials)
        self._timeouts = self._http.timeout.as_dict()
        self._tokens = TokenCache(self._request_token, clock=self.retry.clock)
        self.requests_sent = 0

    # --- lifecycle --------------------------------------------------------------------------------

    async def aclose(self) -> None:
        await self._tokens.aclose()
        await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    @property
    def token_requests(self) -> int:
        """How many access-token requests this session started."""
        return self._tokens.refreshes

    async def fresh_token(self) -> str:
        """Forget the cached access token and get a new one (proves the credentials work)."""
        self._tokens.invalidate()
        return await self._tokens.get()

    # --- the request path: the retry loop -----------------------------------------------------------

    async def send(self, request: ApiRequest) -> httpx.Response:
        """Send ``request`` until it succeeds or the retries end; returns the 2xx answer. Raises the
        API's ``ApiError``, ``NetworkError``, or ``OutcomeUnknownError`` for an effectful call one of
        whose attempts may have taken effect."""
        policy = self.retry
        started = policy.clock()
        call = _Call(request)
        while True:
            call.attempts += 1
            try:
                attempt = await self._attempt(call)
            except EPaymentError as exc:
                # No access token: this attempt was never sent. A token that cannot be had before a
                # retry does not undo an earlier try that may have taken effect: the event log decides.
                call.attempts -= 1
                if request.effectful and call.maybe_applied:
                    raise self._unknown(call, exc) from exc
                raise
            if attempt.response is not None:
                attempt.response.extensions[_ATTEMPTS] = call.attempts
                return attempt.response
            error = attempt.error
            assert error is not None
            call.maybe_applied = call.maybe_applied or attempt.reached
            if request.effectful and attempt.reached and not request.retry_ambiguous:
                raise self._unknown(call, error) from error
            delay = (
                policy.next_delay(attempt=call.attempts, started=started, retry_after=attempt.retry_after)
                if attempt.retryable
                else None
            )
            if delay is None:
                if request.effectful and call.maybe_applied:
                    # An earlier try may have taken effect; a refusal of a later one does not say it did
                    # not. "A 4xx stays a 4xx" holds per key only for a first refusal.
                    raise self._unknown(call, error) from error
                raise self._given_up(call, error) from error
            log.info("%s %s: retry %d in %.2f s", request.method, request.path, call.attempts, delay)
            await policy.sleep(delay)

    @staticmethod
    def _unknown(call: _Call, last_error: BaseException) -> OutcomeUnknownError:
        request = call.request
        return OutcomeUnknownError(
            operation=request.operation,
            reference=request.reference,
            idempotency_key=request.idempotency_key or "",
            last_error=last_error,
            attempts=call.attempts,
        )

    @staticmethod
    def _given_up(call: _Call, error: BaseException) -> EPaymentError:
        if isinstance(error, EPaymentError):
            return error
        assert isinstance(error, httpx.TransportError)
        return NetworkError(
            ngettext(
                "Could not {doing}: {reason} (after {count} attempt).",
                "Could not {doing}: {reason} (after {count} attempts).",
                call.attempts,
            ).format(
                doing=could_not(call.request.operation, call.request.reference),
                reason=_describe_transport_error(error),
                count=call.attempts,
            ),
            operation=call.request.operation,
            cause=error,
        )

    # --- one attempt, classified --------------------------------------------------------------------

    async def _attempt(self, call: _Call) -> _Attempt:
        request = call.request
        try:
            response = await self._send_authorized(call)
        except AnswerTooLargeError as exc:
            # It reached the server (which answered): unreadable, and the same again if repeated.
            log.info("%s %s: %s", request.method, request.path, exc)
            unreadable = MalformedResponseError(
                _("The answer was refused ({call}): {reason}.").format(
                    call=call_words(request.operation, request.reference), reason=exc
                )
            )
            return _Attempt(error=unreadable, reached=True, retryable=False)
        except httpx.TransportError as exc:
            reached = not isinstance(exc, _NOT_SENT)
            log.info(
                "%s %s: %s on attempt %d (%s)",
                request.method,
                request.path,
                type(exc).__name__,
                call.attempts,
                request.operation,
            )
            return _Attempt(error=exc, reached=reached, retryable=True)
        status = response.status_code
        log.debug("%s %s → %d (attempt %d)", request.method, request.path, status, call.attempts)
        if 200 <= status < 300:
            return _Attempt(response=response)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        error: ApiError = parse_problem(status, response.content, response.headers, retry_after=retry_after)
        return _Attempt(
            error=error,
            reached=status >= 500,
            retryable=self.retry.is_retryable_status(status),
            retry_after=retry_after if status in _WAIT_AS_TOLD else None,
        )

    # --- the authorized request: headers, the token and its one refresh after a 401 ------------------

    async def _send_authorized(self, call: _Call) -> httpx.Response:
        request = call.request
        if not request.authorized:
            headers = self._headers(request)
            headers.append(("client_id", self.credentials.client_id))
            headers.append(("client_secret", self.credentials.client_secret))
            return await self._send_single(request, headers)
        while True:
            token = await self._tokens.get()
            headers = self._headers(request)
            headers.append(("Authorization", f"Bearer {token}"))
            response = await self._send_single(request, headers)
            if response.status_code != 401 or call.refreshed_after_401:
                return response
            # The token may have expired early or been revoked: one refresh, one more try per call.
            call.refreshed_after_401 = True
            self._tokens.invalidate(token)

    def _headers(self, request: ApiRequest) -> list[tuple[str, str]]:
        headers = list(self._fixed_headers)
        if request.content is not None:
            headers.append(("Content-Type", "application/json"))
        if request.idempotency_key is not None:
            headers.append(("Idempotency-Key", request.idempotency_key))
        return headers

    async def _send_single(self, request: ApiRequest, headers: list[tuple[str, str]]) -> httpx.Response:
        """One HTTP request, within the deadline for a whole request, its answer read (decompressed)
        up to ``max_answer_bytes``."""
        self.requests_sent += 1
        built = httpx.Request(
            request.method,
            _url(self._url_prefix, request.path),
            content=request.content,
            headers=headers,
            extensions={ANSWER_LIMIT: self.max_answer_bytes, "timeout": self._timeouts},
        )
        try:
            async with asyncio.timeout(self.request_deadline):
                response = await self._exchange(built)
                try:
                    read = _read_by_transport(response)
                    body = (
                        self._capped(read, response)
                        if read is not None
                        else await self._read_capped(response)
                    )
                finally:
                    await response.aclose()
        except TimeoutError:
            raise RequestDeadlineError(
                _("the server did not answer in time (no whole answer within {seconds} s)").format(
                    seconds=f"{self.request_deadline:g}"
                ),
                request=built,
            ) from None
        if read is not None:
            return response  # built once by the transport, with its body
        # The body as read (already decompressed): no Content-Encoding left to undo, and the length
        # is the body's. Answers that were not compressed keep their headers as they came.
        answer_headers: httpx.Headers | list[tuple[str, str]] = response.headers
        if "Content-Encoding" in response.headers:
            answer_headers = [
                (k, v)
                for k, v in response.headers.multi_items()
                if k.lower() not in ("content-encoding", "content-length")
            ]
        return httpx.Response(
            response.status_code,
            headers=answer_headers,
            content=body,
            request=built,
            extensions=dict(response.extensions),
        )

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        """What ``AsyncClient.send(request, stream=True)`` does with this client's requests, without its
        layers for what it never has here (authentication, redirects, cookies, event hooks, proxies: the
        client is built with a transport of its own, so no proxy from the environment is mounted): the
        answer of the client's transport, tied to ``request`` as ``send`` ties it. Those layers cost
        about as much per request as building the request itself."""
        if self._http.is_closed:
            return await self._http.send(request, stream=True)  # which refuses, as it always did
        try:
            response = await self._transport.handle_async_request(request)
        except httpx.RequestError as error:
            error.request = request
            raise
        response.request = request
        if _httpx_log.isEnabledFor(logging.INFO):
            _httpx_log.info(
                'HTTP Request: %s %s "%s %d %s"',
                request.method,
                request.url,
                response.http_version,
                response.status_code,
                response.reason_phrase,
            )
        return response

    def _capped(self, body: bytes, response: httpx.Response) -> bytes:
        """A body the transport read: refused as ``_read_capped`` would refuse it."""
        limit = self.max_answer_bytes
        if len(body) > limit:
            raise AnswerTooLargeError(
                _("the answer is larger than {limit} bytes ({declared} declared)").format(
                    limit=limit, declared=response.headers.get("Content-Length", len(body))
                )
            )
        return body

    async def _read_capped(self, response: httpx.Response) -> bytes:
        limit = self.max_answer_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit and not response.headers.get("Content-Encoding"):
            raise AnswerTooLargeError(
                _("the answer is larger than {limit} bytes ({declared} declared)").format(
                    limit=limit, declared=declared
                )
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise AnswerTooLargeError(
                    _("the answer is larger than {limit} bytes once decompressed").format(limit=limit)
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def _request_token(self) -> TokenInfo:
        response = await self.send(
            ApiRequest("POST", "/accesstoken/get", operation="get access token", authorized=False)
        )
        info = parse_token(read_json(response, "access token"))
        register_secret(info.access_token)
        return info


class _NoCookies(httpx.Cookies):
    """Cookies that stay empty: what an answer sets is not read."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _CookielessClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` that keeps no cookies. The API sets none that matter (the official SDK,
    on fetch, keeps none either), and reading each answer's Set-Cookie into a jar through httpx's
    urllib adapters costs about a sixth of the client's CPU time per call."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise AttributeError("cookies")  # none are kept: setting some is a programming error


def _fixed_headers(defaults: httpx.Headers, credentials: Credentials) -> tuple[tuple[str, str], ...]:
    """The headers of every request: the client's defaults but Accept, then ours (as ``build_request``
    merges them)."""
    ours = (
        ("Accept", "application/json, application/problem+json"),
        ("Ocp-Apim-Subscription-Key", credentials.subscription_key),
        ("Merchant-Serial-Number", credentials.merchant_serial_number),
        ("Vipps-System-Name", SYSTEM_NAME),
        ("Vipps-System-Version", SYSTEM_VERSION),
        ("Vipps-System-Plugin-Name", SYSTEM_NAME),
        ("Vipps-System-Plugin-Version", SYSTEM_VERSION),
    )
    replaced = {name.lower() for name, _value in ours}
    kept = tuple(
        (name.decode(defaults.encoding), value.decode(defaults.encoding))
        for name, value in defaults.raw
        if name.decode(defaults.encoding).lower() not in replaced
    )
    return kept + ours


@functools.lru_cache(maxsize=URLS_KEPT)
def _url(prefix: str, path: str) -> httpx.URL:
    """A request's URL. Parsing one is about a third of building a request, the same payments are read
    again and again (a refresh, a poll), and an ``httpx.URL`` cannot change: the recent ones are kept."""
    return httpx.URL(prefix + path)


def _read_by_transport(response: httpx.Response) -> bytes | None:
    """The body of an answer the transport handed back already read, as it came (nothing to decompress:
    no Content-Encoding); None for one still to be read."""
    if "Content-Encoding" in response.headers:
        return None
    try:
        return response.content
    except httpx.ResponseNotRead:
        return None


def read_json(response: httpx.Response, what: str) -> Any:
    """The answer's body as JSON; ``MalformedResponseError`` when it is not."""
    return load_json(response.content, what=what, status=response.status_code)


def unknown_after_success(
    request: ApiRequest, error: MalformedResponseError, response: httpx.Response
) -> OutcomeUnknownError:
    """A money-moving call answered 2xx with a body we cannot read: the effect may have happened, so
    the caller must reconcile (a MalformedResponseError would read as "nothing happened")."""
    attempts = response.extensions.get(_ATTEMPTS, 1)
    return OutcomeUnknownError(
        operation=request.operation,
        reference=request.reference,
        idempotency_key=request.idempotency_key or "",
        last_error=error,
        attempts=attempts if isinstance(attempts, int) else 1,
    )


def _tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error under a transport error, if that is what it was."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _describe_transport_error(exc: httpx.TransportError) -> str:
    tls = _tls_failure(exc)
    if tls is not None or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        if isinstance(tls, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
            why = getattr(tls, "verify_message", "") or _("not trusted")
            return _(
                "the secure (TLS) connection was refused: the server's certificate could not be verified "
                "({why}). Nothing was sent. Check the address, this computer's date and time, or a proxy "
                "that intercepts HTTPS"
            ).format(why=why)
        return _(
            "the secure (TLS) connection failed ({reason}); the server's certificate or TLS setup was not "
            "accepted. Nothing was sent"
        ).format(reason=redact(str(tls)) or type(tls).__name__)
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return _("the server could not be reached")
    if isinstance(exc, httpx.TimeoutException):
        return _("the server did not answer in time")
    if isinstance(exc, httpx.LocalProtocolError):
        # Its text quotes the offending header value, which may be a secret: never shown (finding 3).
        return _(
            "the request could not be sent: a header value is not allowed (check the credentials for "
            "line breaks or unusual characters)"
        )
    text = redact(str(exc)) or type(exc).__name__
    return _("the connection failed ({reason})").format(reason=text)
