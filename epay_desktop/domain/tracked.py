"""A payment as the app keeps it: the API cannot list payments, so the app's register does.

``TrackedPayment`` is what the register stores and the window shows: the last snapshot of the payment
(``None`` until first fetched) and its events, what the API does not return (the description we sent,
when it was created), and when the snapshot was fetched (for "stale" marks when offline).

``events`` is ``None`` when the event log is not at hand: not fetched yet, or not loaded (the list
reads no logs; the details of the selected payment ask for its own). ``()`` means the log is known and
empty. ``last_event_at``, the newest event's time, is known either way (the "Updated" column).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from epay_desktop.domain.business import BusinessState, business_state
from epay_desktop.domain.payment import Payment, PaymentEvent, State

STALE_AFTER = timedelta(minutes=5)
# How a refresh answered 404 reads in ``fetch_error``: the API's own summary names the status this way
# (``ApiError.summary``); the API does not know the reference for this merchant serial number.
NOT_FOUND_MARK = "(HTTP 404"


class RowMark(enum.Enum):
    """What a row can be filtered by besides its state."""

    UNKNOWN_TO_API = "unknown-to-api"  # see ``TrackedPayment.unknown_to_api``


# The customer has 10 minutes to act on a new payment before it expires (FACTS.md §3, the default timeout).
CUSTOMER_TIMEOUT = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class TrackedPayment:
    reference: str
    merchant_serial_number: str
    payment: Payment | None = None
    events: tuple[PaymentEvent, ...] | None = None
    description: str = ""
    created_at: datetime | None = None
    fetched_at: datetime | None = None
    fetch_error: str = ""
    last_event_at: datetime | None = None
    # The sandbox says the customer is in 3-D Secure right now (the real API never says it; not stored).
    authorizing: bool = False

    def __post_init__(self) -> None:
        # A known log decides (also after ``dataclasses.replace`` with new events).
        if self.events is not None:
            object.__setattr__(self, "last_event_at", newest_event_at(self.events))

    @property
    def updated_at(self) -> datetime | None:
        """When the payment last changed at the API: its newest event's time."""
        return self.last_event_at or self.created_at

    @property
    def kind(self) -> BusinessState | None:
        """The business state people see (``None``: not fetched yet)."""
        if self.payment is None:
            return None
        return business_state(self.payment, authorizing=self.authorizing)

    @property
    def unknown_to_api(self) -> bool:
        """The last refresh was answered 404: the API does not know this reference (a typo, another
        merchant serial number, or a sandbox that was reset)."""
        return NOT_FOUND_MARK in self.fetch_error

    def is_stale(self, now: datetime) -> bool:
        return self.fetched_at is None or now - self.fetched_at > STALE_AFTER

    def can_still_change(self) -> bool:
        """Worth refreshing automatically: not fetched yet, or not in a closed state.

        AUTHORIZED is final as a state, but captures, refunds and cancels still move its aggregate."""
        return self.payment is None or not self.payment.state.is_closed

    def looks_stale(self, now: datetime) -> bool:
        """Shown as possibly out of date: its last refresh failed, or it is stale and could have changed
        since (a snapshot in a closed state is final however old it is, so it is not marked)."""
        return bool(self.fetch_error) or (self.is_stale(now) and self.can_still_change())

    def waits_for_customer(
        self, now: datetime, *, created_since: datetime | None = None, timeout: timedelta = CUSTOMER_TIMEOUT
    ) -> bool:
        """The customer may still act on it: created less than ``timeout`` ago and CREATED, or not
        fetched yet and created at or after ``created_since`` (by this session). Unknown creation
        time: not waiting (it cannot be timed out)."""
        if self.created_at is None:
            return False
        created = _aware(self.created_at)
        if _aware(now) - created >= timeout:
            return False
        if self.payment is None:
            return created_since is not None and created >= _aware(created_since)
        return self.payment.state is State.CREATED


def newest_event_at(events: Iterable[PaymentEvent]) -> datetime | None:
    """The time of the newest event that has one."""
    return max((e.timestamp for e in events if e.timestamp is not None), default=None)


def _aware(moment: datetime) -> datetime:
    """Naive times are UTC (the register stores UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
