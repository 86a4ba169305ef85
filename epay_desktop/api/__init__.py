"""The async client of the real ePayment, access-token and Webhooks APIs (httpx), and the verification
of signed webhooks (``api.webhooks``).

Belongs here: HTTP, token cache, retries, idempotency keys, lenient parsing into ``domain`` records,
the exception tree (drawn in :mod:`epay_desktop.api.errors`). May import ``domain`` only. No Qt, no
SQLite, never ``sandbox`` (the sandbox is reached over HTTP like any server, also in-process through
``httpx.ASGITransport``).
"""

from __future__ import annotations

from epay_desktop.api.advice import ADVICE, advice_for, retry_with_same_key
from epay_desktop.api.client import EPaymentClient, new_idempotency_key
from epay_desktop.api.controls import CUSTOMER_ACTIONS, SandboxControls
from epay_desktop.api.environment import Credentials, Environment
from epay_desktop.api.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    EPaymentError,
    InvalidInputError,
    MalformedResponseError,
    NetworkError,
    NotAllowedError,
    NotFoundError,
    NotSentError,
    OutcomeUnknownError,
    RateLimitedError,
    RefusedError,
)
from epay_desktop.api.parse import CreatedPayment
from epay_desktop.api.redact import SecretRedactingFilter, install_redaction, redact, register_secret
from epay_desktop.api.retry import RetryPolicy

__all__ = [
    "ADVICE",
    "CUSTOMER_ACTIONS",
    "ApiError",
    "AuthenticationError",
    "ConflictError",
    "CreatedPayment",
    "Credentials",
    "EPaymentClient",
    "EPaymentError",
    "Environment",
    "InvalidInputError",
    "MalformedResponseError",
    "NetworkError",
    "NotAllowedError",
    "NotFoundError",
    "NotSentError",
    "OutcomeUnknownError",
    "RateLimitedError",
    "RefusedError",
    "RetryPolicy",
    "SandboxControls",
    "SecretRedactingFilter",
    "advice_for",
    "install_redaction",
    "new_idempotency_key",
    "redact",
    "register_secret",
    "retry_with_same_key",
]
