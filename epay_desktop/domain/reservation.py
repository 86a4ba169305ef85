"""How long an uncaptured reservation can still be captured for sure.

The API says until when a capture is guaranteed (``captureGuaranteedUntil``, agent-toolkit
epayment_references_operations.md "Get payment"); after that the bank or card network may release
the reservation, and a capture becomes a new charge attempt that can fail (payment-lifecycle
"Capture attempt deadlines"). The list warns about reservations whose guarantee ends soon.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

from epay_desktop.domain.payment import Payment
from epay_desktop.domain.rules import capturable

# Warn this long before the guarantee ends: time to ship and capture, or to cancel.
LAPSE_WARNING = timedelta(days=2)


class Guarantee(enum.StrEnum):
    NONE = "none"  # nothing left to capture, or the API gave no date
    HELD = "held"  # guaranteed for longer than the warning period
    LAPSING = "lapsing"  # the guarantee ends within the warning period
    ENDED = "ended"  # the guarantee has ended: a capture may fail


def capture_guarantee(
    payment: Payment, now: datetime, *, warn_within: timedelta = LAPSE_WARNING
) -> Guarantee:
    """Where the capture guarantee of ``payment``'s uncaptured remainder stands at ``now``."""
    until = payment.capture_guaranteed_until
    if until is None or not capturable(payment):
        return Guarantee.NONE
    left = _aware(until) - _aware(now)
    if left <= timedelta(0):
        return Guarantee.ENDED
    return Guarantee.LAPSING if left <= warn_within else Guarantee.HELD


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
