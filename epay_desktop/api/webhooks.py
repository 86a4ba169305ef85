"""Verifying and reading the webhooks the Webhooks API sends (its "Request authentication" page).

A delivery is genuine when, for one of the secrets of the registrations pointing at this URL:

1. ``x-ms-content-sha256`` is base64(SHA-256(raw body)),
2. ``Authorization`` is ``HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=S``
   where S = base64(HMAC-SHA256(secret as UTF-8, "POST\\n{pathAndQuery}\\n{x-ms-date};{host};{hash}"))
   with path, query and host taken from the URL as registered (compared in constant time),
3. the request came to that host and path (a signature for another URL is not replayed here), and
4. ``x-ms-date`` is within ``max_skew`` of now (an old delivery is not replayed either).

Then the body is read leniently into a :class:`Notification` (unknown event names are kept as such;
``idempotencyKey`` may be null; ``success`` must be there: whether money moved is never guessed).
:func:`is_duplicate` answers whether an event is already known (retries and overlapping registrations
deliver the same event more than once): the same payment, name and event pspReference.

Errors::

    WebhookError                 the delivery is refused; ``status`` says how to answer
    ├── SignatureError (401)     missing or wrong signature headers, content hash, host, path or date
    └── PayloadError (400)       genuine, but the body is not an ePayment webhook we can read
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from epay_desktop.api.errors import MalformedResponseError
from epay_desktop.api.parse import load_json, parse_event
from epay_desktop.domain import PaymentEvent

SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256"
AUTH_PREFIX = f"HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature="
MAX_SKEW = timedelta(minutes=5)
MAX_BODY = 64 * 1024  # an ePayment webhook is a few hundred bytes
EVENT_PREFIX = "epayments.payment."


class WebhookError(Exception):
    status = 400


class SignatureError(WebhookError):
    status = 401


class PayloadError(WebhookError):
    status = 400


def content_hash(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _authority(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"https": 443, "http": 80}.get(parts.scheme.lower())
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def expected_authorization(secret: str, url: str, date: str, body_hash: str) -> str:
    """The ``Authorization`` value a delivery of a body with ``body_hash`` to ``url`` at ``date`` has."""
    text = f"POST\n{_path_and_query(url)}\n{date};{_authority(url)};{body_hash}"
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()
    return AUTH_PREFIX + base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class WebhookEndpoint:
    """Where deliveries arrive (the URL as registered) and the secrets they may be signed with: one
    per registration pointing here (two while a registration is being replaced)."""

    url: str
    secrets: tuple[str, ...]
    max_skew: timedelta = MAX_SKEW

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"the webhook URL must be an absolute http(s) URL, got {self.url!r}")
        if not self.secrets or not all(self.secrets):
            raise ValueError("at least one webhook secret is needed")

    def __repr__(self) -> str:  # never the secrets
        return f"WebhookEndpoint(url={self.url!r}, secrets=<{len(self.secrets)} hidden>)"

    @property
    def path_and_query(self) -> str:
        return _path_and_query(self.url)

    @property
    def authority(self) -> str:
        return _authority(self.url)

    def verify(
        self,
        *,
        method: str,
        path_and_query: str,
        headers: Mapping[str, str],
        body: bytes,
        now: datetime | None = None,
    ) -> None:
        """Raise :class:`SignatureError` unless the delivery is genuine (see the module docstring).
        ``headers`` must look names up case-insensitively (Starlette's and httpx's do)."""
        if method.upper() != "POST":
            raise SignatureError(f"webhooks are POSTed, not sent with {method}")
        date = headers.get("x-ms-date")
        body_hash = headers.get("x-ms-content-sha256")
        given = headers.get("authorization")
        host = headers.get("host")
        if not date or not body_hash or not given or not host:
            missing = [
                n
                for n, v in (
                    ("x-ms-date", date),
                    ("x-ms-content-sha256", body_hash),
                    ("authorization", given),
                    ("host", host),
                )
                if not v
            ]
            raise SignatureError(f"missing signature header(s): {', '.join(missing)}")
        if not hmac.compare_digest(content_hash(body).encode(), body_hash.encode()):
            raise SignatureError("the body does not match x-ms-content-sha256")
        if host.lower() != self.authority:
            raise SignatureError(f"sent to host {host!r}, registered for {self.authority!r}")
        if path_and_query != self.path_and_query:
            raise SignatureError("sent to another path than the one registered")
        if not any(
            hmac.compare_digest(expected_authorization(s, self.url, date, body_hash).encode(), given.encode())
            for s in self.secrets
        ):
            raise SignatureError("the signature does not match (wrong secret, URL or tampered headers)")
        try:
            sent = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            raise SignatureError(f"x-ms-date {date!r} is not an HTTP date") from None
        if sent.tzinfo is None:
            sent = sent.replace(tzinfo=UTC)
        moment = now or datetime.now(UTC)
        if abs(moment - sent) > self.max_skew:
            raise SignatureError(f"x-ms-date {date!r} is more than {self.max_skew} away from now")


@dataclass(frozen=True)
class Notification:
    """An ePayment webhook as read: who it is for, which event, the event itself."""

    msn: str
    event_type: str
    event: PaymentEvent
    raw: Mapping[str, Any]

    @property
    def reference(self) -> str:
        return self.event.reference

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What makes one event one event: payment, name and the event's own pspReference."""
        return (self.msn, self.event.reference, self.event.display_name, self.event.psp_reference)


def parse_notification(body: bytes) -> Notification:
    """Read a verified body leniently; :class:`PayloadError` when it is not an ePayment webhook."""
    if len(body) > MAX_BODY:
        raise PayloadError(f"the body is {len(body)} bytes; an ePayment webhook is far smaller")
    try:
        data = load_json(body, what="webhook body")
    except MalformedResponseError as exc:
        raise PayloadError(str(exc)) from None
    if not isinstance(data, dict):
        raise PayloadError("the body is not a JSON object")
    msn = data.get("msn")
    reference = data.get("reference")
    if isinstance(msn, int) and not isinstance(msn, bool):
        msn = str(msn)
    if not isinstance(msn, str) or not msn:
        raise PayloadError("msn is missing")
    if not isinstance(reference, str) or not reference:
        raise PayloadError("reference is missing")
    if not isinstance(data.get("name"), str):
        raise PayloadError("name is missing")
    try:
        event = parse_event(data, what="webhook", reference=reference)
    except MalformedResponseError as exc:
        raise PayloadError(str(exc)) from None
    return Notification(msn, EVENT_PREFIX + event.display_name.lower() + ".v1", event, data)


def is_duplicate(event: PaymentEvent, known: Iterable[PaymentEvent]) -> bool:
    """Whether ``event`` is already among ``known`` (a snapshot's events, earlier webhooks)."""
    for other in known:
        if other.reference != event.reference or other.display_name != event.display_name:
            continue
        if event.psp_reference and other.psp_reference:
            if other.psp_reference == event.psp_reference:
                return True
        elif (other.amount, other.timestamp, other.idempotency_key) == (
            event.amount,
            event.timestamp,
            event.idempotency_key,
        ):
            return True
    return False


def secrets_from_text(text: str) -> tuple[str, ...]:
    """Secrets given as one text (an environment variable): separated by commas or whitespace."""
    return tuple(s for s in text.replace(",", " ").split() if s)
