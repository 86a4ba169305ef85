"""Demo mode: the customer's part played through the sandbox controls, seen through the register.

On the first open of the Demo register it is seeded from the sandbox's own list of payments (with their
descriptions and created times), so a trainer starts with a full window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from epay_desktop.api import EPaymentError, SandboxControls, redact
from epay_desktop.api.parse import parse_payment
from epay_desktop.domain import Money, TrackedPayment
from epay_desktop.services.context import DeskContext
from epay_desktop.services.creating import Creation
from epay_desktop.services.tracking import RegisterTracking
from epay_desktop.store import NewEntry

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


@dataclass(frozen=True, slots=True)
class _Bound:
    context: DeskContext
    tracking: RegisterTracking
    creation: Creation


class DemoControls:
    """Wraps ``api.SandboxControls`` for one desk: every action returns the refreshed TrackedPayment
    (published on the desk's change feed too).

    The controls belong to the caller (close them after the desk); the desk binds them to its parts."""

    def __init__(self, controls: SandboxControls) -> None:
        self.controls = controls
        self._bound: _Bound | None = None

    def bind(self, context: DeskContext, tracking: RegisterTracking, creation: Creation) -> None:
        self._bound = _Bound(context, tracking, creation)

    @property
    def _parts(self) -> _Bound:
        if self._bound is None:
            raise RuntimeError("DemoControls is not bound to a desk: open the desk with demo=...")
        return self._bound

    async def customer(self, reference: str, action: str) -> TrackedPayment:
        """Play the customer: approve, reject, start-authorizing, finish-authorizing, expire. The payment
        is refreshed afterwards (and published, ``source="demo"``)."""
        parts = self._parts
        try:
            answer = await self.controls.act(parts.context.msn, reference, action)
        except EPaymentError as error:
            await parts.context.record(f"demo {action}", "failed", reference, redact(str(error)))
            raise
        await parts.context.record(f"demo {action}", "ok", reference)
        self._note_authorizing(reference, answer.authorizing)
        return await parts.tracking.refresh(reference, source="demo")

    def _note_authorizing(self, reference: str, authorizing: bool) -> None:
        if authorizing:
            self._parts.context.authorizing.add(reference)
        else:
            self._parts.context.authorizing.discard(reference)

    async def new_payment(self, amount: Money, description: str) -> TrackedPayment:
        """A new payment waiting for the (played) customer, as if pushed to the demo phone."""
        return await self._parts.creation.create_payment(amount, description, DEMO_PHONE, "PUSH_MESSAGE")

    async def seed_if_first_open(self) -> int:
        """Track every payment the sandbox knows for this serial number, once per register (on every
        open, learn which ones are in 3-D Secure). Returns how many were added; a sandbox that cannot
        be read leaves the register as it is."""
        parts = self._parts
        ctx = parts.context
        db = ctx.store.db
        seeded = bool(await ctx.db(db.get_meta, SEEDED_KEY))
        items: list[dict[str, object]] = []
        try:
            offset = 0
            while True:
                page, total = await self.controls.list_payments(ctx.msn, offset=offset, limit=100)
                items.extend(page)
                offset += len(page)
                if not page or offset >= total:
                    break
        except EPaymentError as error:
            log.warning("demo register not seeded: %s", error)
            return 0
        if seeded:
            for item in items:
                reference = item.get("reference")
                if isinstance(reference, str):
                    self._note_authorizing(reference, item.get("authorizing") is True)
            return 0
        entries: list[NewEntry] = []
        payments = []
        for item in items:
            reference = item.get("reference")
            if not isinstance(reference, str):
                continue
            self._note_authorizing(reference, item.get("authorizing") is True)
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
        added, _existing = await parts.tracking.track(entries)
        seeded_at = datetime.now(UTC)
        for payment in payments:
            # The list carries the payment but not its events: events stay unknown until a refresh.
            await parts.tracking.keep(payment, None, asked_at=seeded_at, source="demo")
        await ctx.db(db.set_meta, SEEDED_KEY, "1")
        return len(added)
