"""A payment as the app keeps it: the API cannot list payments, so the app's register does.

``TrackedPayment`` is what the register stores and the window shows: the last snapshot of the payment
and its events (``None`` until first fetched), what the API does not return (the description we sent,
when it was created), and when the snapshot was fetched (for "stale" marks when offline).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from epay_desktop.domain.payment import Payment, PaymentEvent

STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class TrackedPayment:
    reference: str
    merchant_serial_number: str
    payment: Payment | None = None
    events: tuple[PaymentEvent, ...] = ()
    description: str = ""
    created_at: datetime | None = None
    fetched_at: datetime | None = None
    fetch_error: str = ""

    @property
    def updated_at(self) -> datetime | None:
        """When the payment last changed at the API: its newest event's time."""
        stamps = [e.timestamp for e in self.events if e.timestamp is not None]
        return max(stamps) if stamps else self.created_at

    def is_stale(self, now: datetime) -> bool:
        return self.fetched_at is None or now - self.fetched_at > STALE_AFTER

    def can_still_change(self) -> bool:
        """Worth refreshing automatically: not fetched yet, or not in a closed state.

        AUTHORIZED is final as a state, but captures, refunds and cancels still move its aggregate."""
        return self.payment is None or not self.payment.state.is_closed
