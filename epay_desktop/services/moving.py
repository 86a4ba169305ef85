"""Money moves of one desk: cancel, capture and refund, each an intent sent through the journaled-send
engine (``engine.py``).

The payment is read again right before the intent is committed, and what the person confirmed is
checked against it; the part that commits and sends runs as its own shielded task (``InFlight``), so a
cancelled caller does not abandon it. Success is reported only after the API confirmed it, directly or
through the event log. See README.md, "The journal".
"""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from epay_desktop.domain import Action, Money, check_action
from epay_desktop.i18n import _
from epay_desktop.services.claims import InFlight
from epay_desktop.services.context import DeskContext
from epay_desktop.services.elsewhere import before_moving, profile_environment
from epay_desktop.services.engine import REPEAT_WINDOW, SendEngine, SendResult
from epay_desktop.services.errors import (
    ActionNotPossibleError,
    NotTrackedError,
    OperationPendingError,
    PendingElsewhereError,
    RepeatNotConfirmedError,
    StaleConfirmationError,
)
from epay_desktop.services.results import CancelResult, OperationResult
from epay_desktop.services.tracking import RegisterTracking
from epay_desktop.store import Operation

ACTION_OF = {
    Operation.CANCEL: Action.CANCEL,
    Operation.CAPTURE: Action.CAPTURE,
    Operation.REFUND: Action.REFUND,
}


class MoneyMoves:
    """Cancel, capture and refund of one desk."""

    def __init__(
        self, context: DeskContext, claims: InFlight, tracking: RegisterTracking, engine: SendEngine
    ) -> None:
        self.context = context
        self.claims = claims
        self.tracking = tracking
        self.engine = engine

    async def cancel(
        self, reference: str, *, expected_release: Money | None = None, reason: str = ""
    ) -> CancelResult:
        """Cancel (release what is not captured). The payment is read again (GET) right before the
        intent is committed: ``ActionNotPossibleError`` when a cancel can have no effect now, and
        ``StaleConfirmationError`` (with the fresh figures) when ``expected_release`` (what the person
        confirmed) differs from what it would release now; nothing is sent in either case. Raises the
        client's ``ApiError`` unchanged when the API refuses, and ``OutcomeUnknownError`` when the answer
        was lost and the event log does not show the cancel yet (the intent stays pending;
        ``recover_pending``, ``resume_intent`` or a new try finishes it)."""
        done = await self._move(
            Operation.CANCEL, reference, None, expected_release=expected_release, reason=reason
        )
        return CancelResult(done.tracked, done.moved, done.reconciled, done.message)

    async def capture(
        self, reference: str, amount: Money, *, key: str | None = None, reason: str = "", again: bool = False
    ) -> OperationResult:
        """Capture ``amount`` (at most what is capturable now). ``key``: the Idempotency-Key to begin
        the intent with; the key of a capture the API refused with "try again later" (6280 and the
        other ``api.retry_with_same_key`` refusals) sends that capture again, reopened by the journal.
        ``reason``: why, in the person's words, for the audit log. ``again``: the person confirmed a
        second capture of the same amount made minutes after one succeeded (``RepeatNotConfirmedError``
        otherwise)."""
        done = await self._move(Operation.CAPTURE, reference, amount, key=key, reason=reason, again=again)
        return OperationResult(done.tracked, done.moved, done.reconciled, done.message)

    async def refund(
        self, reference: str, amount: Money, *, key: str | None = None, reason: str = "", again: bool = False
    ) -> OperationResult:
        """Refund ``amount`` (at most what is refundable now); ``key``, ``reason`` and ``again`` as
        for :meth:`capture`."""
        done = await self._move(Operation.REFUND, reference, amount, key=key, reason=reason, again=again)
        return OperationResult(done.tracked, done.moved, done.reconciled, done.message)

    async def _move(
        self,
        operation: Operation,
        reference: str,
        amount: Money | None,
        *,
        expected_release: Money | None = None,
        key: str | None = None,
        reason: str = "",
        again: bool = False,
    ) -> SendResult:
        self.context.writable(_cannot_move(operation, reference))
        self.claims.claim(reference, operation)
        try:
            send = await self._prepare(operation, reference, amount, expected_release, again, key, reason)
        except BaseException:
            self.claims.release(reference)  # nothing was committed or sent
            raise
        return await self.claims.shield(reference, send)

    async def _prepare(
        self,
        operation: Operation,
        reference: str,
        amount: Money | None,
        expected_release: Money | None,
        again: bool = False,
        key: str | None = None,
        reason: str = "",
    ) -> Coroutine[Any, Any, SendResult]:
        """The checks (cancellable: nothing is committed or sent here); returns the part that sends."""
        kept = await self.tracking.tracked(reference)
        if kept is None:
            raise NotTrackedError(
                _("{reference} is not in the register of {profile}.").format(
                    reference=reference, profile=self.context.profile.name
                )
            )
        pending = await self.engine.pending(reference=reference, everywhere=True)
        for intent in pending:
            same_amount = operation is Operation.CANCEL or intent.amount == amount
            if intent.operation is operation and same_amount:
                # The same operation was sent before without a known outcome: finish that one, with
                # its key, instead of starting a second one (by the engine's resend rule).
                return self.engine.resume(intent, kept.payment)
        if pending:
            other = pending[0]
            raise OperationPendingError(
                _pending_text(other.operation).format(
                    reference=reference, time=f"{other.created_at:%Y-%m-%d %H:%M}"
                )
            )
        # epay's journal, or another profile's register for this merchant, may hold one without an
        # outcome, or the same capture or refund confirmed minutes ago (then ask, as this journal's own
        # repeat check does: the fresh read below cannot tell a repeat by mistake from one that was meant).
        elsewhere = await before_moving(
            base_url=profile_environment(self.context.profile),
            msn=self.context.msn,
            reference=reference,
            operation=operation,
            amount=amount,
            since=datetime.now(UTC) - REPEAT_WINDOW,
            here=self.context.store.path,
        )
        if elsewhere.pending:
            raise PendingElsewhereError(elsewhere.pending[0])
        if not again and elsewhere.repeated is not None:
            raise RepeatNotConfirmedError(elsewhere.repeated)
        # What the person saw may be old (another window, the portal, a capture elsewhere): decide on
        # the payment as it is now. A failed read raises the client's error; nothing was sent.
        fresh = await self.tracking.refresh(reference)
        payment = fresh.payment
        assert payment is not None
        check = check_action(payment, ACTION_OF[operation])
        if not check.allowed:
            raise ActionNotPossibleError(check.reason)
        if (
            expected_release is not None
            and operation is Operation.CANCEL
            and check.amount != expected_release
        ):
            raise StaleConfirmationError(fresh, expected_release, check.amount)
        if amount is not None and (
            amount.currency is not payment.currency or amount.value <= 0 or amount > check.amount
        ):
            raise ActionNotPossibleError(
                (
                    _("At most {most} can be captured now; {asked} was asked.")
                    if operation.value == "capture"
                    else _("At most {most} can be refunded now; {asked} was asked.")
                ).format(most=check.amount.plain(), asked=amount.plain())
            )
        # For a cancel the amount is what it would release now (for the audit); the API releases the
        # whole remainder whatever it is.
        return self.engine.begin_and_send(
            operation,
            reference,
            amount if amount is not None else check.amount,
            payment,
            again=again,
            key=key,
            reason=reason,
        )


def _cannot_move(operation: Operation, reference: str) -> str:
    """One whole sentence per operation (the verb belongs to the sentence in every language)."""
    if operation is Operation.CANCEL:
        return _("Cannot cancel {reference}.").format(reference=reference)
    if operation is Operation.CAPTURE:
        return _("Cannot capture {reference}.").format(reference=reference)
    return _("Cannot refund {reference}.").format(reference=reference)


def _pending_text(operation: Operation) -> str:
    """Another operation on the payment has no known outcome: one whole sentence per operation."""
    if operation is Operation.CANCEL:
        return _(
            "A cancel of {reference} sent at {time} UTC has no known outcome yet. Finish it first: send it "
            "again (same key, it cannot happen twice) or abandon it (after the event log shows it did not "
            "happen)."
        )
    if operation is Operation.CAPTURE:
        return _(
            "A capture of {reference} sent at {time} UTC has no known outcome yet. Finish it first: send it "
            "again (same key, it cannot happen twice) or abandon it (after the event log shows it did not "
            "happen)."
        )
    return _(
        "A refund of {reference} sent at {time} UTC has no known outcome yet. Finish it first: send it "
        "again (same key, it cannot happen twice) or abandon it (after the event log shows it did not "
        "happen)."
    )
