"""The sandbox's Webhooks API: registrations (``registry``), the signed body and headers
(``payload``, ``signing``), asynchronous ordered delivery with retries on the sandbox clock
(``delivery``), and the routes (``routes``). An independent reading of the Webhooks docs: nothing here
imports the client's verification.
"""

from __future__ import annotations

from epay_desktop.sandbox.webhooks.delivery import Delivery, Dispatcher, WebhookFaults, retry_delay
from epay_desktop.sandbox.webhooks.hub import Webhooks
from epay_desktop.sandbox.webhooks.registry import EPAYMENT_EVENTS, Registration, Registry

__all__ = [
    "EPAYMENT_EVENTS",
    "Delivery",
    "Dispatcher",
    "Registration",
    "Registry",
    "WebhookFaults",
    "Webhooks",
    "retry_delay",
]
