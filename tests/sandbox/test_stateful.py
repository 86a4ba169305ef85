"""Random sequences of operations never break the payment invariants (hypothesis, stateful).

Drives the engine directly (no HTTP, so thousands of steps stay fast); the HTTP layer is covered
by the other tests. Invariants: captured + cancelled ≤ authorized; refunded ≤ captured; final
states stay final; the event log adds up to the aggregate; replays with a used key change nothing.
"""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from epay_desktop.sandbox.clock import Clock
from epay_desktop.sandbox.engine import CUSTOMER_ACTIONS, Engine
from epay_desktop.sandbox.problems import RETRY_LATER, ProblemError

MSN = "123456"
REFERENCES = [f"stateful-ref-{i}" for i in range(3)]
refs = st.sampled_from(REFERENCES)
amounts = st.integers(min_value=1, max_value=3000)


def _modification(value: int) -> dict[str, Any]:
    return {"modificationAmount": {"currency": "NOK", "value": value}}


class PaymentMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.engine = Engine(Clock(frozen=True), rate_limits=False)
        self.final: dict[str, str] = {}
        self.used: list[tuple[str, str, str, Any]] = []  # (op, reference, key, body)
        # Keys whose last answer asked to try again later with the same key (RETRY_LATER): their
        # replay may take effect, once (agent-toolkit epayment_references_errors.md 6250, 6260, 6280).
        self.retry_later: set[str] = set()
        self.counter = 0

    def _key(self) -> str:
        self.counter += 1
        return f"key-{self.counter}"

    def _try(self, op: str, reference: str, key: str, body: Any) -> None:
        run = {"cancel": self.engine.cancel, "capture": self.engine.capture, "refund": self.engine.refund}
        status = 200
        self.retry_later.discard(key)
        try:
            run[op](MSN, reference, key, body)
        except ProblemError as problem:
            status = problem.status
            if problem.code in RETRY_LATER:
                self.retry_later.add(key)
        assert status in (200, 400, 404, 409)
        self.used.append((op, reference, key, body))

    @rule(reference=refs, value=st.integers(min_value=100, max_value=5000))
    def create(self, reference: str, value: int) -> None:
        body = {
            "amount": {"currency": "NOK", "value": value},
            "paymentMethod": {"type": "WALLET"},
            "reference": reference,
            "userFlow": "QR",
        }
        try:
            self.engine.create(MSN, self._key(), body, "http://sandbox.epay.local/landing")
        except ProblemError as problem:
            status = problem.status
            assert status == 409  # the reference exists

    @rule(reference=refs, action=st.sampled_from(CUSTOMER_ACTIONS))
    def customer(self, reference: str, action: str) -> None:
        try:
            self.engine.customer(MSN, reference, action)
        except ProblemError as problem:
            status = problem.status
            # 400 10010: an approval of a test amount that fails on purpose (test-and-go-live_SKILL.md)
            assert status in (400, 404, 409)

    @rule(reference=refs)
    def force_approve(self, reference: str) -> None:
        try:
            self.engine.force_approve(MSN, reference)
        except ProblemError as problem:
            status = problem.status
            assert status in (400, 404)

    @rule(reference=refs, transaction_only=st.booleans())
    def cancel(self, reference: str, transaction_only: bool) -> None:
        self._try("cancel", reference, self._key(), {"cancelTransactionOnly": transaction_only})

    @rule(reference=refs, value=amounts)
    def capture(self, reference: str, value: int) -> None:
        self._try(
            "capture", reference, self._key(), {"modificationAmount": {"currency": "NOK", "value": value}}
        )

    @rule(reference=refs, value=amounts)
    def refund(self, reference: str, value: int) -> None:
        self._try(
            "refund", reference, self._key(), {"modificationAmount": {"currency": "NOK", "value": value}}
        )

    @rule(index=st.integers(min_value=0, max_value=10_000))
    def replay(self, index: int) -> None:
        if not self.used:
            return
        op, reference, key, body = self.used[index % len(self.used)]
        before = self.engine.snapshot()["payments"]
        may_take_effect = key in self.retry_later
        self._try(op, reference, key, body)
        if not may_take_effect:
            assert self.engine.snapshot()["payments"] == before  # a replay never has a second effect

    @rule(seconds=st.sampled_from([1, 60, 599, 601]))
    def time_passes(self, seconds: int) -> None:
        self.engine.clock.advance(seconds)

    @invariant()
    def money_adds_up(self) -> None:
        if not hasattr(self, "engine"):
            return
        for reference in REFERENCES:
            payment = self.engine.payments.get((MSN, reference))
            if payment is None:
                continue
            self.engine.get(MSN, reference)  # settles expiry
            assert payment.captured + payment.cancelled <= max(payment.authorized, payment.amount)
            assert payment.refunded <= payment.captured
            if payment.state != "TERMINATED":
                assert payment.captured + payment.cancelled <= payment.authorized
            totals = dict.fromkeys(("AUTHORIZED", "CAPTURED", "REFUNDED", "CANCELLED", "TERMINATED"), 0)
            for event in payment.events:
                if event.name in totals:
                    totals[event.name] += event.amount
            assert totals["AUTHORIZED"] == payment.authorized
            assert totals["CAPTURED"] == payment.captured
            assert totals["REFUNDED"] == payment.refunded
            assert totals["CANCELLED"] + totals["TERMINATED"] == payment.cancelled
            assert payment.events[0].name == "CREATED"
            assert len({e.psp_reference for e in payment.events}) == len(payment.events)
            previous = self.final.get(reference)
            if previous is not None:
                assert payment.state == previous, f"{reference} left final state {previous}"
            if payment.state != "CREATED":
                self.final[reference] = payment.state


TestPaymentMachine = PaymentMachine.TestCase
TestPaymentMachine.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
