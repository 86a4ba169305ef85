"""What the desk refuses with before anything is sent, and how an error is put in words safely."""

from __future__ import annotations

from typing import TYPE_CHECKING

from epay_desktop.api import redact
from epay_desktop.domain import Money, TrackedPayment
from epay_desktop.i18n import _

if TYPE_CHECKING:
    from datetime import timedelta

    from epay_desktop.services.elsewhere import PendingElsewhere
    from epay_desktop.store import Intent


class DeskError(Exception):
    """The desk refused before anything was sent; the message says why in words for people."""


class NotTrackedError(DeskError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not tracked"


class ActionNotPossibleError(DeskError):
    """``domain.check_action`` says the action cannot have an effect (or the amount is wrong)."""


class OperationPendingError(DeskError):
    """Another money-moving operation on this payment has no known outcome yet."""


class OperationFinishedError(DeskError):
    """The unfinished operation this call would have sent again was finished meanwhile by another
    window or copy of the app (abandoned, settled): nothing was sent."""


class StaleConfirmationError(DeskError):
    """The payment changed since the person confirmed: a cancel would now release ``now``, not the
    ``expected`` amount they saw. Nothing was sent; ``tracked`` has the fresh figures to show before
    asking again."""

    def __init__(self, tracked: TrackedPayment, expected: Money, now: Money) -> None:
        super().__init__(
            _(
                "{reference} changed since you confirmed: a cancel would now release {now}, not "
                "{expected}. Nothing was sent. Look at the new figures and confirm again."
            ).format(reference=tracked.reference, now=now.plain(), expected=expected.plain())
        )
        self.tracked = tracked
        self.expected = expected
        self.now = now


class ReadOnlyRegisterError(DeskError):
    """The register is open read-only (damaged or locked): nothing that writes or moves money is done,
    and nothing was sent."""


class DeskInputError(DeskError, ValueError):
    """Input for a new payment that the API would refuse (the message says which field)."""


class AlreadyPendingError(OperationPendingError):
    """``begin`` found another intent on this payment without an outcome (``intent``; begun by
    another window, copy of the app or process meanwhile). Nothing was sent."""

    def __init__(self, intent: Intent) -> None:
        super().__init__(
            _pick(
                intent,
                cancel=_(
                    "A cancel of {reference} was started at {time} UTC by {user} (another window or copy "
                    "of the app) and is in progress or has no known outcome yet. Nothing more was sent; "
                    "wait for it, then refresh the payment."
                ),
                capture=_(
                    "A capture of {reference} was started at {time} UTC by {user} (another window or copy "
                    "of the app) and is in progress or has no known outcome yet. Nothing more was sent; "
                    "wait for it, then refresh the payment."
                ),
                refund=_(
                    "A refund of {reference} was started at {time} UTC by {user} (another window or copy "
                    "of the app) and is in progress or has no known outcome yet. Nothing more was sent; "
                    "wait for it, then refresh the payment."
                ),
            ).format(reference=intent.reference, time=f"{intent.created_at:%H:%M:%S}", user=intent.os_user)
        )
        self.intent = intent


class PendingElsewhereError(OperationPendingError):
    """Another journal on this computer (``epay``'s, or another profile's register for the same merchant
    and environment) holds an operation on this payment without a known outcome (``pending``). Nothing
    was sent."""

    def __init__(self, pending: PendingElsewhere) -> None:
        intent = pending.intent
        text = {
            "cancel": _(
                "A cancel of {reference} was started at {time} UTC in {where} and has no known outcome "
                "yet. Nothing was sent; finish it there first."
            ),
            "capture": _(
                "A capture of {reference} was started at {time} UTC in {where} and has no known outcome "
                "yet. Nothing was sent; finish it there first."
            ),
            "refund": _(
                "A refund of {reference} was started at {time} UTC in {where} and has no known outcome "
                "yet. Nothing was sent; finish it there first."
            ),
        }[intent.operation.value]
        super().__init__(
            text.format(
                reference=intent.reference, time=f"{intent.created_at:%Y-%m-%d %H:%M}", where=pending.where
            )
        )
        self.pending = pending


class FinishedMeanwhileError(OperationFinishedError):
    """The intent to send was finished meanwhile elsewhere (``intent``): a stale copy is never sent."""

    def __init__(self, intent: Intent) -> None:
        super().__init__(
            _pick(
                intent,
                cancel=_(
                    "The cancel of {reference} started {time} UTC was finished meanwhile elsewhere "
                    "({status}: {outcome}). Nothing was sent now; refresh the payment to see where it stands."
                ),
                capture=_(
                    "The capture of {reference} started {time} UTC was finished meanwhile elsewhere "
                    "({status}: {outcome}). Nothing was sent now; refresh the payment to see where it stands."
                ),
                refund=_(
                    "The refund of {reference} started {time} UTC was finished meanwhile elsewhere "
                    "({status}: {outcome}). Nothing was sent now; refresh the payment to see where it stands."
                ),
            ).format(
                reference=intent.reference,
                time=f"{intent.created_at:%Y-%m-%d %H:%M}",
                status=intent.status.value,
                outcome=intent.outcome,
            )
        )
        self.intent = intent


class NeedsDecisionError(OperationPendingError):
    """An intent that may have reached the server started more than ``window`` ago (the engine's
    ``RESEND_WINDOW``) and its event log does not show it: it is not sent again unless the person
    decides so. Nothing was sent."""

    def __init__(self, intent: Intent, window: timedelta) -> None:
        hours = int(window.total_seconds() // 3600)
        super().__init__(
            _pick(
                intent,
                cancel=_(
                    "The cancel of {reference} started {time} UTC by {user} has no known outcome, and the "
                    "payment's event log shows no such cancel. It started more than {hours} hours ago, so it "
                    "is not sent again by itself: send it again (same idempotency key) or abandon it. "
                    "Nothing was sent."
                ),
                capture=_(
                    "The capture of {reference} started {time} UTC by {user} has no known outcome, and the "
                    "payment's event log shows no such capture. It started more than {hours} hours ago, so "
                    "it is not sent again by itself: send it again (same idempotency key) or abandon it. "
                    "Nothing was sent."
                ),
                refund=_(
                    "The refund of {reference} started {time} UTC by {user} has no known outcome, and the "
                    "payment's event log shows no such refund. It started more than {hours} hours ago, so it "
                    "is not sent again by itself: send it again (same idempotency key) or abandon it. "
                    "Nothing was sent."
                ),
            ).format(
                reference=intent.reference,
                time=f"{intent.created_at:%Y-%m-%d %H:%M}",
                user=intent.os_user,
                hours=hours,
            )
        )
        self.intent = intent


class KeyAlreadyUsedError(DeskError, ValueError):
    """The Idempotency-Key given already names another operation in the journal (or one that did not
    fail); nothing was written or sent."""

    def __init__(self, message: str, intent: Intent) -> None:
        super().__init__(message)
        self.intent = intent


class RepeatNotConfirmedError(DeskError):
    """The same capture or refund (same payment, same amount) succeeded a few minutes ago
    (``previous``): a second one is sent only when the person confirms it (``again=True``). Nothing
    was sent."""

    def __init__(self, previous: Intent) -> None:
        when = previous.finished_at or previous.created_at
        what = previous.amount.plain() if previous.amount is not None else ""
        text = (
            _(
                "{amount} was already captured on {reference} at {time} UTC by {user} (idempotency key "
                "{key}): {outcome} Nothing was sent now. Is a second capture of the same amount really "
                "wanted? Confirm to send it."
            )
            if previous.operation.value == "capture"
            else _(
                "{amount} was already refunded on {reference} at {time} UTC by {user} (idempotency key "
                "{key}): {outcome} Nothing was sent now. Is a second refund of the same amount really "
                "wanted? Confirm to send it."
            )
        )
        super().__init__(
            text.format(
                amount=what,
                reference=previous.reference,
                time=f"{when:%H:%M:%S}",
                user=previous.os_user,
                key=previous.idempotency_key,
                outcome=previous.outcome,
            )
        )
        self.previous = previous


def said(error: BaseException) -> str:
    """An error's text as it may be shown or stored: secrets removed (finding 3)."""
    return redact(str(error))


def _pick(intent: Intent, *, cancel: str, capture: str, refund: str) -> str:
    """The message written for ``intent``'s operation: each is a whole sentence of its own, so a
    language puts its own verb and word order in each."""
    return {"cancel": cancel, "capture": capture, "refund": refund}[intent.operation.value]
