"""The async ePayment client: one long-lived ``httpx.AsyncClient``, the token cache, safe retries
with one idempotency key per operation, typed errors.

Every money-moving call (create, cancel, capture, refund) carries an ``Idempotency-Key``: the caller's
(its journal keeps it across restarts) or a new one per call, and every retry of that call sends the
same key and the very same body bytes. When the retries run out and an attempt may have reached the
server (a read failed, a timeout after sending, a 5xx), :class:`OutcomeUnknownError` is raised so the
caller reconciles from the payment and its event log; so does every later failure of the same call
once an earlier attempt may have taken effect (a refused retry, a token that cannot be had before a
retry): ``last_error`` says what the later attempt ran into. Failures before anything was sent (connect
errors) raise :class:`NetworkError`: nothing happened. In short, for a money-moving call: any error but
``OutcomeUnknownError`` means it did not take effect. A 2xx answer to a money-moving call whose body
cannot be read is also :class:`OutcomeUnknownError` (its ``last_error`` the MalformedResponseError):
the effect may have happened. Reads raise :class:`MalformedResponseError`.
"""

from __future__ import annotations

import json
import logging
import re
import ssl
import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Final

import httpx

from epay_desktop import APP_NAME, __version__
from epay_desktop.api.environment import Credentials, Environment
from epay_desktop.api.errors import (
    EPaymentError,
    InvalidInputError,
    MalformedResponseError,
    NetworkError,
    NotAllowedError,
    OutcomeUnknownError,
)
from epay_desktop.api.parse import (
    CreatedPayment,
    TokenInfo,
    load_json,
    parse_created,
    parse_events,
    parse_payment,
    parse_problem,
    parse_token,
)
from epay_desktop.api.redact import redact, register_secret
from epay_desktop.api.retry import RetryPolicy, parse_retry_after
from epay_desktop.api.token import TokenCache
from epay_desktop.domain import REFERENCE_PATTERN, Money, Payment, PaymentEvent

__all__ = [
    "DEFAULT_TIMEOUT",
    "QR_FORMATS",
    "SYSTEM_NAME",
    "SYSTEM_VERSION",
    "USER_FLOWS",
    "EPaymentClient",
    "new_idempotency_key",
]

log = logging.getLogger("epay_desktop.api")

SYSTEM_NAME: Final = APP_NAME[:30]
SYSTEM_VERSION: Final = __version__[:30]
DEFAULT_TIMEOUT: Final = httpx.Timeout(20.0, connect=5.0)
USER_FLOWS: Final = ("PUSH_MESSAGE", "NATIVE_REDIRECT", "WEB_REDIRECT", "QR")
QR_TARGET_URL: Final = "TEXT/TARGETURL"
QR_FORMATS: Final = (QR_TARGET_URL, "IMAGE/SVG+XML", "IMAGE/PNG")
IDEMPOTENCY_KEY_PATTERN: Final = re.compile(r"^[\x21-\x7e]{1,50}$")

# Transport failures that happen before the request could reach the server: nothing was done.
_ATTEMPTS: Final = "epay_desktop.attempts"  # response.extensions key: how many attempts it took
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def new_idempotency_key() -> str:
    """A fresh key for one operation (36 characters; the API allows 50)."""
    return str(uuid.uuid4())


def _check_reference(reference: str) -> str:
    if not isinstance(reference, str) or not REFERENCE_PATTERN.fullmatch(reference):
        raise InvalidInputError(
            f"{reference!r} is not a payment reference (8 to 64 letters, digits or dashes)"
        )
    return reference


def _check_key(key: str | None) -> str:
    if key is None:
        return new_idempotency_key()
    if not IDEMPOTENCY_KEY_PATTERN.fullmatch(key):
        raise InvalidInputError(
            f"{key!r} is not an idempotency key (1 to 50 visible ASCII characters, no spaces)"
        )
    return key


def _qr_format(user_flow: str, qr_format: str | None, qr_size: int | None) -> dict[str, Any] | None:
    """The ``qrFormat`` object to send (FACTS.md §3), or None when it must be absent."""
    if user_flow != "QR":
        if qr_format is not None or qr_size is not None:
            raise InvalidInputError(f"a QR format applies only to user flow QR, not {user_flow}")
        return None
    kind = qr_format if qr_format is not None else QR_TARGET_URL
    if kind not in QR_FORMATS:
        raise InvalidInputError(f"unknown QR format {kind!r}; use one of {', '.join(QR_FORMATS)}")
    qr: dict[str, Any] = {"format": kind}
    if qr_size is not None:
        if kind != "IMAGE/PNG":
            raise InvalidInputError(f"a QR size applies only to IMAGE/PNG, not {kind}")
        if isinstance(qr_size, bool) or not isinstance(qr_size, int) or not 100 <= qr_size <= 2000:
            raise InvalidInputError(f"the QR size must be 100 to 2000 pixels, got {qr_size!r}")
        qr["size"] = qr_size
    return qr


def _check_positive(amount: Money, what: str) -> None:
    if not isinstance(amount, Money):
        raise InvalidInputError(f"the {what} amount must be Money, got {type(amount).__name__}")
    if amount.value <= 0:
        raise InvalidInputError(f"the {what} amount must be more than zero, got {amount.plain()}")


class EPaymentClient:
    """The ePayment API for one merchant serial number. Use as ``async with EPaymentClient(...)`` or
    call :meth:`aclose`. ``transport`` lets the sandbox run in-process (``httpx.ASGITransport``)."""

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
            transport=transport,
            verify=self.ssl_context,
            timeout=timeout or DEFAULT_TIMEOUT,
            follow_redirects=False,
        )
        self._tokens = TokenCache(self._request_token, clock=self.retry.clock)
        self.requests_sent = 0

    # --- lifecycle --------------------------------------------------------------------------------

    async def __aenter__(self) -> EPaymentClient:
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

    # --- operations ---------------------------------------------------------------------------------

    async def fetch_token(self) -> str:
        """Get a fresh access token (also the "Test connection" button): proves the credentials work."""
        self._tokens.invalidate()
        return await self._tokens.get()

    async def get_payment(self, reference: str) -> Payment:
        _check_reference(reference)
        response = await self._send(
            "GET", f"/epayment/v1/payments/{reference}", operation="get payment", reference=reference
        )
        return parse_payment(self._json(response, f"payment {reference}"))

    async def get_events(self, reference: str) -> list[PaymentEvent]:
        _check_reference(reference)
        response = await self._send(
            "GET",
            f"/epayment/v1/payments/{reference}/events",
            operation="get event log",
            reference=reference,
        )
        return parse_events(self._json(response, f"event log of {reference}"), reference=reference)

    async def create_payment(
        self,
        *,
        reference: str,
        amount: Money,
        description: str,
        user_flow: str = "PUSH_MESSAGE",
        phone_number: str | None = None,
        return_url: str | None = None,
        idempotency_key: str | None = None,
        qr_format: str | None = None,
        qr_size: int | None = None,
    ) -> CreatedPayment:
        """Create a payment. For ``user_flow="QR"`` the QR format defaults to ``TEXT/TARGETURL``, so
        ``redirect_url`` is the target URL a phone opens (draw the QR code from it yourself); the API's
        own default would be a link to an SVG image. ``qr_format`` is refused for other flows and
        ``qr_size`` (100..2000 px) for formats other than ``IMAGE/PNG``."""
        _check_reference(reference)
        key = _check_key(idempotency_key)
        qr = _qr_format(user_flow, qr_format, qr_size)
        if not isinstance(amount, Money) or amount.value < 0:
            raise InvalidInputError(f"the amount must be Money of zero or more, got {amount!r}")
        if user_flow not in USER_FLOWS:
            raise InvalidInputError(f"unknown user flow {user_flow!r}; use one of {', '.join(USER_FLOWS)}")
        body: dict[str, Any] = {
            "amount": amount.to_json(),
            "paymentMethod": {"type": "WALLET"},
            "reference": reference,
            "userFlow": user_flow,
        }
        if description:
            body["paymentDescription"] = description
        if phone_number:
            body["customer"] = {"phoneNumber": phone_number}
        if return_url:
            body["returnUrl"] = return_url
        if qr is not None:
            body["qrFormat"] = qr
        response = await self._send(
            "POST",
            "/epayment/v1/payments",
            operation="create",
            reference=reference,
            body=body,
            idempotency_key=key,
            effectful=True,
        )
        try:
            return parse_created(self._json(response, f"created payment {reference}"), reference=reference)
        except MalformedResponseError as exc:
            raise _unknown_after_success("create", reference, key, exc, response) from exc

    async def cancel(
        self,
        reference: str,
        *,
        idempotency_key: str | None = None,
        cancel_transaction_only: bool = False,
    ) -> Payment:
        """Release what is not captured (or stop a payment not yet approved). Irreversible."""
        return await self._modify(
            "cancel",
            reference,
            {"cancelTransactionOnly": bool(cancel_transaction_only)},
            idempotency_key,
        )

    async def capture(self, reference: str, amount: Money, *, idempotency_key: str | None = None) -> Payment:
        _check_positive(amount, "capture")
        return await self._modify(
            "capture", reference, {"modificationAmount": amount.to_json()}, idempotency_key
        )

    async def refund(self, reference: str, amount: Money, *, idempotency_key: str | None = None) -> Payment:
        _check_positive(amount, "refund")
        return await self._modify(
            "refund", reference, {"modificationAmount": amount.to_json()}, idempotency_key
        )

    async def force_approve(self, reference: str, *, phone_number: str | None = None) -> None:
        """Approve as the customer would (Test and the sandbox only; refused here in production)."""
        if not self.environment.allows_force_approve:
            raise NotAllowedError(
                f"Force approve exists only in the test environment and the sandbox, not in "
                f"{self.environment.label}."
            )
        _check_reference(reference)
        body: dict[str, Any] = {"customer": {"phoneNumber": phone_number}} if phone_number else {}
        # No idempotency key exists for approve, so an attempt that may have arrived is not repeated.
        await self._send(
            "POST",
            f"/epayment/v1/test/payments/{reference}/approve",
            operation="force approve",
            reference=reference,
            body=body,
            effectful=True,
            retry_ambiguous=False,
        )

    async def _modify(
        self, operation: str, reference: str, body: dict[str, Any], idempotency_key: str | None
    ) -> Payment:
        _check_reference(reference)
        key = _check_key(idempotency_key)
        response = await self._send(
            "POST",
            f"/epayment/v1/payments/{reference}/{operation}",
            operation=operation,
            reference=reference,
            body=body,
            idempotency_key=key,
            effectful=True,
        )
        try:
            return parse_payment(self._json(response, f"{operation} of {reference}"))
        except MalformedResponseError as exc:
            raise _unknown_after_success(operation, reference, key, exc, response) from exc

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


def _unknown_after_success(
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
