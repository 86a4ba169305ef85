"""The business state people think in, derived from the API's state and the aggregate (the API's own
state stays in the details): after authorization the API says AUTHORIZED through every capture,
refund and cancel, so the aggregate decides.

Each state has one word for people and one badge colour; the word is always shown with the colour
(colour-blind people and dark mode read the word). The colours are mid-tones chosen to differ in
lightness as well as hue, with black or white text picked by luminance where they are drawn.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from epay_desktop.domain.money import Money, MoneyError
from epay_desktop.domain.payment import Payment, State
from epay_desktop.i18n import N_, _, translate
from epay_desktop.i18n.formats import money_text


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
        """The word people see, capitalised ("Partly captured"), in their language."""
        return translate(_LABELS[self])

    @property
    def colour(self) -> str:
        """The badge colour (hex)."""
        return BADGE_COLOURS[self]

    @property
    def open_for_capture(self) -> bool:
        """Something is still reserved ("to capture")."""
        return self in (BusinessState.RESERVED, BusinessState.PARTLY_CAPTURED)


# The words of the merchant portal in each language (see README "Translating": reserve, capture,
# cancel, refund).
_LABELS: dict[BusinessState, str] = {
    BusinessState.WAITING: N_("Waiting"),
    BusinessState.AUTHORIZING: N_("Authorizing"),
    BusinessState.RESERVED: N_("Reserved"),
    BusinessState.PARTLY_CAPTURED: N_("Partly captured"),
    BusinessState.CAPTURED: N_("Captured"),
    BusinessState.PARTLY_REFUNDED: N_("Partly refunded"),
    BusinessState.REFUNDED: N_("Refunded"),
    BusinessState.CANCELLED: N_("Cancelled"),
    BusinessState.EXPIRED: N_("Expired"),
    BusinessState.ABORTED: N_("Aborted"),
    BusinessState.TERMINATED: N_("Terminated"),
    BusinessState.UNKNOWN: N_("Unknown"),
}

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
    currency = payment.currency
    if not (
        agg.authorized.currency is currency
        and agg.captured.currency is currency
        and agg.cancelled.currency is currency
        and agg.refunded.currency is currency
    ):
        raise MoneyError(f"the aggregate of {payment.reference} mixes currencies with {currency}")
    return business_state_of(
        state,
        agg.authorized.value,
        agg.captured.value,
        agg.cancelled.value,
        agg.refunded.value,
        authorizing=authorizing,
    )


def business_state_of(
    state: State, authorized: int, captured: int, cancelled: int, refunded: int, *, authorizing: bool = False
) -> BusinessState:
    """``business_state`` from the API's state and the aggregate's amounts in one currency's minor
    units (a listed row keeps no records: ``domain.listed``)."""
    if state is not State.AUTHORIZED:
        if state is State.CREATED:
            return BusinessState.AUTHORIZING if authorizing else BusinessState.WAITING
        return _CLOSED.get(state, BusinessState.UNKNOWN)
    reserved = authorized - captured - cancelled
    if refunded > 0:
        return BusinessState.REFUNDED if refunded >= captured else BusinessState.PARTLY_REFUNDED
    if reserved > 0:
        return BusinessState.PARTLY_CAPTURED if captured > 0 else BusinessState.RESERVED
    if cancelled > 0:
        return BusinessState.CANCELLED  # the whole amount, or the remainder after a capture
    if captured > 0:
        return BusinessState.CAPTURED
    return BusinessState.RESERVED  # an authorization of nothing: nothing moved either way


_CLOSED = {
    State.EXPIRED: BusinessState.EXPIRED,
    State.ABORTED: BusinessState.ABORTED,
    State.TERMINATED: BusinessState.TERMINATED,
}


def business_states_of(
    codes: Sequence[int],
    table: Sequence[State],
    authorized: Sequence[int],
    captured: Sequence[int],
    cancelled: Sequence[int],
    refunded: Sequence[int],
) -> list[BusinessState | None]:
    """``business_state_of`` of many rows at once (none authorizing): row ``i`` is in state
    ``table[codes[i]]`` (None for a negative code: not fetched) with those amounts. The same rule in one
    loop without a call per row: a list of 100,000 payments is loaded with its business states in a
    fraction of the time (``tests/domain/test_business.py`` holds the two to the same answers)."""
    fixed = [
        None
        if state is State.AUTHORIZED
        else BusinessState.WAITING
        if state is State.CREATED
        else _CLOSED.get(state, BusinessState.UNKNOWN)
        for state in table
    ]
    refunded_all, refunded_part = BusinessState.REFUNDED, BusinessState.PARTLY_REFUNDED
    reserved_all, captured_part = BusinessState.RESERVED, BusinessState.PARTLY_CAPTURED
    cancelled_kind, captured_kind = BusinessState.CANCELLED, BusinessState.CAPTURED
    out: list[BusinessState | None] = []
    append = out.append
    for row, code in enumerate(codes):
        if code < 0:
            append(None)
            continue
        kind = fixed[code]
        if kind is not None:
            append(kind)
            continue
        took, back = captured[row], refunded[row]
        if back > 0:
            append(refunded_all if back >= took else refunded_part)
        elif authorized[row] - took - cancelled[row] > 0:
            append(captured_part if took > 0 else reserved_all)
        elif cancelled[row] > 0:
            append(cancelled_kind)
        elif took > 0:
            append(captured_kind)
        else:
            append(reserved_all)
    return out


def _money(money: Money) -> str:
    return money_text(money.value, money.currency.value, money.currency.minor_digits)


def state_sentence(payment: Payment) -> str:
    """The business state with the money it is about, for a status line ("Cancelled: 117.00 NOK
    released", "Partly captured: 250.00 NOK captured, 750.00 NOK reserved")."""
    state = business_state(payment)
    agg = payment.aggregate
    reserved = (agg.authorized - agg.captured - agg.cancelled).clamp_at_zero()
    if state is BusinessState.CANCELLED:
        return _("Cancelled: {amount} released").format(amount=_money(agg.cancelled))
    if state is BusinessState.TERMINATED:
        return _("Terminated: {amount} released").format(amount=_money(payment.amount))
    if state is BusinessState.PARTLY_CAPTURED:
        return _("Partly captured: {captured} captured, {reserved} reserved").format(
            captured=_money(agg.captured), reserved=_money(reserved)
        )
    if state is BusinessState.CAPTURED:
        return _("Captured: {amount}").format(amount=_money(agg.captured))
    if state is BusinessState.PARTLY_REFUNDED:
        return _("Partly refunded: {refunded} of {captured} refunded").format(
            refunded=_money(agg.refunded), captured=_money(agg.captured)
        )
    if state is BusinessState.REFUNDED:
        return _("Refunded: {refunded} of {captured} refunded").format(
            refunded=_money(agg.refunded), captured=_money(agg.captured)
        )
    if state is BusinessState.RESERVED:
        return _("Reserved: {amount}").format(amount=_money(reserved))
    return state.label


__all__ = [
    "BADGE_COLOURS",
    "BusinessState",
    "business_state",
    "business_state_of",
    "business_states_of",
    "state_sentence",
]
