"""What one event does to a payment (FACTS.md §7): how a snapshot moves forward when an event is
learnt before the payment is read again (a webhook).

Only successful events move anything. The state changes only out of CREATED; after authorization the
aggregate moves (captured, cancelled, refunded). An event that cannot be placed (a capture of a payment
never seen, another currency, an unknown name) leaves the snapshot as it was: the next read settles it.
"""

from __future__ import annotations

from dataclasses import replace

from epay_desktop.domain.money import Money
from epay_desktop.domain.payment import Aggregate, EventName, Payment, PaymentEvent, State

_ENDS = {EventName.ABORTED: State.ABORTED, EventName.EXPIRED: State.EXPIRED}


def apply_event(payment: Payment | None, event: PaymentEvent) -> Payment | None:
    """The payment after ``event`` (``payment`` itself when the event does not move it; ``None`` when
    there is no payment yet and the event alone cannot make one)."""
    if not event.success or event.name is EventName.UNKNOWN:
        return payment
    amount = event.amount
    if payment is None:
        zero = Aggregate.zero(amount.currency)
        if event.name is EventName.CREATED:
            return Payment(event.reference, amount, State.CREATED, zero)
        if event.name is EventName.AUTHORIZED:
            return Payment(event.reference, amount, State.AUTHORIZED, replace(zero, authorized=amount))
        return None
    if amount.currency is not payment.currency:
        return payment
    total = payment.aggregate
    name = event.name
    if payment.state is State.CREATED:
        if name is EventName.AUTHORIZED:
            return replace(payment, state=State.AUTHORIZED, aggregate=replace(total, authorized=amount))
        if name in _ENDS:
            return replace(payment, state=_ENDS[name])
        if name is EventName.TERMINATED:
            return replace(payment, state=State.TERMINATED, aggregate=replace(total, cancelled=amount))
        return payment
    if payment.state is not State.AUTHORIZED:
        return payment
    moved: dict[EventName, str] = {
        EventName.CAPTURED: "captured",
        EventName.CANCELLED: "cancelled",
        EventName.REFUNDED: "refunded",
    }
    field = moved.get(name)
    if field is None:
        return payment
    before: Money = getattr(total, field)
    return replace(payment, aggregate=replace(total, **{field: before + amount}))
