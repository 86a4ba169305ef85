"""Demo mode: the customer's part played through the sandbox controls, seen through the register.

On the first open of the Demo register it is seeded from the sandbox's own list of payments (with their
descriptions and created times), so a trainer starts with a full window.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from epay_desktop.api import EPaymentError, SandboxControls, redact
from epay_desktop.api.parse import parse_payment
from epay_desktop.domain import Money, TrackedPayment
from epay_desktop.store import NewEntry

if TYPE_CHECKING:
    from epay_desktop.services.desk import PaymentDesk

log = logging.getLogger(__name__)

CUSTOMER_ACTIONS = ("approve", "reject", "start-authorizing", "finish-authorizing", "expire")
SEEDED_KEY = "demo_seeded"
DEMO_PHONE = "4791234567"


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class DemoControls:
    """Wraps ``api.SandboxControls`` for one desk: every action returns the refreshed TrackedPayment.

    The controls belong to the caller (close them after the desk)."""

    def __init__(self, controls: SandboxControls) -> None:
        self.controls = controls
        self._desk: PaymentDesk | None = None

    def bind(self, desk: PaymentDesk) -> None:
        self._desk = desk

    @property
    def desk(self) -> PaymentDesk:
        if self._desk is None:
            raise RuntimeError("DemoControls is not bound to a desk: open the desk with demo=...")
        return self._desk

    async def customer(self, reference: str, action: str) -> TrackedPayment:
        """Play the customer: approve, reject, start-authorizing, finish-authorizing, expire."""
        desk = self.desk
        try:
            await self.controls.customer(desk.msn, reference, action)
        except EPaymentError as error:
            await desk._audit(f"demo {action}", "failed", reference, redact(str(error)))
            raise
        await desk._audit(f"demo {action}", "ok", reference)
        return await desk.refresh(reference, source="demo")

    async def new_payment(self, amount: Money, description: str) -> TrackedPayment:
        """A new payment waiting for the (played) customer, as if pushed to the demo phone."""
        return await self.desk.create_payment(amount, description, DEMO_PHONE, "PUSH_MESSAGE")

    async def seed_if_first_open(self) -> int:
        """Track every payment the sandbox knows for this serial number, once per register.
        Returns how many were added; a sandbox that cannot be read leaves the register as it is."""
        desk = self.desk
        db = desk.store.db
        if await desk._db(db.get_meta, SEEDED_KEY):
            return 0
        items: list[dict[str, object]] = []
        try:
            offset = 0
            while True:
                page, total = await self.controls.list_payments(desk.msn, offset=offset, limit=100)
                items.extend(page)
                offset += len(page)
                if not page or offset >= total:
                    break
        except EPaymentError as error:
            log.warning("demo register not seeded: %s", error)
            return 0
        entries: list[NewEntry] = []
        payments = []
        for item in items:
            reference = item.get("reference")
            if not isinstance(reference, str):
                continue
            description = item.get("paymentDescription")
            entries.append(
                NewEntry(
                    reference,
                    description=description if isinstance(description, str) else "",
                    created_at=_parse_time(item.get("createdAt")),
                    source="demo",
                )
            )
            try:
                payments.append(parse_payment(item))
            except EPaymentError as error:
                log.warning("demo payment %s not parsed: %s", reference, error)
        added, _existing = await desk._db(desk.store.register.add, desk.msn, entries)
        for payment in payments:
            # The list carries the payment but not its events: events stay unknown until a refresh.
            await desk._db(desk.store.register.save_snapshot, desk.msn, payment, None)
        await desk._db(db.set_meta, SEEDED_KEY, "1")
        return len(added)
