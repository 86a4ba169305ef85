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
``extraDetails``, ``trace_id``, ``instance``) and ``advice``: a plain sentence of what to do next
(:mod:`epay_desktop.api.advice`, by error code, else by HTTP status).
"""

from __future__ import annotations

from epay_desktop.api.advice import advice_for
from epay_desktop.i18n import N_, _, ngettext, translate

__all__ = [
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
    "call_words",
    "could_not",
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
        last = _one_line(str(last_error)) if last_error else _("none")
        if isinstance(last_error, MalformedResponseError):
            # A success status with a body we cannot read: the effect may well have happened.
            what = ngettext(
                "the success answer could not be read after {count} attempt ({last})",
                "the success answer could not be read after {count} attempts ({last})",
                attempts,
            )
        else:
            what = ngettext(
                "no answer after {count} attempt (last: {last})",
                "no answer after {count} attempts (last: {last})",
                attempts,
            )
        super().__init__(
            _(
                "{call} may or may not have happened: {what}. Check the payment and its event log; "
                "retrying with idempotency key {key} is safe."
            ).format(
                call=call_words(operation, reference),
                what=what.format(count=attempts, last=last),
                key=idempotency_key,
            )
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
        if self.error_code:
            status = _("HTTP {status}, code {code}").format(status=self.status, code=self.error_code)
        else:
            status = _("HTTP {status}").format(status=self.status)
        # The API's own title and detail stay as the API wrote them; the advice is ours.
        if self.detail and self.detail != self.title:
            text = _("{title} ({status}): {detail} — {advice}").format(
                title=self.title, status=status, detail=self.detail, advice=self.advice
            )
        else:
            text = _("{title} ({status}) — {advice}").format(
                title=self.title, status=status, advice=self.advice
            )
        if self.trace_id:
            text = _("{summary} [traceId {trace_id}]").format(summary=text, trace_id=self.trace_id)
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


# What each call of the client does, as the subject of a sentence ("The capture of ABC-123 may or may
# not have happened"), keyed by ``ApiRequest.operation``.
_CALLS = {
    "cancel": N_("The cancel of {reference}"),
    "capture": N_("The capture of {reference}"),
    "refund": N_("The refund of {reference}"),
    "create": N_("Creating payment {reference}"),
    "get payment": N_("Reading payment {reference}"),
    "get event log": N_("Reading the event log of {reference}"),
    "force approve": N_("Force approving {reference}"),
    "get access token": N_("Getting an access token"),
    "register webhook": N_("Registering the webhook"),
    "list webhooks": N_("Listing the webhooks"),
    "delete webhook": N_("Deleting the webhook"),
}


# The same calls as what could not be done ("Could not get payment ABC-123: ..."), an infinitive phrase.
_DOING = {
    "cancel": N_("cancel {reference}"),
    "capture": N_("capture {reference}"),
    "refund": N_("refund {reference}"),
    "create": N_("create payment {reference}"),
    "get payment": N_("get payment {reference}"),
    "get event log": N_("get the event log of {reference}"),
    "force approve": N_("force approve {reference}"),
    "get access token": N_("get an access token"),
    "register webhook": N_("register the webhook"),
    "list webhooks": N_("list the webhooks"),
    "delete webhook": N_("delete the webhook"),
}


def could_not(operation: str, reference: str = "") -> str:
    """What a call could not do, in the language in use (the operation's own name for one this table
    does not know)."""
    marked = _DOING.get(operation)
    if marked is None:
        return f"{operation} {reference}".strip()
    return translate(marked).format(reference=reference)


def call_words(operation: str, reference: str = "") -> str:
    """A call of the client in words, in the language in use (the operation's own name for one this
    table does not know)."""
    marked = _CALLS.get(operation)
    if marked is None:
        return f"{operation} {reference}".strip()
    return translate(marked).format(reference=reference)


def _one_line(text: str) -> str:
    return " ".join(text.split())
