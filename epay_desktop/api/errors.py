"""Everything the client raises, as one tree (after ``httpx/_exceptions.py``)::

    EPaymentError                  anything this client raises on purpose
    ├── NotSentError               category: nothing of the call took effect, because no request of it
    │   │                          got to the API (or it was a read, which moves nothing)
    │   ├── NotAllowedError        refused by the client itself, nothing was sent
    │   │   └── InvalidInputError  input that cannot be right (a reference with a slash, a 0 capture)
    │   ├── NetworkError           the transport failed (connect, read, timeout) after the retries
    │   └── MalformedResponseError an answer whose body cannot be read as the API describes it (a
    │                              read's, or the access token's before a money-moving call was sent)
    ├── OutcomeUnknownError        a money-moving call whose effect is unknown after the retries (no
    │                              answer, or a 2xx whose body cannot be read: ``last_error`` is then
    │                              the MalformedResponseError): reconcile from the payment and its
    │                              event log, retry with the same key
    └── RefusedError               category: the API said no, and nothing moved
        └── ApiError               the API (or a gateway in front of it) answered with an error status
            ├── AuthenticationError    401 / 403: credentials, token, subscription key, MSN not connected
            ├── NotFoundError          404: no such reference for this merchant serial number
            ├── ConflictError          409: idempotency key reused with another body, reference exists
            └── RateLimitedError       429 after the retries; ``retry_after`` in seconds when known

Callers catch a category, not a tuple of classes: for a money-moving call, ``NotSentError`` and
``RefusedError`` both mean it did not take effect (the client raises ``OutcomeUnknownError`` instead
whenever an earlier attempt of the call may have); ``RefusedError`` carries what the API said.

An ``ApiError`` carries what the API said (``status``, ``title``, ``detail``, ``error_code`` from
``extraDetails``, ``trace_id``, ``instance``) and ``advice``: a plain sentence of what to do next, from
:data:`ADVICE` by error code (FACTS.md §8–§10), else by HTTP status.
"""

from __future__ import annotations

__all__ = [
    "ADVICE",
    "STATUS_ADVICE",
    "ApiError",
    "AuthenticationError",
    "ConflictError",
    "EPaymentError",
    "InvalidInputError",
    "MalformedResponseError",
    "NetworkError",
    "NotAllowedError",
    "NotFoundError",
    "NotSentError",
    "OutcomeUnknownError",
    "RateLimitedError",
    "RefusedError",
    "advice_for",
]


class EPaymentError(Exception):
    """Base of everything the client raises on purpose."""


class NotSentError(EPaymentError):
    """Category: nothing of the call took effect, because no request of it got to the API (refused by
    the client itself, no connection, no access token), or it was a read. Safe to treat as not done."""


class RefusedError(EPaymentError):
    """Category: the API answered no; nothing moved (for a money-moving call whose earlier attempt may
    have taken effect, the client raises ``OutcomeUnknownError`` instead)."""


class NotAllowedError(NotSentError):
    """The client refused the call itself (e.g. force approve in production); nothing was sent."""


class InvalidInputError(NotAllowedError, ValueError):
    """The input cannot be right (a malformed reference or key, a non-positive amount); nothing was sent."""


class NetworkError(NotSentError):
    """The transport failed after the retries: no answer could be read."""

    def __init__(self, message: str, *, operation: str = "", cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.operation = operation
        self.cause = cause


class MalformedResponseError(NotSentError):
    """A success answer whose body is not what the API describes (not JSON, a field missing...)."""

    def __init__(self, message: str, *, status: int | None = None, body_excerpt: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body_excerpt = body_excerpt


class OutcomeUnknownError(EPaymentError):
    """A money-moving call may or may not have taken effect, and the retries ran out.

    Read the payment and its event log to learn what happened; retrying with ``idempotency_key`` is safe.
    """

    def __init__(
        self,
        *,
        operation: str,
        reference: str,
        idempotency_key: str,
        last_error: BaseException | None,
        attempts: int,
    ) -> None:
        self.operation = operation
        self.reference = reference
        self.idempotency_key = idempotency_key
        self.last_error = last_error
        self.attempts = attempts
        last = _one_line(str(last_error)) if last_error else "none"
        if isinstance(last_error, MalformedResponseError):
            # A success status with a body we cannot read: the effect may well have happened.
            what = f"the success answer could not be read after {attempts} attempt(s) ({last})"
        else:
            what = f"no answer after {attempts} attempt(s) (last: {last})"
        super().__init__(
            f"The {operation} of {reference} may or may not have happened: {what}. Check the payment "
            f"and its event log; retrying with idempotency key {idempotency_key} is safe."
        )


class ApiError(RefusedError):
    """The API (or a gateway in front of it) answered with an error status."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        error_code: str | None = None,
        trace_id: str | None = None,
        instance: str | None = None,
        body_excerpt: str = "",
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.error_code = error_code
        self.trace_id = trace_id
        self.instance = instance
        self.body_excerpt = body_excerpt
        self.advice = advice_for(error_code, status)
        super().__init__(self.summary())

    def summary(self) -> str:
        """One line for people: what happened, the code, what to do next, and the trace id."""
        code = f", code {self.error_code}" if self.error_code else ""
        text = f"{self.title} (HTTP {self.status}{code})"
        if self.detail and self.detail != self.title:
            text += f": {self.detail}"
        text += f" — {self.advice}"
        if self.trace_id:
            text += f" [traceId {self.trace_id}]"
        return _one_line(text)

    def __str__(self) -> str:
        return self.summary()


class AuthenticationError(ApiError):
    """401 / 403: wrong credentials, an expired token that a refresh did not fix, or no permission."""


class NotFoundError(ApiError):
    """404: no payment with this reference for this merchant serial number."""


class ConflictError(ApiError):
    """409: the idempotency key was used with another request, or the reference exists."""


class RateLimitedError(ApiError):
    """429 after the retries. ``retry_after``: seconds the server asked us to wait, when it said."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        retry_after: float | None = None,
        error_code: str | None = None,
        trace_id: str | None = None,
        instance: str | None = None,
        body_excerpt: str = "",
    ) -> None:
        self.retry_after = retry_after
        super().__init__(
            status,
            title,
            detail,
            error_code=error_code,
            trace_id=trace_id,
            instance=instance,
            body_excerpt=body_excerpt,
        )


def _one_line(text: str) -> str:
    return " ".join(text.split())


_TEST_ONLY = "This only happens in the test environment; "

# A plain sentence for people for every error code in FACTS.md §8–§10 (tests check the list is complete).
ADVICE: dict[str, str] = {
    # general and request
    "3010": "The payment service had an internal error; wait a minute and try again with the same key.",
    "4010": "A capture with this idempotency key was made with another amount; retry with the exact same "
    "amount, or use a new key for a new capture.",
    "4020": "This idempotency key was already used for another request; use a new key for a new operation.",
    "4040": "The amount is not valid: use whole minor units (øre/cents) and a positive value.",
    "4050": "The customer token is not valid; check it or leave it out.",
    "4060": "The personal QR code is not valid; scan it again or use the phone number.",
    "4070": "The phone number is not valid: use the country code and digits only, e.g. 4791234567.",
    "4080": "The requested profile scope is not valid; use only name, address, email, phoneNumber, "
    "birthDate or nin.",
    "4090": "A URL in the request is not valid; use an https:// address (or your app's own scheme).",
    "4100": "Too many metadata entries: at most five are allowed.",
    "4110": "A metadata key is too long: at most 100 characters.",
    "4120": "A metadata value is too long: at most 500 characters.",
    "4130": "The metadata is not valid; use short text keys and values.",
    "4140": "A required field is missing from the request; check the details and fill it in.",
    "4150": "A payment with this reference already exists, or a refund with this key had another amount; "
    "use a new reference, or repeat the refund with exactly the same amount.",
    "4160": "The payment method type is not valid here; use WALLET (CARD only with WEB_REDIRECT).",
    # merchant configuration
    "5010": "The merchant's sales unit is not set up for this; contact Vipps MobilePay merchant support.",
    "5020": "Express checkout is not enabled for this sales unit; contact merchant support to enable it.",
    "5030": "The sales unit may not ask for this profile scope; remove it or ask merchant support.",
    "5040": "The currency does not match the sales unit (NOK for Norway, DKK for Denmark, EUR for "
    "Finland); use the sales unit's currency.",
    "5050": "Long-living payments (expiresAt) are not enabled for this sales unit; leave out the expiry "
    "or ask merchant support.",
    "5060": "The sales unit has no valid bank account; the merchant must fix it in the portal.",
    "5070": "The payment cannot be created for this sales unit; contact merchant support.",
    "5080": "Push messages are not enabled for this sales unit; use another user flow (e.g. QR or "
    "WEB_REDIRECT) or ask merchant support.",
    "5090": "No payment has this reference for this merchant serial number; check the reference and the MSN.",
    "5100": "A refund is not possible for this payment; refund the customer another way.",
    # payment
    "6010": "The amount is too small (at least 1.00 NOK, 0.01 DKK or 0.01 EUR).",
    "6020": "The payment has not been approved yet, so there is nothing to refund.",
    "6030": "The cancel period has expired (180 days, or the capture deadline); nothing can be released "
    "through the API any more.",
    "6040": "The payment is fully captured, so there is nothing to cancel; refund instead.",
    "6050": "Nothing is reserved on this payment, so a cancel has nothing to release.",
    "6060": "The payment is already approved, so 'cancel transaction only' cannot stop it; cancel without "
    "that option to release the reservation.",
    "6070": "The remainder of this payment was cancelled; nothing more can be captured.",
    "6080": "The customer has not approved the payment yet; capture after it is authorized.",
    "6090": "The amount is more than what is left to capture; capture at most the remaining amount.",
    "6100": "The capture period has expired; the reservation can no longer be captured.",
    "6110": "The expiry time is not valid; set it more than 10 minutes and less than 60 days ahead.",
    "6120": "A payment with an expiry time needs a receipt; add one or leave out the expiry.",
    "6130": "The expiry time can only be used with the PUSH_MESSAGE or QR flows.",
    "6140": "This sales unit must capture the full amount at once; capture the whole authorized amount.",
    "6150": "The amount is more than what is left to refund; refund at most captured minus refunded.",
    "6160": "The payment is being processed by another operation right now; wait a moment and try again "
    "with the same key.",
    "6170": "The payment is already captured; check the payment before capturing again.",
    "6180": "The payment is already refunded; check the payment before refunding again.",
    "6190": "The payment cannot be cancelled in its current state; refresh it to see what it is now.",
    "6200": "The payment cannot be captured in its current state; refresh it to see what it is now.",
    "6210": "The payment cannot be refunded in its current state; refresh it to see what it is now.",
    "6220": "The refund period (365 days) has expired; refund the customer another way.",
    "6250": "The customer is approving the payment right now; try again in a minute.",
    "6260": "The customer's funds are not available; the capture cannot go through now.",
    "6280": "The capture failed; try again with the same idempotency key.",
    # customer
    "7010": "The customer was not found (or is under the minimum age); check the phone number.",
    # test environment only
    "10010": _TEST_ONLY + "the force approve failed; approve the payment in the test app instead.",
    "10020": _TEST_ONLY + "force approve is not allowed for this payment; approve it in the test app.",
    "10030": _TEST_ONLY + "the test user must identify in the test app first; log in and approve one "
    "payment by hand.",
    "10040": _TEST_ONLY + "the test user's payment source is not valid; add a valid test card.",
    "10050": _TEST_ONLY + "the test user has no cards; add a test card in the test app.",
    "10060": _TEST_ONLY + "this operation is not supported for force approve; approve in the test app.",
    "10070": _TEST_ONLY + "the test user's payment limit is exceeded; use a smaller amount or another user.",
}

STATUS_ADVICE: dict[int, str] = {
    400: "The request was refused; read the detail, fix the input and try again.",
    401: "The credentials were not accepted; check the client id, client secret and subscription key.",
    403: "These credentials may not do this for this merchant serial number; check the MSN and the "
    "products enabled for it.",
    404: "No payment has this reference for this merchant serial number; check the reference and the MSN.",
    408: "The server did not get the whole request in time; try again with the same key.",
    409: "This conflicts with an earlier request (the reference exists, or the key was used with another "
    "body); refresh the payment before doing anything else.",
    422: "The request was not understood; check the input.",
    423: "Another operation on this payment is in progress; try again in a moment with the same key.",
    429: "Too many requests for this payment; wait a minute and try again with the same key.",
}


def advice_for(error_code: str | None, status: int) -> str:
    """The plain sentence for an error: by code when known, else by HTTP status."""
    if error_code and error_code in ADVICE:
        return ADVICE[error_code]
    if status in STATUS_ADVICE:
        return STATUS_ADVICE[status]
    if status >= 500:
        return "The payment service has a problem; try again in a minute with the same key."
    return "The request was refused; read the detail and check the payment before trying again."
