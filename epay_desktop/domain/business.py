"""The business state people think in, derived from the API's state and the aggregate (the API's own
state stays in the details): after authorization the API says AUTHORIZED through every capture,
refund and cancel, so the aggregate decides.

Each state has one word for people and one badge colour; the word is always shown with the colour
(colour-blind people and dark mode read the word). The colours are mid-tones chosen to differ in
lightness as well as hue, with black or white text picked by luminance where they are drawn.
"""

from __future__ import annotations

import enum

from epay_desktop.domain.money import Money
from epay_desktop.domain.payment import Payment, State


class BusinessState(enum.StrEnum):
    WAITING = "waiting"  # CREATED: waiting for the customer
    AUTHORIZING = "authorizing"  # CREATED, the customer is in 3-D Secure (where the sandbox says so)
    RESERVED = "reserved"  # AUTHORIZED, nothing captured, nothing released
    PARTLY_CAPTURED = "partly captured"  # some captured, some still reserved
    CAPTURED = "captured"  # everything that was not released is captured, nothing refunded
    PARTLY_REFUNDED = "partly refunded"
    REFUNDED = "refunded"  # everything captured was given back
    CANCELLED = "cancelled"  # released: the whole amount, or the remainder after a capture
    EXPIRED = "expired"
    ABORTED = "aborted"
    TERMINATED = "terminated"  # cancelled before the customer approved
    UNKNOWN = "unknown"  # a state a newer API added

    @property
    def label(self) -> str:
        """The word people see, capitalised ("Partly captured")."""
        return self.value[:1].upper() + self.value[1:]

    @property
    def colour(self) -> str:
        """The badge colour (hex)."""
        return BADGE_COLOURS[self]

    @property
    def open_for_capture(self) -> bool:
        """Something is still reserved ("to capture")."""
        return self in (BusinessState.RESERVED, BusinessState.PARTLY_CAPTURED)


BADGE_COLOURS: dict[BusinessState, str] = {
    BusinessState.WAITING: "#9e9e9e",
    BusinessState.AUTHORIZING: "#7e57c2",
    BusinessState.RESERVED: "#1e88e5",
    BusinessState.PARTLY_CAPTURED: "#26a69a",
    BusinessState.CAPTURED: "#2e7d32",
    BusinessState.PARTLY_REFUNDED: "#f9a825",
    BusinessState.REFUNDED: "#ef6c00",
    BusinessState.CANCELLED: "#6d4c41",
    BusinessState.EXPIRED: "#757575",
    BusinessState.ABORTED: "#c62828",
    BusinessState.TERMINATED: "#ad1457",
    BusinessState.UNKNOWN: "#455a64",
}


def business_state(payment: Payment, *, authorizing: bool = False) -> BusinessState:
    """The state people think in (see the module); ``authorizing``: the sandbox says the customer is
    in 3-D Secure right now (the real API does not say it)."""
    state = payment.state
    if state is State.CREATED:
        return BusinessState.AUTHORIZING if authorizing else BusinessState.WAITING
    if state is State.EXPIRED:
        return BusinessState.EXPIRED
    if state is State.ABORTED:
        return BusinessState.ABORTED
    if state is State.TERMINATED:
        return BusinessState.TERMINATED
    if state is not State.AUTHORIZED:
        return BusinessState.UNKNOWN
    agg = payment.aggregate
    zero = Money.zero(payment.currency)
    captured, refunded, cancelled = agg.captured, agg.refunded, agg.cancelled
    reserved = (agg.authorized - captured - cancelled).clamp_at_zero()
    if refunded > zero:
        return BusinessState.REFUNDED if refunded >= captured else BusinessState.PARTLY_REFUNDED
    if reserved > zero:
        return BusinessState.PARTLY_CAPTURED if captured > zero else BusinessState.RESERVED
    if cancelled > zero:
        return BusinessState.CANCELLED  # the whole amount, or the remainder after a capture
    if captured > zero:
        return BusinessState.CAPTURED
    return BusinessState.RESERVED  # an authorization of nothing: nothing moved either way


def state_sentence(payment: Payment) -> str:
    """The business state with the money it is about, for a status line ("Cancelled: 117.00 NOK
    released", "Partly captured: 250.00 NOK captured, 750.00 NOK reserved")."""
    state = business_state(payment)
    agg = payment.aggregate
    reserved = (agg.authorized - agg.captured - agg.cancelled).clamp_at_zero()
    if state is BusinessState.CANCELLED:
        return f"{state.label}: {agg.cancelled.plain()} released"
    if state is BusinessState.TERMINATED:
        return f"{state.label}: {payment.amount.plain()} released"
    if state is BusinessState.PARTLY_CAPTURED:
        return f"{state.label}: {agg.captured.plain()} captured, {reserved.plain()} reserved"
    if state is BusinessState.CAPTURED:
        return f"{state.label}: {agg.captured.plain()}"
    if state in (BusinessState.PARTLY_REFUNDED, BusinessState.REFUNDED):
        return f"{state.label}: {agg.refunded.plain()} of {agg.captured.plain()} refunded"
    if state is BusinessState.RESERVED:
        return f"{state.label}: {reserved.plain()}"
    return state.label


__all__ = ["BADGE_COLOURS", "BusinessState", "business_state", "state_sentence"]
