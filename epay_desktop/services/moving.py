"""The journaled money movement of ``PaymentDesk``: cancel, capture and refund, each an intent.

The payment is read again right before the intent is committed (durably) with its own Idempotency-Key;
the part that commits and sends runs as its own shielded task, so a cancelled caller does not abandon
it. Success is reported only after the API confirmed it, directly or through the event log
(reconciliation). See README.md, "The journal".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from epay_desktop.api import (
    EPaymentError,
    NotSentError,
    OutcomeUnknownError,
    RefusedError,
    new_idempotency_key,
    redact,
)
from epay_desktop.domain import Action, Money, Payment, TrackedPayment, check_action
from epay_desktop.services.errors import (
    ActionNotPossibleError,
    NotTrackedError,
    OperationFinishedError,
    OperationPendingError,
    StaleConfirmationError,
    said,
)
from epay_desktop.services.outcomes import find_effect, moved_amount, success_message
from epay_desktop.services.results import CancelResult, OperationResult
from epay_desktop.services.tracking import TrackingDesk
from epay_desktop.store import Intent, IntentFinishedError, IntentPendingError, IntentStatus, Operation

log = logging.getLogger(__name__)
T = TypeVar("T")

ACTION_OF = {
    Operation.CANCEL: Action.CANCEL,
    Operation.CAPTURE: Action.CAPTURE,
    Operation.REFUND: Action.REFUND,
}


class MovingDesk(TrackingDesk):
    """Cancel, capture and refund through the journal (part of ``PaymentDesk``)."""

    async def cancel(self, reference: str, *, expected_release: Money | None = None) -> CancelResult:
        """Cancel (release what is not captured). The payment is read again (GET) right before the
        intent is committed: ``ActionNotPossibleError`` when a cancel can have no effect now, and
        ``StaleConfirmationError`` (with the fresh figures) when ``expected_release`` (what the person
        confirmed) differs from what it would release now; nothing is sent in either case. Raises the
        client's ``ApiError`` unchanged when the API refuses, and ``OutcomeUnknownError`` when the answer
        was lost and the event log does not show the cancel yet (the intent stays pending;
        ``recover_pending``, ``resume_intent`` or a new try finishes it)."""
        tracked, moved, reconciled, message = await self._move(
            Operation.CANCEL, reference, None, expected_release=expected_release
        )
        return CancelResult(tracked, moved, reconciled, message)

    async def capture(self, reference: str, amount: Money) -> OperationResult:
        tracked, moved, reconciled, message = await self._move(Operation.CAPTURE, reference, amount)
        return OperationResult(tracked, moved, reconciled, message)

    async def refund(self, reference: str, amount: Money) -> OperationResult:
        tracked, moved, reconciled, message = await self._move(Operation.REFUND, reference, amount)
        return OperationResult(tracked, moved, reconciled, message)

    def _claim(self, reference: str, operation: Operation) -> None:
        """Mark ``reference`` busy in this desk, or refuse: one money-moving call per payment at a time."""
        busy = self._in_flight.get(reference)
        if busy is not None:
            raise OperationPendingError(
                f"A {busy.value} of {reference} is in progress right now. Nothing more was sent; wait for "
                "its outcome."
            )
        self._in_flight[reference] = operation

    async def _move(
        self,
        operation: Operation,
        reference: str,
        amount: Money | None,
        *,
        expected_release: Money | None = None,
    ) -> tuple[TrackedPayment, Money, bool, str]:
        self._writable(f"{operation.value} {reference}")
        self._claim(reference, operation)
        try:
            send = await self._prepare_move(operation, reference, amount, expected_release)
        except BaseException:
            del self._in_flight[reference]  # nothing was committed or sent
            raise
        return await self._shielded(reference, send)

    def _shielded(self, reference: str, send: Coroutine[Any, Any, T]) -> Awaitable[T]:
        """Run the part that commits an intent and sends it as its own task, shielded: a caller that is
        cancelled (window closed, profile switched) stops waiting, but the call goes on and its outcome
        is recorded. The claim on ``reference`` ends with the task; ``drain`` waits for it."""
        task = asyncio.ensure_future(send)
        self._moving[reference] = task

        def done(finished: asyncio.Future[T]) -> None:
            self._moving.pop(reference, None)
            self._in_flight.pop(reference, None)
            error = None if finished.cancelled() else finished.exception()
            if error is not None:  # retrieved here too, for when nobody awaits it any more
                log.info("money-moving call on %s ended: %s", reference, said(error))

        task.add_done_callback(done)
        return asyncio.shield(task)

    def busy_references(self) -> frozenset[str]:
        """Payments with a money-moving call committed and in flight in this desk (it will finish and
        record its outcome even if nobody waits for it). Ask before closing or switching profile."""
        return frozenset(self._moving)

    async def drain(self) -> None:
        """Wait until every money-moving call in flight in this desk has finished and recorded its
        outcome (``aclose`` does this first). Close the client only after this."""
        while self._moving:
            await asyncio.wait(list(self._moving.values()))

    async def _prepare_move(
        self, operation: Operation, reference: str, amount: Money | None, expected_release: Money | None
    ) -> Coroutine[Any, Any, tuple[TrackedPayment, Money, bool, str]]:
        """The checks (cancellable: nothing is committed or sent here); returns the part that sends."""
        tracked = await self.tracked(reference)
        if tracked is None:
            raise NotTrackedError(f"{reference} is not in the register of {self._profile.name}.")
        pending = await self._db(self.store.journal.pending, msn=self.msn, reference=reference)
        for intent in pending:
            same_amount = operation is Operation.CANCEL or intent.amount == amount
            if intent.operation is operation and same_amount:
                # The same operation was sent before without a known outcome: finish that one, with
                # its key, instead of starting a second one.
                return self._resume(intent)
        if pending:
            other = pending[0]
            raise OperationPendingError(
                f"A {other.operation.value} of {reference} sent at {other.created_at:%Y-%m-%d %H:%M} UTC has "
                "no known outcome yet. Finish it first: send it again (same key, it cannot happen twice) or "
                "abandon it (after the event log shows it did not happen)."
            )
        # What the person saw may be old (another window, the portal, a capture elsewhere): decide on
        # the payment as it is now. A failed read raises the client's error; nothing was sent.
        fresh = await self.refresh(reference)
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
                f"At most {check.amount.plain()} can be {operation.value}d now; {amount.plain()} was asked."
            )
        return self._begin_and_send(
            operation, reference, amount if amount is not None else check.amount, payment
        )

    async def _begin_and_send(
        self, operation: Operation, reference: str, amount: Money, payment: Payment
    ) -> tuple[TrackedPayment, Money, bool, str]:
        try:
            intent = await self._db(
                self.store.journal.begin,
                operation=operation,
                profile=self._profile.name,
                msn=self.msn,
                reference=reference,
                # For a cancel the amount is what it would release now (for the audit); the API
                # releases the whole remainder whatever it is.
                amount=amount,
                idempotency_key=new_idempotency_key(),
                os_user=self.operator,
            )
        except IntentPendingError as error:
            # Another desk (window, copy of the app, process) began one on this payment meanwhile.
            other = error.intent
            raise OperationPendingError(
                f"A {other.operation.value} of {reference} was started at {other.created_at:%H:%M:%S} UTC "
                f"by {other.os_user} (another window or copy of the app) and is in progress or has no known "
                "outcome yet. Nothing more was sent; wait for it, then refresh the payment."
            ) from None
        return await self._attempt(intent, payment, resumed=False)

    async def _send(self, intent: Intent) -> Payment:
        key = intent.idempotency_key
        if intent.operation is Operation.CANCEL:
            return await self.client.cancel(intent.reference, idempotency_key=key)
        assert intent.amount is not None
        if intent.operation is Operation.CAPTURE:
            return await self.client.capture(intent.reference, intent.amount, idempotency_key=key)
        return await self.client.refund(intent.reference, intent.amount, idempotency_key=key)

    async def _attempt(
        self, intent: Intent, before: Payment | None, *, resumed: bool, source: str = "operation"
    ) -> tuple[TrackedPayment, Money, bool, str]:
        try:
            attempts = await self._db(self.store.journal.note_attempt, intent.id)
        except IntentFinishedError as error:
            # Finished since it was read (abandoned in another window, settled by another copy of the
            # app): a stale copy is never sent.
            done = error.intent
            raise OperationFinishedError(
                f"The {done.operation.value} of {done.reference} started {done.created_at:%Y-%m-%d %H:%M} "
                f"UTC was finished meanwhile elsewhere ({done.status.value}: {done.outcome}). Nothing was "
                "sent now; refresh the payment to see where it stands."
            ) from None
        try:
            answer = await self._send(intent)
        except RefusedError as error:
            if attempts > 1:
                # A resend: an earlier attempt (before a crash, or an earlier try) may have reached the
                # server and moved the money, and the API may refuse the replay (e.g. the state moved
                # on). The refusal alone proves nothing: the event log decides.
                return await self._after_refused_resend(intent, before, error, attempts, source)
            # Refused on its first send: nothing moved (a 4xx stays a 4xx for this key; the client
            # raises OutcomeUnknownError instead when an earlier try of this call may have taken effect).
            await self._finish(intent, IntentStatus.FAILED, f"Refused: {said(error)}")
            await self._refresh_quietly(intent.reference, source)
            raise
        except NotSentError as error:
            # Nothing of this attempt reached the API (refused by the client, no connection, no token).
            # Closed as failed, so it is never sent later without asking; unless an earlier attempt
            # (before a crash, or an earlier try) may have reached the server.
            if attempts <= 1:
                await self._finish(intent, IntentStatus.FAILED, f"Not sent: {said(error)}")
                raise
            raise OutcomeUnknownError(
                operation=intent.operation.value,
                reference=intent.reference,
                idempotency_key=intent.idempotency_key,
                last_error=error,
                attempts=attempts,
            ) from error
        except EPaymentError:
            # The outcome is unknown (answer lost, unreadable): the event log decides.
            settled = await self._settle_from_log(intent, before, source=source)
            if settled is None:
                raise
            return settled
        # Confirmed by the API: recorded at once (durably), before the payment is read again, so a
        # crash or kill during those reads cannot leave a confirmed operation pending.
        moved = moved_amount(intent, before, answer, None)
        message = success_message(intent, moved, answer, reconciled=False)
        if resumed:
            message += " (finished after an interruption, with the same idempotency key)"
        await self._finish(intent, IntentStatus.SUCCEEDED, message)
        asked_at = datetime.now(UTC)
        try:
            payment, events = await self._fetch(intent.reference)
            tracked = await self._save_snapshot(payment, events, asked_at=asked_at, source=source)
        except EPaymentError as error:
            tracked = await self._save_snapshot(
                _merge(before, answer),
                None,
                asked_at=asked_at,
                source=source,
                fetch_error=f"The event log was not refreshed: {said(error)}",
            )
        return tracked, moved, False, message

    async def _after_refused_resend(
        self,
        intent: Intent,
        before: Payment | None,
        error: RefusedError,
        attempts: int,
        source: str,
    ) -> tuple[TrackedPayment, Money, bool, str]:
        """The API refused a resend of ``intent``: read the event log again. It shows the effect:
        RECONCILED (returned). It shows nothing: FAILED, saying so, and ``error`` is raised. It cannot be
        read: the intent stays pending and ``OutcomeUnknownError`` is raised (nothing is claimed)."""
        try:
            settled = await self._settle_from_log(intent, before, raise_unreadable=True, source=source)
        except EPaymentError as unreadable:
            log.info("resend of intent %s refused and the log unreadable: %s", intent.id, unreadable)
            raise OutcomeUnknownError(
                operation=intent.operation.value,
                reference=intent.reference,
                idempotency_key=intent.idempotency_key,
                last_error=error,
                attempts=attempts,
            ) from error
        if settled is not None:
            return settled
        await self._finish(
            intent,
            IntentStatus.FAILED,
            f"The API refused the resend ({said(error)}); the event log shows no {intent.operation.value}, "
            "so nothing moved.",
        )
        raise error

    async def _settle_from_log(
        self,
        intent: Intent,
        before: Payment | None,
        *,
        raise_unreadable: bool = False,
        source: str = "operation",
    ) -> tuple[TrackedPayment, Money, bool, str] | None:
        asked_at = datetime.now(UTC)
        try:
            payment, events = await self._fetch(intent.reference)
        except EPaymentError as error:
            log.info("could not read %s to settle intent %s: %s", intent.reference, intent.id, error)
            if raise_unreadable:
                raise
            return None
        tracked = await self._save_snapshot(payment, events, asked_at=asked_at, source=source)
        effect = find_effect(intent, payment, events)
        if effect is None:
            return None
        moved = moved_amount(intent, before, payment, effect)
        message = success_message(intent, moved, payment, reconciled=True, effect=effect)
        await self._finish(intent, IntentStatus.RECONCILED, message)
        return tracked, moved, True, message

    async def _finish(self, intent: Intent, status: IntentStatus, outcome: str) -> None:
        await self._db(self.store.journal.finish, intent.id, status, redact(outcome), os_user=self.operator)

    async def _refresh_quietly(self, reference: str, source: str) -> None:
        try:
            await self.refresh(reference, source=source)
        except EPaymentError as error:
            log.info("refresh of %s after a refusal failed: %s", reference, error)

    async def _resume(
        self, intent: Intent, source: str = "operation"
    ) -> tuple[TrackedPayment, Money, bool, str]:
        """Finish an intent without a known outcome: settle it from the event log, else send it
        again with the same Idempotency-Key."""
        kept = await self.tracked(intent.reference)
        before = kept.payment if kept else None
        settled = await self._settle_from_log(intent, before, source=source)
        if settled is not None:
            return settled
        return await self._attempt(intent, before, resumed=True, source=source)


def _merge(before: Payment | None, answer: Payment) -> Payment:
    """A modification answer lacks the description and payment method: keep them from before."""
    if before is None:
        return answer
    return replace(
        answer,
        description=answer.description or before.description,
        payment_method=answer.payment_method or before.payment_method,
        redirect_url=answer.redirect_url or before.redirect_url,
    )
