"""Webhook registrations as the Webhooks API v1 keeps them: who gets which events at which URL.

Rules (the 2026 spec and the official texts):

- ``url``: an absolute HTTPS URL on a common port (none, 80, 443 or 8080), without user info or a
  fragment, at most 2,048 characters. The sandbox also accepts ``http``/``https`` to 127.0.0.1,
  ``localhost`` and ``::1`` on any port (a desk's own machine; the real API refuses those).
- ``events``: a non-empty list of known event types, no duplicates. Every documented event type is
  accepted; the sandbox sends only the eight ePayment ones.
- At most 25 registrations per event type for one sales unit (the QR check-in event: 1); a partner's
  registration without a ``Merchant-Serial-Number`` covers every sales unit and counts in its own bucket.
- The secret is shown once, in the answer to the registration.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from epay_desktop.sandbox.problems import ProblemError
from epay_desktop.sandbox.records import EVENT_NAMES

OTHER_EVENTS: frozenset[str] = frozenset(
    {
        "recurring.agreement-activated.v1",
        "recurring.agreement-rejected.v1",
        "recurring.agreement-stopped.v1",
        "recurring.agreement-expired.v1",
        "recurring.charge-reserved.v1",
        "recurring.charge-captured.v1",
        "recurring.charge-canceled.v1",
        "recurring.charge-refunded.v1",
        "recurring.charge-failed.v1",
        "recurring.charge-creation-failed.v1",
        "login.merchant-initiated.ping.v1",
        "user.checked-in.v1",
    }
)
LIMIT_PER_EVENT = 25
LIMITS = {"user.checked-in.v1": 1}
MAX_URL = 2048
COMMON_PORTS = (None, 80, 443, 8080)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def event_type(name: str) -> str:
    """``AUTHORIZED`` -> ``epayments.payment.authorized.v1``."""
    return f"epayments.payment.{name.lower()}.v1"


# What the sandbox delivers: a type for each event its engine writes, named as the hub names them.
EPAYMENT_EVENTS: tuple[str, ...] = tuple(event_type(name) for name in EVENT_NAMES)
KNOWN_EVENTS: frozenset[str] = frozenset(EPAYMENT_EVENTS) | OTHER_EVENTS


@dataclass(frozen=True)
class Registration:
    id: str
    url: str
    events: tuple[str, ...]
    secret: str
    msn: str | None  # None: a partner's registration for all its sales units

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "events": list(self.events)}

    def wants(self, msn: str, event: str) -> bool:
        return event in self.events and (self.msn is None or self.msn == msn)


def check_url(url: Any) -> str:
    if not isinstance(url, str) or not url:
        raise ProblemError.invalid("url", "a URL is required")
    if len(url) > MAX_URL:
        raise ProblemError.invalid("url", f"must be at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ProblemError.invalid("url", f"is not a valid URL ({exc})") from None
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ProblemError.invalid("url", "must be an absolute HTTPS URL")
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise ProblemError.invalid("url", "must not carry user info or a fragment")
    if host in LOOPBACK_HOSTS:
        return url  # the sandbox's own difference: a desk on this machine
    if parts.scheme != "https":
        raise ProblemError.invalid("url", "must use HTTPS")
    if port not in COMMON_PORTS:
        raise ProblemError.invalid("url", "use a common port: 80, 443 or 8080")
    return url


def check_events(events: Any) -> tuple[str, ...]:
    if not isinstance(events, list) or not events:
        raise ProblemError.invalid("events", "a non-empty list of event types is required")
    seen: list[str] = []
    for item in events:
        if not isinstance(item, str) or item not in KNOWN_EVENTS:
            raise ProblemError.invalid("events", f"unknown event type {item!r}")
        if item in seen:
            raise ProblemError.invalid("events", f"{item} is listed twice")
        seen.append(item)
    return tuple(seen)


class Registry:
    """Thread-safe registrations of one sandbox."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Registration] = {}

    def register(self, msn: str | None, body: Any) -> Registration:
        if not isinstance(body, dict):
            raise ProblemError.invalid("body", "a JSON object is required")
        url = check_url(body.get("url"))
        events = check_events(body.get("events"))
        with self._lock:
            for event in events:
                taken = sum(1 for r in self._items.values() if r.msn == msn and event in r.events)
                limit = LIMITS.get(event, LIMIT_PER_EVENT)
                if taken >= limit:
                    raise ProblemError.invalid(
                        "events", f"at most {limit} webhooks can be registered per event; {event} has {taken}"
                    )
            item = Registration(str(uuid.uuid4()), url, events, secrets.token_urlsafe(48), msn)
            self._items[item.id] = item
            return item

    def of(self, msn: str | None) -> list[Registration]:
        with self._lock:
            return [r for r in self._items.values() if r.msn == msn]

    def delete(self, msn: str | None, registration_id: str) -> None:
        with self._lock:
            item = self._items.get(registration_id)
            if item is None or item.msn != msn:
                raise ProblemError.invalid("id", f"no webhook {registration_id!r} is registered")
            del self._items[registration_id]

    def get(self, registration_id: str) -> Registration | None:
        with self._lock:
            return self._items.get(registration_id)

    def listeners(self, msn: str, event: str) -> list[Registration]:
        with self._lock:
            return [r for r in self._items.values() if r.wants(msn, event)]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
