"""Webhooks for an open profile (composition: the sandbox, the receiver and the desk meet here).

Demo: the app registers itself with its in-process sandbox for all eight ePayment events, at
``DEMO_HOOK_URL``; the sandbox delivers to the ``epay-webhooks`` receiver in-process (an ASGI app, no
port), which verifies each delivery and writes the desk's register; every delivery then reaches the
window (its row, the Notifications view). Other profiles: the register is watched for what a running
``epay-webhooks`` writes into it.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from epay_desktop.services import PaymentDesk
    from epay_desktop.services.webhook_feed import WebhookFeed

DEMO_HOOK_HOST = "epay-desktop.demo"
DEMO_HOOK_URL = f"https://{DEMO_HOOK_HOST}/webhooks/vipps"


async def demo_webhooks(
    stack: contextlib.AsyncExitStack, sandbox_app: Any, transport: Any, desk: PaymentDesk
) -> WebhookFeed:
    from epay_desktop.api.webhooks import WebhookEndpoint
    from epay_desktop.api.webhooks_client import EPAYMENT_EVENTS, WebhooksClient
    from epay_desktop.services import DEMO_PROFILE, DEMO_SECRETS
    from epay_desktop.services.connection import credentials_for, environment_for
    from epay_desktop.services.webhook_feed import WebhookFeed
    from epay_desktop.services.webhook_inbox import WebhookInbox
    from epay_desktop.webhooks import create_receiver

    sandbox = sandbox_app.state.sandbox
    stack.push_async_callback(sandbox.webhooks.aclose)
    async with WebhooksClient(
        environment_for(DEMO_PROFILE), credentials_for(DEMO_PROFILE, DEMO_SECRETS), transport=transport
    ) as client:
        made = await client.register(DEMO_HOOK_URL, EPAYMENT_EVENTS)
    feed = WebhookFeed(desk.changes)
    # The person chooses what the Demo register tracks: a payment made behind its back is listed only.
    inbox = WebhookInbox(desk.store, track_new=False)
    inbox.listeners.append(feed.deliver)
    receiver = create_receiver(WebhookEndpoint(DEMO_HOOK_URL, (made.secret,)), inbox)
    sandbox.webhooks.dispatcher.attach(DEMO_HOOK_HOST, receiver)
    return feed


async def register_watch(desk: PaymentDesk) -> WebhookFeed | None:
    """A feed that watches the register; what is in it now is known (the window loads it). None when
    the register cannot be watched (the profile opens all the same; polling keeps it current)."""
    import asyncio
    import logging

    from epay_desktop.services.webhook_feed import RegisterWatch, WebhookFeed
    from epay_desktop.store import RegisterError

    watch = RegisterWatch(desk.store, desk.profile.merchant_serial_number)
    try:
        await asyncio.to_thread(watch.check)
    except RegisterError as error:
        logging.getLogger(__name__).warning("not watching the register for webhooks: %s", error)
        return None
    return WebhookFeed(desk.changes, watch=watch)
