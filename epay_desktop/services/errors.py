"""What the desk refuses with before anything is sent, and how an error is put in words safely."""

from __future__ import annotations

from epay_desktop.api import redact
from epay_desktop.domain import Money, TrackedPayment


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
            f"{tracked.reference} changed since you confirmed: a cancel would now release {now.plain()}, "
            f"not {expected.plain()}. Nothing was sent. Look at the new figures and confirm again."
        )
        self.tracked = tracked
        self.expected = expected
        self.now = now


class ReadOnlyRegisterError(DeskError):
    """The register is open read-only (damaged or locked): nothing that writes or moves money is done,
    and nothing was sent."""


class DeskInputError(DeskError, ValueError):
    """Input for a new payment that the API would refuse (the message says which field)."""


def said(error: BaseException) -> str:
    """An error's text as it may be shown or stored: secrets removed (finding 3)."""
    return redact(str(error))
