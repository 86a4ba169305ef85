"""The async ePayment client: one long-lived ``httpx.AsyncClient``, the token cache, safe retries
with one idempotency key per operation, typed errors. The operations are here; the client holds a
session (``session.py``) with the connection, the tokens and the one request path with its retries;
the checks of what is refused before sending are in ``inputs.py``.

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

from typing import Any, Unpack

from epay_desktop.api.environment import Credentials, Environment
from epay_desktop.api.errors import InvalidInputError, MalformedResponseError, NotAllowedError
from epay_desktop.api.inputs import (
    QR_FORMATS,
    USER_FLOWS,
    check_key,
    check_positive,
    check_reference,
    new_idempotency_key,
    qr_format_body,
)
from epay_desktop.api.lifecycle import AsyncClosing
from epay_desktop.api.parse import CreatedPayment, parse_created, parse_events, parse_payment
from epay_desktop.api.session import (
    DEFAULT_TIMEOUT,
    SYSTEM_NAME,
    SYSTEM_VERSION,
    ApiRequest,
    ApiSession,
    SessionOptions,
    read_json,
    unknown_after_success,
)
from epay_desktop.domain import Money, Payment, PaymentEvent

__all__ = [
    "DEFAULT_TIMEOUT",
    "QR_FORMATS",
    "SYSTEM_NAME",
    "SYSTEM_VERSION",
    "USER_FLOWS",
    "EPaymentClient",
    "new_idempotency_key",
]


class EPaymentClient(AsyncClosing):
    """The ePayment API for one merchant serial number, over the ``session`` it holds. Use as
    ``async with EPaymentClient(...)`` or call :meth:`aclose`. The options are the session's
    (``SessionOptions``): ``transport`` lets the sandbox run in-process (``httpx.ASGITransport``)."""

    def __init__(
        self, environment: Environment, credentials: Credentials, **options: Unpack[SessionOptions]
    ) -> None:
        self.session = ApiSession(environment, credentials, **options)

    async def aclose(self) -> None:
        await self.session.aclose()

    @property
    def merchant_serial_number(self) -> str:
        return self.session.credentials.merchant_serial_number

    @property
    def token_requests(self) -> int:
        """How many access-token requests this client started."""
        return self.session.token_requests

    # --- operations ---------------------------------------------------------------------------------

    async def fetch_token(self) -> str:
        """Get a fresh access token (also the "Test connection" button): proves the credentials work."""
        return await self.session.fresh_token()

    async def get_payment(self, reference: str) -> Payment:
        check_reference(reference)
        response = await self.session.send(
            ApiRequest(
                "GET", f"/epayment/v1/payments/{reference}", operation="get payment", reference=reference
            )
        )
        return _belongs(parse_payment(read_json(response, f"payment {reference}")), reference)

    async def get_events(self, reference: str) -> list[PaymentEvent]:
        check_reference(reference)
        response = await self.session.send(
            ApiRequest(
                "GET",
                f"/epayment/v1/payments/{reference}/events",
                operation="get event log",
                reference=reference,
            )
        )
        events = parse_events(read_json(response, f"event log of {reference}"), reference=reference)
        for event in events:
            if event.reference != reference:
                raise MalformedResponseError(
                    f"The event log asked for {reference} holds an event of payment {event.reference!r}: "
                    "it is not this payment's log."
                )
        return events

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
        check_reference(reference)
        key = check_key(idempotency_key)
        qr = qr_format_body(user_flow, qr_format, qr_size)
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
        request = ApiRequest.build(
            "POST",
            "/epayment/v1/payments",
            body=body,
            operation="create",
            reference=reference,
            idempotency_key=key,
            effectful=True,
        )
        response = await self.session.send(request)
        try:
            created = parse_created(read_json(response, f"created payment {reference}"), reference=reference)
            if created.reference != reference:
                raise MalformedResponseError(_not_this(created.reference, reference, "the create"))
            return created
        except MalformedResponseError as exc:
            raise unknown_after_success(request, exc, response) from exc

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
        check_positive(amount, "capture")
        return await self._modify(
            "capture", reference, {"modificationAmount": amount.to_json()}, idempotency_key
        )

    async def refund(self, reference: str, amount: Money, *, idempotency_key: str | None = None) -> Payment:
        check_positive(amount, "refund")
        return await self._modify(
            "refund", reference, {"modificationAmount": amount.to_json()}, idempotency_key
        )

    async def force_approve(self, reference: str, *, phone_number: str | None = None) -> None:
        """Approve as the customer would (Test and the sandbox only; refused here in production)."""
        environment = self.session.environment
        if not environment.allows_force_approve:
            raise NotAllowedError(
                f"Force approve exists only in the test environment and the sandbox, not in "
                f"{environment.label}."
            )
        check_reference(reference)
        body: dict[str, Any] = {"customer": {"phoneNumber": phone_number}} if phone_number else {}
        # No idempotency key exists for approve, so an attempt that may have arrived is not repeated.
        await self.session.send(
            ApiRequest.build(
                "POST",
                f"/epayment/v1/test/payments/{reference}/approve",
                body=body,
                operation="force approve",
                reference=reference,
                effectful=True,
                retry_ambiguous=False,
            )
        )

    async def _modify(
        self, operation: str, reference: str, body: dict[str, Any], idempotency_key: str | None
    ) -> Payment:
        check_reference(reference)
        key = check_key(idempotency_key)
        request = ApiRequest.build(
            "POST",
            f"/epayment/v1/payments/{reference}/{operation}",
            body=body,
            operation=operation,
            reference=reference,
            idempotency_key=key,
            effectful=True,
        )
        response = await self.session.send(request)
        try:
            # A 200 for another payment is not this operation's success: its outcome stays unknown.
            return _belongs(parse_payment(read_json(response, f"{operation} of {reference}")), reference)
        except MalformedResponseError as exc:
            raise unknown_after_success(request, exc, response) from exc


def _not_this(got: str, asked: str, what: str) -> str:
    return (
        f"The answer to {what} is for payment {got!r}, not {asked!r}: it does not say what happened to "
        f"{asked!r}."
    )


def _belongs(payment: Payment, reference: str) -> Payment:
    """``payment`` if it is the one asked for; ``MalformedResponseError`` when the answer is another's."""
    if payment.reference != reference:
        raise MalformedResponseError(_not_this(payment.reference, reference, f"the call on {reference}"))
    return payment
