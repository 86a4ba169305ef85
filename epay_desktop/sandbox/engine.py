"""The payment engine: the state machine (FACTS.md §7–§10), with idempotency (``idempotency.py``) and
rate limits (``limits.py``). No HTTP here.

Every public method takes the engine's lock for its whole run and never awaits, so concurrent
requests (the uvicorn loop, the test client, the thread pool) see one change at a time: ten copies
of one idempotent request give exactly one effect.
"""

from __future__ import annotations

import random
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from epay_desktop.domain import Currency
from epay_desktop.sandbox import validation as v
from epay_desktop.sandbox.clock import Clock
from epay_desktop.sandbox.create_request import CreateRequest, parse_create
from epay_desktop.sandbox.faults import Faults
from epay_desktop.sandbox.idempotency import Answer, AnswerStore
from epay_desktop.sandbox.limits import RateLimiter
from epay_desktop.sandbox.problems import ProblemError
from epay_desktop.sandbox.records import (
    ABORTED,
    AUTHORIZED,
    CREATED,
    EXPIRED,
    TERMINATED,
    EventRecord,
    PaymentRecord,
)

DEFAULT_TIMEOUT = timedelta(minutes=10)
# Sales units of the demo identities: a payment in another currency gets 5040, as a real unit would.
KNOWN_UNITS = {"123456": Currency.NOK, "223344": Currency.DKK, "334455": Currency.EUR}
CUSTOMER_ACTIONS = ("approve", "reject", "start-authorizing", "finish-authorizing", "expire")

# Amounts that make the test environment fail on purpose (test-and-go-live_SKILL.md "Amounts that
# trigger specific failures"): the approval fails and the payment stays CREATED.
FAILING_APPROVALS = {
    151: "Insufficient funds",
    182: "Refused by issuer",
    183: "Suspected fraud",
    184: "Withdrawal limit exceeded",
    186: "Expired card",
    187: "Invalid card",
}
FAILING_APPROVALS_NORWAY = {197: "3-D Secure denied", 202: "Strong customer authentication required"}
UNKNOWN_RESULT_AMOUNT, UNKNOWN_RESULT_FOR = 201, timedelta(hours=1)
# Refund amounts of the same table: 123 "Cannot refund: user deleted or has no receiving account",
# 124 "Refund period expired".
FAILING_REFUNDS = {
    123: ("5100", "Cannot refund: the user is deleted or has no receiving account (test amount 123)."),
    124: ("6220", "Refund period expired (test amount 124)."),
}


class Engine:
    def __init__(
        self,
        clock: Clock,
        *,
        seed: int = 0,
        rate_limits: bool = True,
        faults: Faults | None = None,
        late_capture: Iterable[str] = (),
    ) -> None:
        self.clock = clock
        self.faults = faults or Faults()
        self.late_capture = frozenset(late_capture)  # MSNs of sales units with late capture
        self.in_flight: set[tuple[str, str]] = set()  # payments a modification holds (423)
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.payments: dict[tuple[str, str], PaymentRecord] = {}
        self.answers = AnswerStore(changed=self._answer_changed)
        self.limits = RateLimiter(clock, self.lock, enabled=rate_limits)
        self.version = 0  # bumped on every change (persistence saves when it moves)
        # What changed since persistence last took it: a save writes these rows, not the whole state.
        self.changed_payments: set[tuple[str, str]] = set()
        self.changed_answers: set[tuple[str, str, str, str]] = set()
        self.cleared = False
        # Called for every new event, under the lock (webhooks queue it there, never awaiting).
        self.event_listeners: list[Callable[[PaymentRecord, EventRecord], None]] = []

    def _answer_changed(self, scope: tuple[str, str, str, str]) -> None:
        self.changed_answers.add(scope)
        self.version += 1

    def _touched(self, payment: PaymentRecord) -> None:
        self.changed_payments.add((payment.msn, payment.reference))
        self.version += 1

    # -- ids ------------------------------------------------------------------------------------
    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_event_psp(self) -> str:
        return str(self.rng.randrange(1_000_000_000, 9_999_999_999))

    # -- rate limits ----------------------------------------------------------------------------
    def check_rate(self, operation: str, msn: str, reference: str, subscription_key: str) -> None:
        """Per endpoint (operations.md): 5/min per (reference, MSN) for create, capture, cancel and
        refund each; 120/min per (reference, subscription key) for get and events each."""
        self.limits.check(operation, msn, reference, subscription_key)

    # -- one modification at a time per payment ------------------------------------------------
    def hold(self, msn: str, reference: str) -> None:
        """Mark a payment as being modified, or refuse with 423 "Order processing" (6160, errors.md:
        "Another operation holds the payment. Retry shortly") when another modification holds it."""
        with self.lock:
            if (msn, reference) in self.in_flight:
                raise ProblemError.of(
                    "6160", "Another operation on this payment is running; retry shortly with the same key."
                )
            self.in_flight.add((msn, reference))

    def release(self, msn: str, reference: str) -> None:
        with self.lock:
            self.in_flight.discard((msn, reference))

    # -- lookups --------------------------------------------------------------------------------
    def _find(self, msn: str, reference: str) -> PaymentRecord:
        payment = self.payments.get((msn, reference))
        if payment is None:
            raise ProblemError.of("5090", f"No payment with reference {reference!r} for this merchant.")
        self._settle(payment)
        return payment

    def _settle(self, payment: PaymentRecord) -> None:
        """Expire a payment the customer left unanswered past its deadline; authorize one whose
        "unknown result" (test amount 201) has become known."""
        pending = payment.result_pending_until
        if payment.state == CREATED and pending is not None:
            if self.clock.now() >= pending:
                payment.result_pending_until = None
                self._authorize(payment, at=pending)
            return
        if payment.state == CREATED and self.clock.now() >= payment.expires_at:
            payment.authorizing = False
            self._event(payment, EXPIRED, payment.amount, None, at=payment.expires_at)
            payment.state = EXPIRED

    def _event(self, payment: PaymentRecord, name: str, amount: int, key: str | None, at: Any = None) -> None:
        psp = payment.psp_reference if name == "CREATED" else self.new_event_psp()
        record = EventRecord(name, amount, at or self.clock.now(), psp, key)
        payment.events.append(record)
        self._touched(payment)
        for listener in self.event_listeners:
            listener(payment, record)

    def get(self, msn: str, reference: str) -> dict[str, Any]:
        with self.lock:
            return self._find(msn, reference).get_json()

    def events(self, msn: str, reference: str) -> list[dict[str, Any]]:
        with self.lock:
            return self._find(msn, reference).events_json()

    def list_payments(self, msn: str, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        with self.lock:
            mine = [p for (m, _), p in self.payments.items() if m == msn]
            for p in mine:
                self._settle(p)
            mine.sort(key=lambda p: (p.created_at, p.reference), reverse=True)
            return [p.listing_json() for p in mine[offset : offset + limit]], len(mine)

    # -- create ---------------------------------------------------------------------------------
    def create(
        self, msn: str, key: str, body: Any, landing_url: str, qr_image_url: str | None = None
    ) -> Answer:
        """``landing_url``: the page a customer opens; ``qr_image_url``: where QR images are served
        (``redirectUrl`` of a QR payment asked as IMAGE/SVG+XML or IMAGE/PNG)."""
        with self.lock:
            request = parse_create(body, self.clock.now())
            scope = (msn, request.reference, "create", key)
            return self.answers.answer(
                scope,
                request.fingerprint,
                "4020",
                lambda: self._create(msn, key, request, landing_url, qr_image_url or landing_url),
            )

    def _create(
        self, msn: str, key: str, request: CreateRequest, landing_url: str, qr_image_url: str
    ) -> Answer:
        if (msn, request.reference) in self.payments:
            raise ProblemError.of("4150", f"A payment with reference {request.reference!r} already exists.")
        unit = KNOWN_UNITS.get(msn)
        if unit is not None and request.currency is not unit:
            raise ProblemError.of(
                "5040", f"This sales unit takes {unit.value}, not {request.currency.value}."
            )
        if request.blocked_sources and request.currency is Currency.NOK:
            raise ProblemError.of("5010", "blockedSources is for Danish and Finnish sales units only.")
        now = self.clock.now()
        token = secrets.token_urlsafe(24)
        landing = f"{landing_url}?token={token}"
        redirect: str | None = landing
        if request.user_flow == "PUSH_MESSAGE":
            redirect = None
        elif request.qr_format in ("IMAGE/SVG+XML", "IMAGE/PNG"):
            redirect = f"{qr_image_url}?token={token}"  # a QR image of the landing URL
        payment = PaymentRecord(
            msn=msn,
            reference=request.reference,
            currency=request.currency,
            amount=request.value,
            user_flow=request.user_flow,
            description=request.description,
            created_at=now,
            expires_at=request.expires_at or now + DEFAULT_TIMEOUT,
            psp_reference=self.new_uuid(),
            payment_method=request.payment_method,
            redirect_url=redirect,
            phone_number=request.phone_number,
            profile_scope=request.profile_scope,
            metadata=request.metadata,
            qr_format=request.qr_format,
            qr_size=request.qr_size,
            landing_url=None if request.user_flow == "PUSH_MESSAGE" else landing,
            late_capture=msn in self.late_capture,
        )
        self._event(payment, "CREATED", payment.amount, key, at=now)
        self.payments[(msn, request.reference)] = payment
        answer: dict[str, Any] = {"reference": request.reference}
        if redirect:
            answer["redirectUrl"] = redirect
        return 201, answer

    # -- cancel, capture, refund ----------------------------------------------------------------
    def cancel(self, msn: str, reference: str, key: str | None, body: Any) -> Answer:
        """``key`` None: no Idempotency-Key (recommended, not required on cancel, operations.md);
        such a cancel is not idempotent, each one is its own attempt."""
        with self.lock:
            transaction_only = v.parse_cancel(body)
            if key is None:
                return self._cancel(msn, reference, None, transaction_only)
            fp = v.fingerprint({"cancelTransactionOnly": transaction_only})
            return self.answers.answer(
                (msn, reference, "cancel", key),
                fp,
                "4020",
                lambda: self._cancel(msn, reference, key, transaction_only),
            )

    def _cancel(self, msn: str, reference: str, key: str | None, transaction_only: bool) -> Answer:
        p = self._find(msn, reference)
        if p.state == CREATED:
            if p.authorizing or p.result_pending_until is not None:
                raise ProblemError.of(
                    "6250", "The customer is authorizing the payment right now; try again later."
                )
            p.cancelled = p.amount
            p.state = TERMINATED
            self._event(p, TERMINATED, p.amount, key)
        elif p.state == AUTHORIZED:
            if transaction_only:
                raise ProblemError.of(
                    "6060", "cancelTransactionOnly is true and the payment is already authorized."
                )
            remainder = p.authorized - p.captured - p.cancelled
            if p.captured >= p.authorized:
                raise ProblemError.of("6040", "The whole amount is captured; refund instead.")
            if remainder <= 0:
                raise ProblemError.of(
                    "6190", "The remaining amount was already cancelled. Invalid state: AUTHORIZED"
                )
            self._check_deadline(p, "6030", "Cancel period expired")
            p.cancelled += remainder
            self._event(p, "CANCELLED", remainder, key)
        else:
            raise ProblemError.of(
                "6190",
                f"Only a CREATED or AUTHORIZED payment can be cancelled; this one is {p.state}. "
                f"Invalid state: {p.state}",
            )
        return 200, p.modification_json()

    def capture(self, msn: str, reference: str, key: str, body: Any) -> Answer:
        return self._modify("capture", "4010", self._capture, msn, reference, key, body)

    def refund(self, msn: str, reference: str, key: str, body: Any) -> Answer:
        return self._modify("refund", "4151", self._refund, msn, reference, key, body)

    def _modify(
        self,
        operation: str,
        conflict: str,
        apply: Callable[[PaymentRecord, str, int], Answer],
        msn: str,
        reference: str,
        key: str,
        body: Any,
    ) -> Answer:
        """A capture or refund: the same body (``modificationAmount``), the same idempotency, the same
        currency check; ``apply`` moves the money on the payment. ``conflict``: the error code of a key
        reused with another body."""
        with self.lock:
            currency, value = v.parse_modification(body)
            fp = v.fingerprint({"currency": currency.value, "value": value})

            def action() -> Answer:
                p = self._find(msn, reference)
                if currency is not p.currency:
                    raise ProblemError.of(
                        "4040", f"The payment is in {p.currency.value}, not {currency.value}."
                    )
                return apply(p, key, value)

            return self.answers.answer((msn, reference, operation, key), fp, conflict, action)

    def _check_deadline(self, p: PaymentRecord, code: str, what: str) -> None:
        """Capture and cancel end at the capture deadline (payment-lifecycle_SKILL.md "Capture attempt
        deadlines" and "Cancel": HTTP 400; errors.md 6030 / 6100)."""
        deadline = p.capture_deadline
        if deadline is not None and self.clock.now() > deadline:
            days = (deadline - (p.authorized_at or deadline)).days
            raise ProblemError.of(code, f"{what}: the reservation ended {days} days after authorization.")

    def _capture(self, p: PaymentRecord, key: str, value: int) -> Answer:
        if p.state == CREATED:
            raise ProblemError.of(
                "6080",
                "The amount you tried to capture is not reserved. "
                "The user must accept the payment before capture can be done.",
            )
        if p.state != AUTHORIZED:
            raise ProblemError.of("6200", f"A payment in state {p.state} cannot be captured.")
        if p.cancelled > 0:
            raise ProblemError.of("6070", "The payment was cancelled; nothing more can be captured.")
        if p.captured + value > p.authorized:
            raise ProblemError.of(
                "6090", f"Only {p.authorized - p.captured} is left to capture; you asked for {value}."
            )
        self._check_deadline(p, "6100", "Capture period expired")
        refusal = self.faults.take_capture_refusal()
        if refusal == "6260":
            raise ProblemError.of(
                "6260", "The bank released the reservation early; the funds may become available later."
            )
        if refusal == "6280":
            raise ProblemError.of(
                "6280", "Retry the capture with the same idempotency key after a short wait."
            )
        p.captured += value
        self._event(p, "CAPTURED", value, key)
        return 200, p.modification_json()

    def _refund(self, p: PaymentRecord, key: str, value: int) -> Answer:
        if p.state == CREATED:
            raise ProblemError.of("6020", "The payment is not authorized yet; there is nothing to refund.")
        if p.state != AUTHORIZED:
            raise ProblemError.of("6210", f"A payment in state {p.state} cannot be refunded.")
        if p.refunded + value > p.captured:
            raise ProblemError.of(
                "6150",
                f"Only {p.captured - p.refunded} of the captured amount can be refunded; asked {value}.",
            )
        deadline = p.refund_deadline
        if deadline is not None and self.clock.now() > deadline:
            raise ProblemError.of("6220", "Refund is possible within 365 days of the reservation.")
        if value in FAILING_REFUNDS:
            raise ProblemError.of(*FAILING_REFUNDS[value])
        p.refunded += value
        self._event(p, "REFUNDED", value, key)
        return 200, p.modification_json()

    # -- the customer's side --------------------------------------------------------------------
    def force_approve(self, msn: str, reference: str) -> None:
        with self.lock:
            p = self._find(msn, reference)
            if p.state != CREATED or p.result_pending_until is not None:
                raise ProblemError.of(
                    "10020", f"Only a CREATED payment can be approved; this one is {p.state}."
                )
            self._approve(p)

    def _approve(self, p: PaymentRecord) -> None:
        """The customer approves: the test amounts fail on purpose (refused with 10010 "Approve
        failed", the payment stays CREATED), 201 leaves the result unknown for an hour."""
        reason = FAILING_APPROVALS.get(p.amount)
        if reason is None and p.currency is Currency.NOK:
            reason = FAILING_APPROVALS_NORWAY.get(p.amount)
        if reason is not None:
            p.authorizing = False
            self._touched(p)
            raise ProblemError.of("10010", f"{reason} (test amount {p.amount}).")
        if p.amount == UNKNOWN_RESULT_AMOUNT:
            p.authorizing = True
            p.result_pending_until = self.clock.now() + UNKNOWN_RESULT_FOR
            self._touched(p)
            return
        self._authorize(p)

    def _authorize(self, p: PaymentRecord, at: Any = None) -> None:
        p.authorizing = False
        p.state = AUTHORIZED
        p.authorized = p.amount
        # As in the docs' example, AUTHORIZED carries the create call's idempotency key.
        self._event(p, AUTHORIZED, p.amount, p.events[0].idempotency_key if p.events else None, at=at)

    def customer(self, msn: str, reference: str, action: str) -> dict[str, Any]:
        """Play the customer: approve, reject, start-authorizing, finish-authorizing, expire."""
        with self.lock:
            if action not in CUSTOMER_ACTIONS:
                raise ProblemError(404, "Not Found", f"Unknown customer action {action!r}.")
            p = self._find(msn, reference)
            if p.state != CREATED or p.result_pending_until is not None:
                raise ProblemError(
                    409, "Customer action not possible", f"The payment is {p.state}; the customer is done."
                )
            if action == "start-authorizing":
                if p.authorizing:
                    raise ProblemError(
                        409, "Customer action not possible", "The customer is already authorizing."
                    )
                p.authorizing = True
                self._touched(p)
            elif action == "finish-authorizing":
                if not p.authorizing:
                    raise ProblemError(
                        409, "Customer action not possible", "The customer is not authorizing."
                    )
                self._approve(p)
            elif action == "approve":
                self._approve(p)
            elif action == "reject":
                p.authorizing = False
                p.state = ABORTED
                self._event(p, ABORTED, p.amount, None)
            else:
                p.authorizing = False
                p.state = EXPIRED
                self._event(p, EXPIRED, p.amount, None)
            # The listing form: the payment plus the sandbox's own "authorizing" (3-D Secure running).
            return p.listing_json()

    # -- whole state ----------------------------------------------------------------------------
    def clear(self) -> None:
        with self.lock:
            self.payments.clear()
            self.answers.clear()
            self.limits.clear()
            self.in_flight.clear()
            self.changed_payments.clear()
            self.changed_answers.clear()
            self.cleared = True
            self.version += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "payments": [p.to_state() for p in self.payments.values()],
                "answers": self.answers.to_state(),
            }

    def restore(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.clear()
            for item in data.get("payments", []):
                p = PaymentRecord.from_state(item)
                self.payments[(p.msn, p.reference)] = p
            self.answers.load_state(data.get("answers", []))
