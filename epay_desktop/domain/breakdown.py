"""Where a payment's amount went, part by part: what the aggregate bar draws and its tooltip lists.

Parts (all clamped at zero, so inconsistent data from a newer API never yields negative bars):
- captured: captured and kept (captured − refunded);
- refunded: captured, then given back;
- cancelled: released to the customer by a cancel;
- reserved: authorized and still reserved (authorized − captured − cancelled);
- awaiting: not authorized yet (state CREATED): the amount the customer is asked for.
The parts may add up to more than the amount when the API's figures do; drawers scale by ``scale``.
"""

from __future__ import annotations

from dataclasses import dataclass

from epay_desktop.domain.money import Money
from epay_desktop.domain.payment import Payment, State


@dataclass(frozen=True, slots=True)
class AmountBreakdown:
    amount: Money
    captured: Money
    refunded: Money
    cancelled: Money
    reserved: Money
    awaiting: Money

    def parts(self) -> tuple[tuple[str, Money], ...]:
        """Named parts in drawing order (left to right)."""
        return (
            ("captured", self.captured),
            ("refunded", self.refunded),
            ("cancelled", self.cancelled),
            ("reserved", self.reserved),
            ("awaiting", self.awaiting),
        )

    @property
    def scale(self) -> int:
        """The value a full-width bar stands for: the amount, or the sum of the parts if larger."""
        total = sum(m.value for _, m in self.parts())
        return max(self.amount.value, total)


def breakdown(payment: Payment) -> AmountBreakdown:
    agg = payment.aggregate
    zero = Money.zero(payment.currency)
    refunded = agg.refunded.clamp_at_zero()
    captured = (agg.captured - agg.refunded).clamp_at_zero()
    cancelled = agg.cancelled.clamp_at_zero()
    awaiting = payment.amount.clamp_at_zero() if payment.state is State.CREATED else zero
    if payment.state in (State.AUTHORIZED, State.UNKNOWN):
        reserved = (agg.authorized - agg.captured - agg.cancelled).clamp_at_zero()
    else:
        reserved = zero
    return AmountBreakdown(payment.amount, captured, refunded, cancelled, reserved, awaiting)
