"""Payment records as the ePayment API describes them (FACTS.md §4, §5, §7).

The state alone does not say what happened: after authorization it stays ``AUTHORIZED`` through
captures, refunds and cancels. The ``aggregate`` says how much went where.

States and event names a newer API may add are kept as ``UNKNOWN`` with the raw text beside them,
so a payment in an unknown state is shown as such and never crashes a reader.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Self

from epay_desktop.domain.money import Currency, Money


class _ApiWord(enum.StrEnum):
    """A word of the API read leniently: one this version does not know (or ``UNKNOWN`` itself, which
    the API never sends) parses as the member ``UNKNOWN``; the caller keeps the raw text beside it."""

    @classmethod
    def parse(cls, text: object) -> Self:
        if isinstance(text, str) and text in cls.__members__ and text != "UNKNOWN":
            return cls(text)
        return cls["UNKNOWN"]


class State(_ApiWord):
    CREATED = "CREATED"
    AUTHORIZED = "AUTHORIZED"
    ABORTED = "ABORTED"
    EXPIRED = "EXPIRED"
    TERMINATED = "TERMINATED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_final(self) -> bool:
        """No transition leaves this state (AUTHORIZED is final too: only the aggregate moves)."""
        return self in (State.AUTHORIZED, State.ABORTED, State.EXPIRED, State.TERMINATED)

    @property
    def is_closed(self) -> bool:
        """Nothing about the payment can change any more, whatever anyone does."""
        return self in (State.ABORTED, State.EXPIRED, State.TERMINATED)


class EventName(_ApiWord):
    CREATED = "CREATED"
    AUTHORIZED = "AUTHORIZED"
    ABORTED = "ABORTED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    CAPTURED = "CAPTURED"
    REFUNDED = "REFUNDED"
    TERMINATED = "TERMINATED"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True, slots=True)
class Aggregate:
    authorized: Money
    captured: Money
    cancelled: Money
    refunded: Money

    @classmethod
    def zero(cls, currency: Currency) -> Aggregate:
        z = Money.zero(currency)
        return cls(z, z, z, z)

    @property
    def currency(self) -> Currency:
        return self.authorized.currency


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    reference: str
    psp_reference: str
    name: EventName
    amount: Money
    timestamp: datetime | None
    idempotency_key: str | None
    success: bool
    raw_name: str = ""

    @property
    def display_name(self) -> str:
        return self.name.value if self.name is not EventName.UNKNOWN else (self.raw_name or "UNKNOWN")


@dataclass(frozen=True, slots=True)
class Payment:
    reference: str
    amount: Money
    state: State
    aggregate: Aggregate
    psp_reference: str = ""
    description: str = ""
    payment_method: str = ""
    redirect_url: str | None = None
    raw_state: str = ""
    metadata: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    # Until when a capture is guaranteed to succeed (the API's ``captureGuaranteedUntil``); after it
    # the bank may already have released the reservation. None when the API does not say.
    capture_guaranteed_until: datetime | None = None

    @property
    def currency(self) -> Currency:
        return self.amount.currency

    @property
    def display_state(self) -> str:
        return self.state.value if self.state is not State.UNKNOWN else (self.raw_state or "UNKNOWN")
