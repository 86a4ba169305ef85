"""Four-eyes approval for a team: a refund, or a batch, above the merchant's threshold is not sent
but held as a request (who asked, what, how much, why) until a second supervisor approves it; then it
is sent once through the one journaled-send engine; a rejected or expired request never is. Every
request ends: an approved one as ``sent`` (every payment moved), ``failed`` (a payment could not be
started — it moved on, another operation holds it — or was refused; the request says which and why),
or ``expired`` when its time ran out before any of it was started.

- The Idempotency-Key of every item is fixed when the request is made (in PostgreSQL), so sending an
  approved request again, from any instance (one was killed mid-send), reuses it: each item moves
  money at most once.
- Deciding is one conditional write (``PgApprovals.decide``): of two supervisors approving at the same
  moment one sends and the other is told who did; an approval racing an expiry either happens before
  the time is up or not at all.
- Every ask, approval, rejection, expiry and send has its audit line, written by the server in the same
  transaction as the change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from epay_desktop.api import EPaymentError, new_idempotency_key, redact
from epay_desktop.domain import Money
from epay_desktop.services.accounts import TEAM_PROFILE, Agent, Role, at_least
from epay_desktop.services.engine import SendResult
from epay_desktop.services.errors import DeskError, said
from epay_desktop.services.team_moves import NotPermittedError, TeamMoves
from epay_desktop.store import IntentStatus, Operation, RegisterError
from epay_desktop.store.postgres import ApprovalRequest, PgStore

__all__ = [
    "APPROVAL_LIFETIME",
    "MAX_BATCH",
    "ApprovalClosedError",
    "ApprovalNotFoundError",
    "ItemOutcome",
    "NotApprovedError",
    "OwnRequestError",
    "ReasonNeededError",
    "SentRequest",
    "TeamApprovals",
]

APPROVAL_LIFETIME = timedelta(hours=24)
MAX_BATCH = 500
FINAL = frozenset({IntentStatus.SUCCEEDED, IntentStatus.RECONCILED, IntentStatus.FAILED})


class ReasonNeededError(DeskError):
    """The move is held for approval, and the second person needs to know why: nothing was kept."""

    def __init__(self, threshold: Money) -> None:
        super().__init__(
            f"Above {threshold.plain()} a second person approves this before it is sent; say why "
            '("reason") so they can decide. Nothing was sent or kept.'
        )
        self.threshold = threshold


class ApprovalNotFoundError(DeskError):
    """There is no approval request with that number."""


class ApprovalClosedError(DeskError):
    """The request was decided already (by someone else), or expired: this call changed nothing."""

    def __init__(self, request: ApprovalRequest) -> None:
        if request.status == "expired":
            text = (
                f"Request #{request.id} expired at {request.expires_at:%Y-%m-%d %H:%M} UTC; nothing was sent."
            )
        else:
            text = f"Request #{request.id} was {request.status} already by {request.decided_by}."
        super().__init__(text)
        self.request = request


class OwnRequestError(DeskError):
    """Whoever asked cannot approve their own request (four eyes)."""

    def __init__(self, request: ApprovalRequest) -> None:
        super().__init__(
            f"Request #{request.id} is yours: another supervisor approves it (you may reject it to withdraw)."
        )
        self.request = request


class NotApprovedError(DeskError):
    """Only an approved request is sent."""

    def __init__(self, request: ApprovalRequest) -> None:
        super().__init__(f"Request #{request.id} is {request.status}: only an approved request is sent.")
        self.request = request


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What sending one item did: ``result`` (the API confirmed it), or ``error`` (refused, not sent,
    outcome unknown, or could not be begun), or neither (it had an outcome before this send)."""

    reference: str
    amount: Money | None
    idempotency_key: str
    result: SendResult | None = None
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class SentRequest:
    """An approved request after a send: as the database has it now, and each item's outcome."""

    request: ApprovalRequest
    items: tuple[ItemOutcome, ...]


class TeamApprovals:
    """Holding, deciding and sending approval requests (see the module)."""

    def __init__(
        self,
        store: PgStore,
        moves: TeamMoves,
        thresholds: Mapping[str, Money],
        *,
        lifetime: timedelta = APPROVAL_LIFETIME,
    ) -> None:
        self._store = store
        self._moves = moves
        self._thresholds = dict(thresholds)
        self.lifetime = lifetime

    async def threshold(self, msn: str) -> Money | None:
        """The merchant's approval threshold: an admin's (in the database, the same for every instance)
        or else the configuration file's; None: nothing is held."""
        return (await self.thresholds()).get(msn)

    async def thresholds(self) -> dict[str, Money]:
        set_by_admins = await asyncio.to_thread(self._store.limits.thresholds)
        merged: dict[str, Money | None] = {**self._thresholds, **set_by_admins}
        return {msn: money for msn, money in merged.items() if money is not None}

    async def set_threshold(self, agent: Agent, msn: str, threshold: Money | None) -> None:
        """An admin sets (or, None, removes) a merchant's approval threshold; audited."""
        if not at_least(agent.role, Role.ADMIN):
            raise NotPermittedError(f"As {agent.role.value} you may not change limits; that needs admin.")
        self._moves.engine(agent, msn)  # an unknown merchant is refused before anything is kept
        await asyncio.to_thread(self._store.limits.set_threshold, msn, threshold, by=agent.name)
        await asyncio.to_thread(
            self._store.audit.record,
            os_user=agent.name,
            profile=TEAM_PROFILE,
            msn=msn,
            action="set limit",
            result="succeeded",
            detail=f"approval threshold {threshold.plain() if threshold else 'none'}",
        )

    # --- what is held -------------------------------------------------------------------------------

    async def _release_of(self, msn: str, reference: str) -> Money | None:
        """What a cancel would release, by the register's last snapshot (None: not known)."""
        tracked = await asyncio.to_thread(self._store.register.get, msn, reference)
        if tracked is None or tracked.payment is None:
            return None
        agg = tracked.payment.aggregate
        return (agg.authorized - agg.captured - agg.cancelled).clamp_at_zero()

    async def _total(
        self, msn: str, operation: Operation, items: Sequence[tuple[str, Money | None]]
    ) -> Money | None:
        """The money the items move together; None when it is not known (a cancel of a payment never
        read) or they are in more than one currency."""
        amounts = [
            amount if operation is not Operation.CANCEL else await self._release_of(msn, reference)
            for reference, amount in items
        ]
        known = [a for a in amounts if a is not None]
        if len(known) != len(amounts) or not known or len({a.currency for a in known}) != 1:
            return None
        total = known[0]
        for amount in known[1:]:
            total = total + amount
        return total

    async def held(
        self, msn: str, operation: Operation, items: Sequence[tuple[str, Money | None]], *, batch: bool
    ) -> bool:
        """Whether these items wait for a second person: a refund, or any batch, whose money is above
        the merchant's threshold (or cannot be compared with it: held, to be safe). No threshold for
        the merchant: nothing is held."""
        threshold = await self.threshold(msn)
        if threshold is None or not (batch or operation is Operation.REFUND):
            return False
        total = await self._total(msn, operation, items)
        return total is None or total.currency is not threshold.currency or total > threshold

    # --- moving or asking ---------------------------------------------------------------------------

    async def move(
        self,
        agent: Agent,
        operation: Operation,
        msn: str,
        reference: str,
        amount: Money | None,
        *,
        again: bool = False,
        reason: str = "",
    ) -> SendResult | ApprovalRequest:
        """One move: sent (``TeamMoves.move``), or held for approval when it is a refund above the
        merchant's threshold (the request is returned; nothing was sent)."""
        if await self.held(msn, operation, [(reference, amount)], batch=False):
            return await self.ask(agent, msn, operation, [(reference, amount)], reason=reason, again=again)
        return await self._moves.move(agent, operation, msn, reference, amount, again=again, reason=reason)

    async def batch(
        self,
        agent: Agent,
        msn: str,
        operation: Operation,
        items: Sequence[tuple[str, Money | None]],
        *,
        again: bool = False,
        reason: str = "",
    ) -> tuple[ItemOutcome, ...] | ApprovalRequest:
        """Many payments, one operation (supervisors): held for approval when their money together is
        above the merchant's threshold; else each sent on its own (its own intent and key), one after
        the other, each outcome reported."""
        if not at_least(agent.role, Role.SUPERVISOR):
            await self._moves.refuse(agent, operation, msn, "", needed=Role.SUPERVISOR)
            raise NotPermittedError(f"As {agent.role.value} you may not send a batch; that needs supervisor.")
        if not items or len(items) > MAX_BATCH:
            raise DeskError(f"A batch has 1 to {MAX_BATCH} payments; this one has {len(items)}.")
        if len({reference for reference, _amount in items}) != len(items):
            raise DeskError("A batch names each payment once.")
        if await self.held(msn, operation, items, batch=True):
            return await self.ask(agent, msn, operation, items, reason=reason, again=again)
        outcomes = []
        for reference, amount in items:
            try:
                done = await self._moves.move(
                    agent, operation, msn, reference, amount, again=again, reason=reason
                )
            except (DeskError, EPaymentError) as problem:
                outcomes.append(ItemOutcome(reference, amount, "", error=problem))
            else:
                outcomes.append(ItemOutcome(reference, amount, done.intent.idempotency_key, result=done))
        return tuple(outcomes)

    # --- asking -------------------------------------------------------------------------------------

    async def ask(
        self,
        agent: Agent,
        msn: str,
        operation: Operation,
        items: Sequence[tuple[str, Money | None]],
        *,
        reason: str,
        again: bool = False,
    ) -> ApprovalRequest:
        """Hold ``items`` for approval (nothing is sent). Each gets its Idempotency-Key now."""
        await self._moves.check_role(agent, operation, msn, items[0][0] if len(items) == 1 else "")
        self._moves.engine(agent, msn)  # an unknown merchant is refused before anything is kept
        why = redact(reason.strip())
        if not why:
            threshold = await self.threshold(msn)
            assert threshold is not None  # only a merchant with a threshold holds anything
            raise ReasonNeededError(threshold)
        return await asyncio.to_thread(
            self._store.approvals.ask,
            msn=msn,
            operation=operation.value,
            items=[(reference, amount, new_idempotency_key()) for reference, amount in items],
            total=await self._total(msn, operation, items),
            reason=why[:500],
            again=again,
            requested_by=agent.name,
            lifetime=self.lifetime,
        )

    # --- reading ------------------------------------------------------------------------------------

    async def expire_due(self) -> list[ApprovalRequest]:
        """Expire every request whose time is up (each audited); safe from every instance at once."""
        return await asyncio.to_thread(self._store.approvals.expire_due)

    async def requests(
        self, *, status: str | None = "pending", msn: str | None = None
    ) -> list[ApprovalRequest]:
        """Requests, newest first; the ones whose time is up are expired first."""
        await self.expire_due()
        return await asyncio.to_thread(self._store.approvals.all, status=status, msn=msn)

    async def get(self, request_id: int) -> ApprovalRequest:
        found = await asyncio.to_thread(self._store.approvals.get, request_id)
        if found is None:
            raise ApprovalNotFoundError(f"There is no approval request #{request_id}.")
        return found

    # --- deciding and sending -----------------------------------------------------------------------

    def _supervisor(self, agent: Agent) -> None:
        if not at_least(agent.role, Role.SUPERVISOR):
            raise NotPermittedError(
                f"As {agent.role.value} you may not decide approval requests; that needs supervisor."
            )

    async def approve(self, agent: Agent, request_id: int, *, note: str = "") -> SentRequest:
        """Approve a pending request of someone else's and send it (see :meth:`send`)."""
        self._supervisor(agent)
        request = await self._decide(agent, request_id, "approved", note)
        return await self._send(agent, request)

    async def reject(self, agent: Agent, request_id: int, *, note: str = "") -> ApprovalRequest:
        """Reject a pending request (whoever asked may too: a withdrawal); it is never sent."""
        self._supervisor(agent)
        return await self._decide(agent, request_id, "rejected", note)

    async def _decide(self, agent: Agent, request_id: int, decision: str, note: str) -> ApprovalRequest:
        decided, request = await asyncio.to_thread(
            self._store.approvals.decide, request_id, decision, by=agent.name, note=note.strip()[:500]
        )
        if request is None:
            raise ApprovalNotFoundError(f"There is no approval request #{request_id}.")
        if decided:
            return request
        if request.status == "pending" and request.requested_by == agent.name:
            raise OwnRequestError(request)
        raise ApprovalClosedError(request)

    async def send(self, agent: Agent, request_id: int) -> SentRequest:
        """Finish sending an approved request (the instance that approved it stopped mid-send, or an
        item's outcome was unknown): items without an outcome are settled or sent again with their
        own keys; items already finished are left as they are."""
        self._supervisor(agent)
        request = await self.get(request_id)
        if request.status not in ("approved", "sent"):
            raise NotApprovedError(request)
        return await self._send(agent, request)

    async def _send(self, agent: Agent, request: ApprovalRequest) -> SentRequest:
        """Start each item not started yet (with its own key) and settle each without an outcome; then,
        when every item has an outcome or could not be started, end the request once: ``sent`` when
        every payment moved, else ``failed`` saying which did not and why."""
        engine = self._moves.engine(agent, request.msn)
        operation = Operation(request.operation)
        why = f"approved request #{request.id} asked by {request.requested_by}: {request.reason}"
        outcomes = []
        not_started: dict[str, str] = {}  # reference -> why it could not be started
        for item in request.items:
            result: SendResult | None = None
            error: BaseException | None = None
            try:
                if item.intent_id is None:
                    try:
                        intent = await engine.begin(
                            operation,
                            item.reference,
                            item.amount,
                            key=item.idempotency_key,
                            reason=why,
                            again=request.again,
                        )
                    except (DeskError, RegisterError) as problem:
                        started, open_ = await self._started_elsewhere(request.id, item.position)
                        if not open_:
                            # Ended meanwhile (its time ran out): the rest is never started either.
                            outcomes.append(ItemOutcome(item.reference, item.amount, item.idempotency_key))
                            break
                        if not started:
                            if isinstance(problem, RegisterError) and not isinstance(problem, DeskError):
                                raise  # the database, not the payment: tried again by the next send
                            not_started[item.reference] = said(problem)
                            error = problem
                        outcomes.append(
                            ItemOutcome(item.reference, item.amount, item.idempotency_key, None, error)
                        )
                        continue
                    result = await engine.send(intent, None, source="approval")
                elif item.intent_status is IntentStatus.PENDING:
                    unfinished = await engine.current(item.intent_id)
                    if unfinished is not None and unfinished.status is IntentStatus.PENDING:
                        result = await engine.resume(unfinished, None, source="approval")
            except (DeskError, EPaymentError) as problem:
                error = problem
            outcomes.append(ItemOutcome(item.reference, item.amount, item.idempotency_key, result, error))
        now = await self.get(request.id)
        if now.status == "approved":
            await self._end_if_settled(agent, now, not_started)
            now = await self.get(request.id)
        return SentRequest(now, tuple(outcomes))

    async def _started_elsewhere(self, request_id: int, position: int) -> tuple[bool, bool]:
        """After a start was refused: (whether the item has an intent now — another instance started
        it with the same key —, whether the request is still approved)."""
        now = await self.get(request_id)
        item = next(i for i in now.items if i.position == position)
        return item.intent_id is not None, now.status == "approved"

    async def _end_if_settled(
        self, agent: Agent, request: ApprovalRequest, not_started: dict[str, str]
    ) -> None:
        settled = all(i.intent_status in FINAL or i.reference in not_started for i in request.items)
        if not settled:
            return  # an outcome is still unknown: a later send (or the expiry) settles it
        summary = "; ".join(
            f"{i.reference}: {i.intent_status.value if i.intent_status else 'not started'}"
            for i in request.items
        )
        failed = [
            f"{i.reference}: {not_started[i.reference]}"
            if i.reference in not_started
            else f"{i.reference}: {i.outcome or i.intent_status}"
            for i in request.items
            if i.reference in not_started or i.intent_status is IntentStatus.FAILED
        ]
        await asyncio.to_thread(
            self._store.approvals.finish,
            request.id,
            "failed" if failed else "sent",
            failure="; ".join(failed),
            by=agent.name,
            summary=summary,
        )
