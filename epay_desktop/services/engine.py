"""The one journaled-send engine: every cancel, capture and refund, from the window or from ``epay``,
goes through it.

An operation is an *intent* committed (durably) to a journal with its own Idempotency-Key before
anything is sent; every later send of it reuses that key. The stages:

- ``begin``: commit the intent (refused while another intent on the payment has no outcome);
- ``send``: count the attempt (durably; an intent finished meanwhile is never sent), send it, and
  classify what came back: confirmed, refused (a first refusal: failed, nothing moved; a refused
  *resend*: the event log decides), not sent, or unknown;
- ``settle``: read the payment and its event log and record the outcome they show (reconciled);
- ``resume``: settle an intent left without an outcome, else send it again with its key, by the
  resend rule below;
- ``finish``: record the outcome.

Success is reported only after the API confirmed it, directly or through the event log. What is kept of
the payment read along the way (the desk's register, published as a change; nothing for ``epay``) is
the caller's: a :class:`Snapshots` given to the engine.

The resend rule: an intent whose request may have reached the server (it was attempted) and that
started more than ``RESEND_WINDOW`` ago is not sent again unless the person asks for exactly that
(``resume(..., decided=True)``): the API does not say how long it keeps idempotency keys, so a replay
long after may be taken as a new request and move money twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import ParamSpec, Protocol, TypeVar

from epay_desktop.api import (
    ApiError,
    EPaymentClient,
    EPaymentError,
    MalformedResponseError,
    NotSentError,
    OutcomeUnknownError,
    RefusedError,
    new_idempotency_key,
    redact,
)
from epay_desktop.domain import Money, Payment, PaymentEvent, TrackedPayment
from epay_desktop.i18n import _
from epay_desktop.services.errors import (
    AlreadyPendingError,
    FinishedMeanwhileError,
    KeyAlreadyUsedError,
    NeedsDecisionError,
    RepeatNotConfirmedError,
    said,
)
from epay_desktop.services.outcomes import find_effect, moved_amount, success_message
from epay_desktop.services.reading import read_with_events
from epay_desktop.services.recording import ConfirmedRecorder
from epay_desktop.store import (
    IdempotencyKeyUsedError,
    Intent,
    IntentFinishedError,
    IntentPendingError,
    IntentRequest,
    IntentStatus,
    JournalRecords,
    Operation,
    RecentlyConfirmedError,
    RegisterError,
)

__all__ = ["REPEAT_WINDOW", "RESEND_WINDOW", "SendEngine", "SendResult", "Snapshots", "attempted_long_ago"]

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

RESEND_WINDOW = timedelta(hours=24)
# A capture or refund of the same amount on the same payment this soon after one succeeded is more
# likely a repeat by mistake (a lost printout, a double click, a re-run command) than a second one.
REPEAT_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a confirmed operation did: ``intent`` (as begun), the payment after it (``tracked``, as
    the caller keeps it), what moved, whether the answer was lost and the outcome read from the event
    log (``reconciled``), and a sentence for people that the journal keeps too."""

    intent: Intent
    tracked: TrackedPayment
    moved: Money
    reconciled: bool
    message: str

    @property
    def payment(self) -> Payment:
        assert self.tracked.payment is not None  # a confirmed operation always has the payment after
        return self.tracked.payment


class Snapshots(Protocol):
    """Where the engine hands the payments it reads (the desk saves and publishes them)."""

    async def keep(
        self,
        payment: Payment,
        events: list[PaymentEvent] | None,
        *,
        asked_at: datetime,
        source: str,
        fetch_error: str = "",
    ) -> TrackedPayment:
        """Keep what a read asked for at ``asked_at`` showed (``events=None``: not read); returns it
        as kept."""
        ...

    async def read_again(self, reference: str, source: str) -> None:
        """Read the payment again after a refusal (best effort: a failure is only logged)."""
        ...


def attempted_long_ago(intent: Intent, now: datetime) -> bool:
    """The resend rule: it may have reached the server, and longer ago than the API may keep its key."""
    return intent.attempts > 0 and now - intent.created_at > RESEND_WINDOW


class SendEngine:
    """Journaled sends on one journal for one merchant serial number and profile (see the module)."""

    def __init__(
        self,
        journal: JournalRecords,
        client: EPaymentClient,
        snapshots: Snapshots,
        *,
        profile: str,
        operator: str,
    ) -> None:
        self.journal = journal
        self.client = client
        self.snapshots = snapshots
        self.profile = profile
        self.msn = client.merchant_serial_number
        self.operator = operator
        self.recorder = ConfirmedRecorder(self.finish)

    async def _db(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(work, *args, **kwargs)

    # --- begin ----------------------------------------------------------------------------------------

    async def begin(
        self,
        operation: Operation,
        reference: str,
        amount: Money | None,
        *,
        key: str | None = None,
        reason: str = "",
        again: bool = False,
        attempting: bool = False,
    ) -> Intent:
        """Commit the intent durably (only then may it be sent). ``AlreadyPendingError`` when another
        intent on the payment has no outcome yet; ``KeyAlreadyUsedError`` when ``key`` names another
        operation (a refused intent begun again with its own key is reopened by the journal);
        ``RepeatNotConfirmedError`` when the same capture or refund (same amount) succeeded on the
        payment less than ``REPEAT_WINDOW`` ago, unless ``again`` (the person confirmed a second one).
        ``reason``: why the person does it, kept in the audit line."""
        request = IntentRequest(
            operation=operation,
            profile=self.profile,
            msn=self.msn,
            reference=reference,
            amount=amount,
            idempotency_key=key or new_idempotency_key(),
            os_user=self.operator,
            at=datetime.now(UTC),
            audit_detail=redact(reason.strip())[:200],
            # Checked in the journal's write transaction: a success another desk records while this
            # one waits for the register is seen (a cancel has nothing left to release a second time).
            repeat_since=None if again else datetime.now(UTC) - REPEAT_WINDOW,
        )
        try:
            # On this thread when the journal can commit it durably at once (a disk proven fast, nothing
            # to wait for): no thread hop before every money call.
            intent = self.journal.begin_at_once(request, attempting=attempting)
            if intent is not None:
                return intent
            # Else it joins the register's next group commit, without a thread hop of its own.
            soon = self.journal.begin_soon(request, attempting=attempting)
            if soon is not None:
                return await asyncio.wrap_future(soon)
            return await self._db(self.journal.begin_request, request, attempting=attempting)
        except RecentlyConfirmedError as error:
            raise RepeatNotConfirmedError(error.intent) from None
        except IntentPendingError as error:
            raise AlreadyPendingError(error.intent) from None
        except IdempotencyKeyUsedError as error:
            raise KeyAlreadyUsedError(
                _("{reason} Nothing was sent.").format(reason=error), error.intent
            ) from None

    async def begin_and_send(
        self,
        operation: Operation,
        reference: str,
        amount: Money | None,
        before: Payment | None,
        *,
        key: str | None = None,
        reason: str = "",
        source: str = "operation",
        transaction_only: bool = False,
        again: bool = False,
    ) -> SendResult:
        # Sent at once: its first attempt is counted in the very commit that begins it.
        intent = await self.begin(
            operation, reference, amount, key=key, reason=reason, again=again, attempting=True
        )
        return await self.send(intent, before, source=source, transaction_only=transaction_only, counted=True)

    # --- send and classify ------------------------------------------------------------------------------

    async def send(
        self,
        intent: Intent,
        before: Payment | None,
        *,
        resumed: bool = False,
        source: str = "operation",
        transaction_only: bool = False,
        counted: bool = False,
    ) -> SendResult:
        """Send ``intent`` once more with its key and record what came of it. Raises the API's
        ``RefusedError`` (nothing moved: failed), a ``NotSentError`` (nothing sent: failed), or
        ``OutcomeUnknownError`` (the intent stays pending); ``FinishedMeanwhileError`` when it was
        finished elsewhere (nothing sent). ``counted``: this attempt was counted when the intent was
        begun (``begin(attempting=True)`` just now), so it is not counted again."""
        if counted:
            attempts = intent.attempts
        else:
            try:
                attempts = await self._db(self.journal.note_attempt, intent.id)
            except IntentFinishedError as error:
                raise FinishedMeanwhileError(error.intent) from None
        try:
            answer = await self._request(intent, transaction_only)
        except RefusedError as error:
            if attempts > 1:
                # A resend: an earlier attempt (before a crash, or an earlier try) may have reached the
                # server and moved the money, and the API may refuse the replay (e.g. the state moved
                # on). The refusal alone proves nothing: the event log decides.
                return await self._after_refused_resend(intent, before, error, attempts, source)
            # Refused on its first send: nothing moved (a 4xx stays a 4xx for this key; the client
            # raises OutcomeUnknownError instead when an earlier try of this call may have taken effect).
            await self.finish(intent, IntentStatus.FAILED, f"Refused: {said(error)}")
            await self.snapshots.read_again(intent.reference, source)
            raise
        except NotSentError as error:
            # Nothing of this attempt reached the API (refused by the client, no connection, no token).
            # Closed as failed, so it is never sent later without asking; unless an earlier attempt
            # (before a crash, or an earlier try) may have reached the server.
            if attempts <= 1:
                await self.finish(intent, IntentStatus.FAILED, f"Not sent: {said(error)}")
                raise
            raise _unknown(intent, error, attempts) from error
        except EPaymentError:
            # The outcome is unknown (answer lost, unreadable): the event log decides.
            settled = await self.settle(intent, before, source=source)
            if settled is None:
                raise
            return settled
        if attempts == 1 and not _shows(intent, before, answer):
            # A first send's success for this payment whose amounts do not include this operation (an
            # older answer replayed by something in between) confirms nothing: the event log decides.
            # (A resend's answer may be the API's replay of the first, as it was then: not checked.)
            settled = await self.settle(intent, before, source=source)
            if settled is None:
                unseen = MalformedResponseError(
                    _(
                        "The success answer about {reference} does not include this operation (its "
                        "amounts are older than the payment read before it was sent)."
                    ).format(reference=intent.reference)
                )
                raise _unknown(intent, unseen, attempts)
            return settled
        return await self._confirmed(intent, before, answer, resumed=resumed, source=source)

    async def _request(self, intent: Intent, transaction_only: bool) -> Payment:
        key = intent.idempotency_key
        if intent.operation is Operation.CANCEL:
            return await self.client.cancel(
                intent.reference, idempotency_key=key, cancel_transaction_only=transaction_only
            )
        assert intent.amount is not None
        if intent.operation is Operation.CAPTURE:
            return await self.client.capture(intent.reference, intent.amount, idempotency_key=key)
        return await self.client.refund(intent.reference, intent.amount, idempotency_key=key)

    async def _confirmed(
        self, intent: Intent, before: Payment | None, answer: Payment, *, resumed: bool, source: str
    ) -> SendResult:
        # Confirmed by the API: recorded at once (durably), before the payment is read again, so a
        # crash or kill during those reads cannot leave a confirmed operation pending.
        moved = moved_amount(intent, before, answer, None)
        message = success_message(intent, moved, answer, reconciled=False)
        if resumed:
            message = _("{outcome} (finished after an interruption, with the same idempotency key)").format(
                outcome=message
            )
        # From here on it happened, whatever the bookkeeping does: nothing below may turn it into an
        # error (the person would try again and move the money twice).
        said_to_person = await self.recorder.record_confirmed(intent, IntentStatus.SUCCEEDED, message)
        asked_at = datetime.now(UTC)
        try:
            payment, events = await read_with_events(self.client, intent.reference)
            tracked = await self._keep(payment, events, asked_at=asked_at, source=source)
        except EPaymentError as error:
            tracked = await self._keep(
                _merge(before, answer),
                None,
                asked_at=asked_at,
                source=source,
                fetch_error=_("The event log was not refreshed: {reason}").format(reason=said(error)),
            )
        return SendResult(intent, tracked, moved, False, said_to_person)

    async def drain(self) -> None:
        """Wait until confirmed outcomes recorded in the background are written (or given up)."""
        await self.recorder.drain()

    async def _keep(
        self,
        payment: Payment,
        events: list[PaymentEvent] | None,
        *,
        asked_at: datetime,
        source: str,
        fetch_error: str = "",
    ) -> TrackedPayment:
        """``snapshots.keep``; when the register cannot save it now, the read is handed back unsaved."""
        try:
            return await self.snapshots.keep(
                payment, events, asked_at=asked_at, source=source, fetch_error=fetch_error
            )
        except RegisterError as error:
            log.warning("snapshot of %s not saved: %s", payment.reference, error)
            return TrackedPayment(
                payment.reference,
                self.msn,
                payment=payment,
                events=tuple(events or ()),
                description=payment.description,
                fetched_at=asked_at,
                fetch_error=_("Not saved in the register ({reason}); refresh it later.").format(reason=error),
            )

    async def _after_refused_resend(
        self, intent: Intent, before: Payment | None, error: RefusedError, attempts: int, source: str
    ) -> SendResult:
        """The API refused a resend of ``intent``: read the event log again. It shows the effect:
        RECONCILED (returned). It shows nothing: FAILED, saying so, and ``error`` is raised; unless the
        refusal says an operation holds the payment (maybe this one's earlier attempt). That, or a log
        that cannot be read: the intent stays pending and ``OutcomeUnknownError`` is raised."""
        try:
            settled = await self.settle(intent, before, source=source, raise_unreadable=True)
        except EPaymentError as unreadable:
            log.info("resend of intent %s refused and the log unreadable: %s", intent.id, unreadable)
            raise _unknown(intent, error, attempts) from error
        if settled is not None:
            return settled
        if _held(error):
            # "Another operation holds the payment": that may be this intent's own earlier attempt,
            # still being processed (sent by another copy of the app, or cut off by our deadline), which
            # the log cannot show yet. Not "nothing moved": it stays pending until it has ended.
            raise _unknown(intent, error, attempts) from error
        await self.finish(
            intent,
            IntentStatus.FAILED,
            _refused_resend(intent.operation).format(reason=said(error)),
        )
        raise error

    # --- settle from the event log, resume, finish -----------------------------------------------------

    async def settle(
        self,
        intent: Intent,
        before: Payment | None,
        *,
        source: str = "operation",
        raise_unreadable: bool = False,
    ) -> SendResult | None:
        """Read the payment and its event log; when they show the intent's effect, record it as
        RECONCILED and return it. None when they show nothing (or cannot be read, unless
        ``raise_unreadable``: then the client's error is raised)."""
        asked_at = datetime.now(UTC)
        try:
            payment, events = await read_with_events(self.client, intent.reference)
        except EPaymentError as error:
            log.info("could not read %s to settle intent %s: %s", intent.reference, intent.id, error)
            if raise_unreadable:
                raise
            return None
        tracked = await self._keep(payment, events, asked_at=asked_at, source=source)
        effect = find_effect(intent, payment, events)
        if effect is None:
            return None
        moved = moved_amount(intent, before, payment, effect)
        message = success_message(intent, moved, payment, reconciled=True, effect=effect)
        said_to_person = await self.recorder.record_confirmed(intent, IntentStatus.RECONCILED, message)
        return SendResult(intent, tracked, moved, True, said_to_person)

    async def resume(
        self,
        intent: Intent,
        before: Payment | None,
        *,
        decided: bool = False,
        source: str = "operation",
        transaction_only: bool = False,
    ) -> SendResult:
        """Finish an intent without a known outcome: settle it from the event log, else send it again
        with the same key. By the resend rule, one attempted more than ``RESEND_WINDOW`` ago is sent
        again only when ``decided`` (the person asked for exactly that); otherwise
        ``NeedsDecisionError`` (nothing sent)."""
        settled = await self.settle(intent, before, source=source)
        if settled is not None:
            return settled
        if not decided and attempted_long_ago(intent, datetime.now(UTC)):
            raise NeedsDecisionError(intent, RESEND_WINDOW)
        return await self.send(intent, before, resumed=True, source=source, transaction_only=transaction_only)

    async def finish(self, intent: Intent, status: IntentStatus, outcome: str) -> None:
        text = redact(outcome)
        # A confirmed outcome closing a pending intent is a small commit that does not wait for the
        # disk: written at once on this thread when that cannot wait for anything (no thread hop on the
        # path of every money call). Every other case is decided by the rules of finish's durable write.
        if self.journal.finish_at_once(intent.id, status, text, os_user=self.operator):
            return
        # Else in the register's next group commit (durable, whatever the outcome), without a thread hop
        # of its own; on a back-end that has none, on a worker thread.
        soon = self.journal.finish_soon(intent.id, status, text, os_user=self.operator)
        if soon is not None:
            await asyncio.wrap_future(soon)
            return
        await self._db(self.journal.finish, intent.id, status, text, os_user=self.operator)

    async def current(self, intent_id: int) -> Intent | None:
        """The intent as the journal has it now."""
        return await self._db(self.journal.get, intent_id)

    async def pending(self, *, reference: str | None = None, everywhere: bool = False) -> list[Intent]:
        """This merchant's intents without an outcome: of this profile, or of every profile."""
        profile = None if everywhere else self.profile
        return await self._db(self.journal.pending, profile=profile, msn=self.msn, reference=reference)


def _shows(intent: Intent, before: Payment | None, answer: Payment) -> bool:
    """Whether ``answer`` can be the payment after a capture or refund of ``intent.amount`` on
    ``before`` (captured and refunded only grow, also when others move money meanwhile). A cancel, or
    nothing read before: not checked."""
    if before is None or intent.amount is None or intent.operation is Operation.CANCEL:
        return True
    if answer.currency is not intent.amount.currency or before.currency is not intent.amount.currency:
        return False
    if intent.operation is Operation.CAPTURE:
        return answer.aggregate.captured >= before.aggregate.captured + intent.amount
    return answer.aggregate.refunded >= before.aggregate.refunded + intent.amount


def _held(error: RefusedError) -> bool:
    """The API refused because an operation on the payment is being processed (423, code 6160)."""
    return isinstance(error, ApiError) and (error.status == 423 or error.error_code == "6160")


def _refused_resend(operation: Operation) -> str:
    if operation is Operation.CANCEL:
        return _("The API refused the resend ({reason}); the event log shows no cancel, so nothing moved.")
    if operation is Operation.CAPTURE:
        return _("The API refused the resend ({reason}); the event log shows no capture, so nothing moved.")
    return _("The API refused the resend ({reason}); the event log shows no refund, so nothing moved.")


def _unknown(intent: Intent, last_error: BaseException, attempts: int) -> OutcomeUnknownError:
    return OutcomeUnknownError(
        operation=intent.operation.value,
        reference=intent.reference,
        idempotency_key=intent.idempotency_key,
        last_error=last_error,
        attempts=attempts,
    )


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
