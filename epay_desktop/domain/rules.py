"""What an action would do, derived in one place from state and aggregate (ENGINEERING.md §4).

- releasable (what a cancel releases) = authorized − captured − cancelled, or the whole amount
  before authorization;
- capturable = authorized − captured − cancelled;
- refundable = captured − refunded.

The buttons, the bars, the dialog text and the command line all read these functions.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from epay_desktop.domain.money import Money
from epay_desktop.domain.payment import Payment, State
from epay_desktop.i18n import _
from epay_desktop.i18n.formats import money_text


class Action(enum.StrEnum):
    CANCEL = "cancel"
    CAPTURE = "capture"
    REFUND = "refund"


def releasable(payment: Payment) -> Money:
    """What a cancel would release to the customer now (zero when a cancel can have no effect)."""
    agg = payment.aggregate
    if payment.state is State.CREATED:
        return payment.amount
    if payment.state is State.AUTHORIZED:
        return (agg.authorized - agg.captured - agg.cancelled).clamp_at_zero()
    return Money.zero(payment.currency)


def capturable(payment: Payment) -> Money:
    if payment.state is not State.AUTHORIZED:
        return Money.zero(payment.currency)
    agg = payment.aggregate
    return (agg.authorized - agg.captured - agg.cancelled).clamp_at_zero()


def refundable(payment: Payment) -> Money:
    if payment.state is not State.AUTHORIZED:
        return Money.zero(payment.currency)
    agg = payment.aggregate
    return (agg.captured - agg.refunded).clamp_at_zero()


@dataclass(frozen=True, slots=True)
class ActionCheck:
    """Whether an action can have an effect now; ``reason`` says why not, in words for people."""

    action: Action
    allowed: bool
    amount: Money
    reason: str = ""
    later: bool = False  # not now, but it may be possible later (the customer is in 3-D Secure)


def check_action(payment: Payment, action: Action, *, authorizing: bool = False) -> ActionCheck:
    """``authorizing``: the sandbox says the customer is in 3-D Secure right now; the API refuses a
    cancel until that ends, so it is "not now" rather than "yes"."""
    state = payment.state
    agg = payment.aggregate
    zero = Money.zero(payment.currency)
    if state is State.UNKNOWN:
        return ActionCheck(
            action,
            False,
            zero,
            _(
                "The payment is in a state this app does not know ({state}); "
                "refresh it or use the merchant portal."
            ).format(state=payment.display_state),
        )
    if state.is_closed:
        closed = {
            State.ABORTED: _("The customer aborted the payment: nothing can change it."),
            State.EXPIRED: _("The payment expired: nothing can change it."),
            State.TERMINATED: _("The payment is terminated: nothing can change it."),
        }
        return ActionCheck(
            action, False, zero, closed.get(state, _("The payment is closed: nothing can change it."))
        )
    if action is Action.CANCEL and state is State.CREATED and authorizing:
        return ActionCheck(
            action,
            False,
            zero,
            # Short: it must fit the details panel's line at 200 % scaling.
            _("The customer is in 3-D Secure; the API refuses a cancel until it ends."),
            later=True,
        )
    if action is Action.CANCEL:
        amount = releasable(payment)
        if amount:
            return ActionCheck(action, True, amount)
        if agg.cancelled:
            return ActionCheck(action, False, zero, _("Already cancelled: the remainder was released."))
        if agg.captured and agg.captured >= agg.authorized:
            return ActionCheck(action, False, zero, _("Fully captured: refund instead."))
        return ActionCheck(action, False, zero, _("Nothing is reserved that a cancel could release."))
    if action is Action.CAPTURE:
        if state is State.CREATED:
            return ActionCheck(action, False, zero, _("The customer has not approved the payment yet."))
        amount = capturable(payment)
        if amount:
            return ActionCheck(action, True, amount)
        if agg.cancelled:
            return ActionCheck(
                action, False, zero, _("The remainder was cancelled: nothing more can be captured.")
            )
        return ActionCheck(action, False, zero, _("Fully captured."))
    if state is State.CREATED:
        return ActionCheck(action, False, zero, _("Nothing has been captured yet."))
    amount = refundable(payment)
    if amount:
        return ActionCheck(action, True, amount)
    if agg.captured:
        return ActionCheck(action, False, zero, _("Everything captured has been refunded."))
    return ActionCheck(action, False, zero, _("Nothing has been captured yet."))


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """What a cancel would do: how much is released and the state afterwards."""

    released: Money
    state_after: State
    captured_kept: Money

    def describe(self) -> str:
        """What the cancel does, for the confirmation, with the money in the person's language."""
        released = _money(self.released)
        if self.state_after is State.TERMINATED:
            return _(
                "{released} will be released to the customer. The payment is closed (TERMINATED)."
            ).format(released=released)
        if self.captured_kept:
            return _(
                "{released} will be released to the customer. The {captured} already captured is not "
                "touched and can still be refunded."
            ).format(
                released=released,
                captured=money_text(self.captured_kept.value, self.captured_kept.currency.value),
            )
        return _("{released} will be released to the customer. Nothing will be left to capture.").format(
            released=released
        )


def _money(money: Money) -> str:
    return money_text(money.value, money.currency.value, money.currency.minor_digits)


def cancel_outcome(payment: Payment) -> CancelOutcome | None:
    """The effect of a cancel now, or ``None`` when a cancel cannot have an effect."""
    check = check_action(payment, Action.CANCEL)
    if not check.allowed:
        return None
    state_after = State.TERMINATED if payment.state is State.CREATED else State.AUTHORIZED
    return CancelOutcome(check.amount, state_after, payment.aggregate.captured)


def projected(payment: Payment, action: Action, amount: Money) -> Payment:
    """The payment as it would be after ``action`` of ``amount`` (for the "after" picture of a
    confirmation; the API's answer is what is shown afterwards). A cancel releases what is releasable,
    whatever ``amount``."""
    agg = payment.aggregate
    if action is Action.CAPTURE:
        return replace(payment, aggregate=replace(agg, captured=agg.captured + amount))
    if action is Action.REFUND:
        return replace(payment, aggregate=replace(agg, refunded=agg.refunded + amount))
    if payment.state is State.CREATED:
        return replace(payment, state=State.TERMINATED)
    return replace(payment, aggregate=replace(agg, cancelled=agg.cancelled + releasable(payment)))
