"""Pure records and rules of the ePayment world: Money, Aggregate, Payment, PaymentEvent, State,
and what an action would do (releasable amount, cancel outcome, capturable, refundable).

Belongs here: frozen dataclasses, enums, pure functions. No I/O, no clock reads, no Qt, no httpx,
and nothing else of ``epay_desktop`` may be imported here (import-linter enforces it).
"""

from __future__ import annotations

from epay_desktop.domain.business import BADGE_COLOURS, BusinessState, business_state, state_sentence
from epay_desktop.domain.country import COUNTRIES, Country, country_for, with_country_code
from epay_desktop.domain.events import apply_event
from epay_desktop.domain.money import Currency, Money, MoneyError
from epay_desktop.domain.payment import (
    Aggregate,
    EventName,
    Payment,
    PaymentEvent,
    State,
)
from epay_desktop.domain.reference import REFERENCE_PATTERN, is_valid_reference
from epay_desktop.domain.reservation import LAPSE_WARNING, Guarantee, capture_guarantee
from epay_desktop.domain.rules import (
    Action,
    ActionCheck,
    CancelOutcome,
    cancel_outcome,
    capturable,
    check_action,
    projected,
    refundable,
    releasable,
)
from epay_desktop.domain.tracked import STALE_AFTER, RowMark, TrackedPayment, newest_event_at

__all__ = [
    "BADGE_COLOURS",
    "COUNTRIES",
    "LAPSE_WARNING",
    "REFERENCE_PATTERN",
    "STALE_AFTER",
    "Action",
    "ActionCheck",
    "Aggregate",
    "BusinessState",
    "CancelOutcome",
    "Country",
    "Currency",
    "EventName",
    "Guarantee",
    "Money",
    "MoneyError",
    "Payment",
    "PaymentEvent",
    "RowMark",
    "State",
    "TrackedPayment",
    "apply_event",
    "business_state",
    "cancel_outcome",
    "capturable",
    "capture_guarantee",
    "check_action",
    "country_for",
    "is_valid_reference",
    "newest_event_at",
    "projected",
    "refundable",
    "releasable",
    "state_sentence",
    "with_country_code",
]
