"""The Webhooks API v1 (``/webhooks/v1/webhooks``): register, list and delete webhook registrations,
with the same connection, tokens, headers and errors as the ePayment client.

Registering has no idempotency key: an attempt that may have reached the server is not repeated
(``OutcomeUnknownError``: list the registrations to see whether it was made).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx

from epay_desktop.api.environment import Credentials, Environment
from epay_desktop.api.errors import InvalidInputError, MalformedResponseError
from epay_desktop.api.redact import register_secret
from epay_desktop.api.retry import RetryPolicy
from epay_desktop.api.session import ApiRequest, ApiSession, read_json
from epay_desktop.i18n import _

PATH = "/webhooks/v1/webhooks"
EPAYMENT_EVENTS: tuple[str, ...] = tuple(
    f"epayments.payment.{name}.v1"
    for name in (
        "created",
        "aborted",
        "expired",
        "cancelled",
        "captured",
        "refunded",
        "authorized",
        "terminated",
    )
)


@dataclass(frozen=True)
class WebhookRegistration:
    id: str
    url: str
    events: tuple[str, ...]


@dataclass(frozen=True)
class RegisteredWebhook:
    """The answer to a registration: the only time the secret is shown."""

    id: str
    secret: str

    def __repr__(self) -> str:
        return f"RegisteredWebhook(id={self.id!r}, secret=<hidden>)"


def _text(data: Any, key: str, what: str) -> str:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, str) or not value:
        raise MalformedResponseError(f"{what}: {key} is missing or not text")
    return value


class WebhooksClient:
    """The Webhooks API for one merchant serial number, over the ``session`` it holds (``async with``
    or :meth:`aclose`)."""

    def __init__(
        self,
        environment: Environment,
        credentials: Credentials,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.session = ApiSession(environment, credentials, transport=transport, retry=retry)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.session.aclose()

    @property
    def environment(self) -> Environment:
        return self.session.environment

    async def register(
        self, url: str, events: tuple[str, ...] | list[str] = EPAYMENT_EVENTS
    ) -> RegisteredWebhook:
        if not url.startswith(("https://", "http://")):
            raise InvalidInputError(
                _("the webhook URL must be an absolute https:// URL, got {url}").format(url=repr(url))
            )
        if not events:
            raise InvalidInputError(_("name at least one event type"))
        response = await self.session.send(
            ApiRequest.build(
                "POST",
                PATH,
                operation="register webhook",
                body={"url": url, "events": list(events)},
                effectful=True,
                retry_ambiguous=False,
            )
        )
        data = read_json(response, "webhook registration")
        secret = _text(data, "secret", "webhook registration")
        register_secret(secret)
        return RegisteredWebhook(_text(data, "id", "webhook registration"), secret)

    async def registrations(self) -> list[WebhookRegistration]:
        response = await self.session.send(ApiRequest.build("GET", PATH, operation="list webhooks"))
        data = read_json(response, "webhook list")
        items = data.get("webhooks") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise MalformedResponseError("webhook list: webhooks is missing or not a list")
        found = []
        for item in items:
            events = item.get("events") if isinstance(item, dict) else None
            found.append(
                WebhookRegistration(
                    _text(item, "id", "webhook"),
                    _text(item, "url", "webhook"),
                    tuple(e for e in events if isinstance(e, str)) if isinstance(events, list) else (),
                )
            )
        return found

    async def delete(self, registration_id: str) -> None:
        if not registration_id or "/" in registration_id:
            raise InvalidInputError(_("not a webhook id: {id}").format(id=repr(registration_id)))
        await self.session.send(
            ApiRequest.build("DELETE", f"{PATH}/{registration_id}", operation="delete webhook")
        )
