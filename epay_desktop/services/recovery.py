"""Recovery of one desk: finishing intents left without an outcome (on start, or as the person
chooses: resume or abandon), through the journaled-send engine. See README.md, "The journal"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from epay_desktop.api import EPaymentError, NotAllowedError, NotFoundError, RefusedError
from epay_desktop.domain import Money, Payment
from epay_desktop.i18n import _, ngettext
from epay_desktop.services.claims import InFlight
from epay_desktop.services.context import DeskContext
from epay_desktop.services.engine import RESEND_WINDOW, SendEngine, SendResult, attempted_long_ago
from epay_desktop.services.errors import DeskError, OperationFinishedError, OperationPendingError, said
from epay_desktop.services.results import CancelResult, OperationResult, RecoveryOutcome, RecoveryResult
from epay_desktop.services.tracking import RegisterTracking
from epay_desktop.store import Intent, IntentStatus, Operation

__all__ = ["ON_THE_WIRE", "RESEND_WINDOW", "Recovery"]

SOURCE = "recovery"
# How long an attempt may still be on its way after it was sent: the client gives up on an attempt after
# its request deadline (30 s) and on a call after its retry budget, so after this every attempt of it
# has ended, whichever window or copy of the app sent it.
ON_THE_WIRE = timedelta(minutes=3)


class Recovery:
    """Intents of one desk without an outcome: recover on start, resume, abandon."""

    def __init__(
        self, context: DeskContext, claims: InFlight, tracking: RegisterTracking, engine: SendEngine
    ) -> None:
        self.context = context
        self.claims = claims
        self.tracking = tracking
        self.engine = engine

    async def recover_pending(self) -> list[RecoveryResult]:
        """On start: look at every intent of this register left without an outcome, one result each.

        Each is first settled from the payment's event log (nothing is sent). If the log shows no
        effect, it is sent again with its own key only when its request may have reached the server
        (it was attempted) and it started less than ``RESEND_WINDOW`` ago (24 h; how long the API keeps
        keys is not documented). Others (never sent, or older) are left open with ``needs_decision``:
        the person chooses ``resume_intent`` or ``abandon_intent``. ``STILL_UNKNOWN`` ones stay open
        too; only ``result.finished`` ones are done."""
        results: list[RecoveryResult] = []
        now = datetime.now(UTC)
        # Every intent of this register, whatever profile name it was begun under: the register
        # follows a renamed profile, and one left out would block its payment for ever.
        for listed in await self.engine.pending(everywhere=True):
            if self.claims.holds(listed.reference):
                continue  # being sent right now by this desk: its own call reports it
            result = await self._recover_one(listed, now)
            if result is not None:
                results.append(result)
        return results

    async def _recover_one(self, listed: Intent, now: datetime) -> RecoveryResult | None:
        """One intent of the list read at the start; None when it was finished meanwhile (another
        window abandoned or resumed it, another copy of the app settled it): nothing to do."""
        intent = listed
        what = _what(intent)
        if self.context.read_only:
            return _result(
                intent,
                RecoveryOutcome.READ_ONLY,
                _(
                    "{what} has no known outcome yet; the register is open read-only, so it is not "
                    "finished now (nothing was sent). Open the register normally to finish it."
                ).format(what=what),
            )
        self.claims.claim(intent.reference, intent.operation)
        handed_over = False  # to the shielded task that sends, which ends the claim itself
        try:
            # The list was read before the earlier intents were worked on: read this one again now
            # that it is claimed (the journal also refuses to send a finished one).
            current = await self.engine.current(listed.id)
            if current is None or current.status is not IntentStatus.PENDING:
                return None
            intent = current
            kept = await self.tracking.tracked(intent.reference)
            before = kept.payment if kept else None
            try:
                settled = await self.engine.settle(intent, before, source=SOURCE, raise_unreadable=True)
            except NotAllowedError as error:
                # The client refuses this payment outright (reading it, so sending too): it never went.
                text = _not_sent(what, error)
                await self.engine.finish(intent, IntentStatus.FAILED, text)
                return _result(intent, RecoveryOutcome.FAILED, text)
            except EPaymentError as error:
                return _result(
                    intent,
                    RecoveryOutcome.STILL_UNKNOWN,
                    _(
                        "{what} has no known outcome: the payment could not be read ({reason}). Nothing "
                        "was sent now; it stays open and is checked again at the next start."
                    ).format(what=what, reason=said(error)),
                )
            if settled is not None:
                return _result(intent, RecoveryOutcome.RECONCILED, settled.message, settled.moved)
            if intent.attempts == 0:
                return _result(
                    intent,
                    RecoveryOutcome.NEEDS_DECISION,
                    _(
                        "{what} was never sent (the app stopped first), and the payment's event log does "
                        "not show it. It is not sent by itself: send it now, or abandon it."
                    ).format(what=what),
                )
            if attempted_long_ago(intent, now):
                return _result(
                    intent,
                    RecoveryOutcome.NEEDS_DECISION,
                    ngettext(
                        "{what} has no known outcome, and the payment's event log does not show it. It "
                        "started more than {hours} hour ago, so it is not sent again by itself: send it "
                        "again (same idempotency key), or abandon it.",
                        "{what} has no known outcome, and the payment's event log does not show it. It "
                        "started more than {hours} hours ago, so it is not sent again by itself: send it "
                        "again (same idempotency key), or abandon it.",
                        _hours(),
                    ).format(what=what, hours=_hours()),
                )
            handed_over = True
            try:
                done = await self.claims.shield(
                    intent.reference, self.engine.send(intent, before, resumed=True, source=SOURCE)
                )
            except OperationFinishedError:
                return None  # finished elsewhere between the re-read and the send: nothing was sent
            except EPaymentError as error:
                return await self._after_failed_recovery(intent, error)
            outcome = RecoveryOutcome.RECONCILED if done.reconciled else RecoveryOutcome.SUCCEEDED
            return _result(intent, outcome, done.message, done.moved)
        finally:
            if not handed_over:
                self.claims.release(intent.reference)

    async def _after_failed_recovery(self, intent: Intent, error: EPaymentError) -> RecoveryResult:
        """Say what the journal now holds after a failed resend: closed as failed, or still open."""
        what = _what(intent)
        now = await self.engine.current(intent.id)
        if now is not None and now.status is not IntentStatus.PENDING:
            if isinstance(error, RefusedError):
                # A resend (recovery sends only attempted ones): the journal says what the log showed.
                text = _("{what}: {outcome}").format(what=what, outcome=now.outcome)
            else:
                text = _not_sent(what, error)
            return _result(intent, RecoveryOutcome.FAILED, text)
        return _result(
            intent,
            RecoveryOutcome.STILL_UNKNOWN,
            _(
                "{what} still has no known outcome ({reason}). It stays open, with its idempotency key: "
                "refresh the payment to see what happened, then send it again or abandon it."
            ).format(what=what, reason=said(error)),
        )

    async def resume_intent(self, intent_id: int) -> CancelResult | OperationResult:
        """The person chose to finish an open intent: settle it from the event log, else send it again
        with its own key (also when it is older than ``RESEND_WINDOW``: the person decided). Raises like
        ``cancel``/``capture``/``refund``."""
        intent = await self._open_intent(intent_id, _("Cannot send an unfinished operation again."))
        self.claims.claim(intent.reference, intent.operation)

        async def resume() -> SendResult:
            before = await _kept_payment(self.tracking, intent)
            return await self.engine.resume(intent, before, decided=True, source=SOURCE)

        done = await self.claims.shield(intent.reference, resume())
        if intent.operation is Operation.CANCEL:
            return CancelResult(done.tracked, done.moved, done.reconciled, done.message)
        return OperationResult(done.tracked, done.moved, done.reconciled, done.message)

    async def abandon_intent(self, intent_id: int) -> RecoveryResult:
        """The person chose to give up an open intent. The payment and its event log are read first:
        if they show the effect, it is recorded as reconciled (it happened after all); otherwise it is
        closed as failed; also when the API has no such payment (any more). Raises the client's error when
        the payment cannot be read (nothing changes)."""
        intent = await self._open_intent(intent_id, _("Cannot abandon an unfinished operation."))
        self.claims.claim(intent.reference, intent.operation)
        try:
            before = await _kept_payment(self.tracking, intent)
            gone: NotFoundError | None = None
            try:
                settled = await self.engine.settle(intent, before, source=SOURCE, raise_unreadable=True)
            except NotFoundError as error:
                # The API has no such payment (any more: a sandbox reset): there is no log to wait for,
                # and without this the intent would stay open for ever.
                gone, settled = error, None
            if settled is not None:
                return _result(
                    intent,
                    RecoveryOutcome.RECONCILED,
                    _("Not abandoned: it happened. {outcome}").format(outcome=settled.message),
                    settled.moved,
                )
            until = _on_the_wire_until(intent)
            if until is not None and datetime.now(UTC) < until:
                # Another window or copy of the app may be sending it right now: the event log may not
                # show it yet, and "nothing moved" would be a guess. Every attempt must have ended first.
                sent = intent.last_attempt_at or intent.created_at
                raise OperationPendingError(
                    _(
                        "{what} was last sent at {sent} UTC and may still be on its way (another window "
                        "or copy of the app may be sending it), and the event log does not show it yet. "
                        "It cannot be abandoned until {until} UTC, when every attempt has surely ended; "
                        "refresh the payment, or try again then."
                    ).format(what=_what(intent), sent=f"{sent:%H:%M:%S}", until=f"{until:%H:%M:%S}")
                )
            message = _(
                "{what} was abandoned by {operator}: the payment's event log does not show it, and "
                "every attempt of it has ended. Nothing was moved."
            ).format(what=_what(intent), operator=self.context.operator)
            if gone is not None:
                message = _(
                    "{what} was abandoned by {operator}: the API has no payment {reference} for this "
                    "merchant ({reason}), so nothing can move on it, and every attempt of it has ended."
                ).format(
                    what=_what(intent),
                    operator=self.context.operator,
                    reference=intent.reference,
                    reason=said(gone),
                )
            await self.engine.finish(intent, IntentStatus.FAILED, message)
            return _result(intent, RecoveryOutcome.FAILED, message)
        finally:
            self.claims.release(intent.reference)

    async def _open_intent(self, intent_id: int, cannot: str) -> Intent:
        self.context.writable(cannot)
        intent = await self.engine.current(intent_id)
        if intent is None or intent.merchant_serial_number != self.context.msn:
            raise DeskError(_("There is no operation {number} in this register.").format(number=intent_id))
        if intent.status is not IntentStatus.PENDING:
            raise OperationFinishedError(
                _finished(intent).format(reference=intent.reference, outcome=intent.outcome)
            )
        return intent


async def _kept_payment(tracking: RegisterTracking, intent: Intent) -> Payment | None:
    kept = await tracking.tracked(intent.reference)
    return kept.payment if kept else None


def _on_the_wire_until(intent: Intent) -> datetime | None:
    """Until when an attempt of ``intent`` may still be on its way (None: it was never sent)."""
    if intent.attempts <= 0:
        return None
    return (intent.last_attempt_at or intent.created_at) + ON_THE_WIRE


def _what(intent: Intent) -> str:
    """The intent as the subject of a sentence: which operation, on what, begun when and by whom."""
    if intent.operation is Operation.CANCEL:
        text = _("The cancel of {reference} started {started} UTC by {user}")
    elif intent.operation is Operation.CAPTURE:
        text = _("The capture of {reference} started {started} UTC by {user}")
    else:
        text = _("The refund of {reference} started {started} UTC by {user}")
    return text.format(
        reference=intent.reference, started=f"{intent.created_at:%Y-%m-%d %H:%M}", user=intent.os_user
    )


def _finished(intent: Intent) -> str:
    if intent.operation is Operation.CANCEL:
        return _("The cancel of {reference} is already finished: {outcome}")
    if intent.operation is Operation.CAPTURE:
        return _("The capture of {reference} is already finished: {outcome}")
    return _("The refund of {reference} is already finished: {outcome}")


def _not_sent(what: str, error: EPaymentError) -> str:
    return _("{what} was not sent: {reason} Nothing was moved; it is closed as failed.").format(
        what=what, reason=said(error)
    )


def _hours() -> int:
    return int(RESEND_WINDOW.total_seconds() // 3600)


def _result(
    intent: Intent, outcome: RecoveryOutcome, message: str, amount: Money | None = None
) -> RecoveryResult:
    return RecoveryResult(
        intent.id,
        intent.reference,
        intent.operation,
        outcome,
        message,
        amount if amount is not None else intent.amount,
    )
