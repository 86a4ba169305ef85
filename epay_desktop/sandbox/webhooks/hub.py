"""One sandbox's webhooks: the registrations and the dispatcher, fed by the engine's events."""

from __future__ import annotations

from epay_desktop.sandbox.clock import Clock
from epay_desktop.sandbox.records import EventRecord, PaymentRecord
from epay_desktop.sandbox.webhooks.delivery import Dispatcher, WebhookFaults
from epay_desktop.sandbox.webhooks.payload import encode, webhook_body
from epay_desktop.sandbox.webhooks.registry import Registry, event_type


class Webhooks:
    def __init__(self, clock: Clock, *, seed: int = 0) -> None:
        self.registry = Registry()
        self.dispatcher = Dispatcher(self.registry, clock, seed=seed)

    def on_event(self, payment: PaymentRecord, event: EventRecord) -> None:
        """The engine's listener: queue the event for every registration that wants it."""
        self.dispatcher.publish(
            payment.msn, payment.reference, event_type(event.name), encode(webhook_body(payment, event))
        )

    def reset_faults(self) -> None:
        """No delays, no duplicates (what a reset of the sandbox gives; registrations are kept, as a
        merchant's configuration is)."""
        self.dispatcher.faults = WebhookFaults()

    async def aclose(self) -> None:
        await self.dispatcher.aclose()
