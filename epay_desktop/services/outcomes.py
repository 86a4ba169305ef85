"""Pure reading of what a money-moving call did: from the event log, and in words for people."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from epay_desktop.domain import EventName, Money, Payment, PaymentEvent, State
from epay_desktop.i18n import _
from epay_desktop.i18n.formats import money_text
from epay_desktop.store import Intent, Operation

EFFECT_EVENTS: dict[Operation, frozenset[EventName]] = {
    Operation.CANCEL: frozenset({EventName.CANCELLED, EventName.TERMINATED}),
    Operation.CAPTURE: frozenset({EventName.CAPTURED}),
    Operation.REFUND: frozenset({EventName.REFUNDED}),
}

PAST = {Operation.CANCEL: "cancelled", Operation.CAPTURE: "captured", Operation.REFUND: "refunded"}


# The intent's time is this machine's clock, an event's the server's: a cancel event up to this much
# "before" the intent was written still counts as after it.
CLOCK_SKEW = timedelta(minutes=2)


def find_effect(
    intent: Intent, payment: Payment | None, events: Sequence[PaymentEvent]
) -> PaymentEvent | None:
    """The event that shows the intent took effect, or None.

    An event carrying the intent's Idempotency-Key is proof. For a cancel, the API may leave the key
    out of its event (FACTS.md §5), so a successful CANCELLED or TERMINATED event WITHOUT a key, dated
    after the intent was written (within ``CLOCK_SKEW``), counts too: a cancel releases the whole
    remainder once. An event with another key is someone else's, and one from before the intent is
    older than it: neither is ours (a resend with our key then gets the API's own answer). A capture or
    refund without our key in the log is not settled here: it is sent again with the same key, which
    the API answers without moving money twice.
    """
    names = EFFECT_EVENTS[intent.operation]
    effects = [e for e in events if e.success and e.name in names]
    for event in effects:
        if event.idempotency_key == intent.idempotency_key:
            return event
    if intent.operation is not Operation.CANCEL:
        return None
    after = intent.created_at - CLOCK_SKEW
    keyless = [
        e for e in effects if not e.idempotency_key and e.timestamp is not None and _utc(e.timestamp) >= after
    ]
    if keyless:
        return keyless[0]
    if payment is not None and payment.state is State.TERMINATED and not effects:
        # The state says so even if the event log is behind (and nothing in it says otherwise).
        return PaymentEvent(payment.reference, "", EventName.TERMINATED, payment.amount, None, None, True)
    return None


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def moved_amount(
    intent: Intent, before: Payment | None, after: Payment | None, effect: PaymentEvent | None
) -> Money:
    """How much the operation moved: for a cancel, the growth of the cancelled amount."""
    if intent.operation is not Operation.CANCEL and intent.amount is not None:
        return intent.amount
    if after is not None and before is not None and after.currency is before.currency:
        grown = after.aggregate.cancelled - before.aggregate.cancelled
        if grown.value > 0:
            return grown
    if effect is not None and effect.amount.value > 0:
        return effect.amount
    if after is not None:
        if after.aggregate.cancelled.value > 0:
            return after.aggregate.cancelled
        return Money.zero(after.currency)
    if intent.amount is not None:
        return Money.zero(intent.amount.currency)
    raise ValueError("no amount is known for this operation")


def success_message(
    intent: Intent,
    moved: Money,
    after: Payment | None,
    *,
    reconciled: bool,
    effect: PaymentEvent | None = None,
) -> str:
    ref = intent.reference
    amount = money_text(moved.value, moved.currency.value, moved.currency.minor_digits)
    if intent.operation is Operation.CANCEL:
        if after is not None and after.state is State.TERMINATED:
            text = _("Cancelled {reference}: {amount} released to the customer. The payment is now closed.")
        else:
            text = _("Cancelled {reference}: {amount} released to the customer.")
    elif intent.operation is Operation.CAPTURE:
        text = _("Captured {amount} of {reference}.")
    else:
        text = _("Refunded {amount} of {reference} to the customer.")
    text = text.format(reference=ref, amount=amount)
    if reconciled:
        return _("{sentence} The answer to the request was lost; {evidence}").format(
            sentence=text, evidence=_evidence(intent, effect)
        )
    return text


def _evidence(intent: Intent, effect: PaymentEvent | None) -> str:
    """What showed it happened; our key is claimed only when the event carries it."""
    key = intent.idempotency_key
    if effect is None or effect.idempotency_key == key:
        return _("the payment's event log shows it went through (idempotency key {key}).").format(key=key)
    if effect.timestamp is not None:
        at = _utc(effect.timestamp).astimezone(UTC)
        return _(
            "the payment's event log shows a {event} at {time} UTC, after this request was written (the "
            "event does not carry our idempotency key {key})."
        ).format(event=effect.name.value, time=f"{at:%Y-%m-%d %H:%M:%S}", key=key)
    return _(
        "the payment is now {event}, which only a cancel does (the event log does not show our "
        "idempotency key {key})."
    ).format(event=effect.name.value, key=key)
