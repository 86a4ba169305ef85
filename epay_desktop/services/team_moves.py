"""Money moved by agents of a team: role checks, then the one journaled-send engine on the team's
PostgreSQL store, with the agent's name as who asked (the database's audit trigger records it).

Nothing here lives only in one process's memory: the journal, the one-pending-intent rule and the
audit are in PostgreSQL, so any number of instances can serve the same payments.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from epay_desktop.domain import Money
from epay_desktop.services.accounts import TEAM_PROFILE, Agent, Role, TeamAccounts, may_move, needed_to_move
from epay_desktop.services.engine import SendEngine, SendResult
from epay_desktop.services.errors import DeskError
from epay_desktop.services.team_payments import TeamPayments, UnknownMerchantError
from epay_desktop.store import Intent, IntentStatus, Operation
from epay_desktop.store.postgres import PgStore

__all__ = [
    "AlreadyDoneError",
    "NotPermittedError",
    "NothingPendingError",
    "TeamMoves",
    "UnknownMerchantError",
]

# A cancel confirmed this recently is reported as done by whoever did it, instead of being sent again.
DONE_WINDOW = timedelta(hours=24)


class NotPermittedError(DeskError):
    """The agent's role does not allow this; nothing was sent."""


class NothingPendingError(DeskError):
    """There is no operation without an outcome on this payment to finish."""


class AlreadyDoneError(DeskError):
    """A cancel of this payment was confirmed already (``intent``, with who asked); nothing was sent."""

    def __init__(self, intent: Intent) -> None:
        super().__init__(
            f"{intent.reference} was already cancelled by {intent.os_user} at "
            f"{intent.finished_at or intent.created_at:%H:%M:%S} UTC. Nothing more was sent."
        )
        self.intent = intent


class TeamMoves:
    """Cancel, capture and refund for agents, one engine per call (the agent is who asks)."""

    def __init__(self, store: PgStore, accounts: TeamAccounts, payments: TeamPayments) -> None:
        self._store = store
        self._accounts = accounts
        self._payments = payments

    @property
    def merchants(self) -> list[str]:
        return self._payments.merchants

    def engine(self, agent: Agent, msn: str) -> SendEngine:
        """The one journaled-send engine for ``agent`` on ``msn``; what it reads is saved in the team's
        register."""
        return SendEngine(
            self._store.journal,
            self._payments.client(msn),
            self._payments.snapshots(msn),
            profile=TEAM_PROFILE,
            operator=agent.name,
        )

    async def refuse(
        self, agent: Agent, operation: Operation, msn: str, reference: str, *, needed: Role | None = None
    ) -> None:
        """Audit a refusal of ``operation`` to ``agent`` for its role."""
        role = (needed or needed_to_move(operation)).value
        await self._accounts.audit(
            agent.name,
            operation.value,
            "refused",
            msn=msn,
            reference=reference,
            detail=f"role {agent.role.value} may not {operation.value}; needs {role}",
        )

    async def check_role(self, agent: Agent, operation: Operation, msn: str, reference: str) -> None:
        """``NotPermittedError`` (audited as refused) unless the agent's role may do ``operation``."""
        if may_move(agent.role, operation):
            return
        await self.refuse(agent, operation, msn, reference)
        needed = needed_to_move(operation).value
        raise NotPermittedError(
            f"As {agent.role.value} you may not {operation.value}; that needs the {needed} role."
        )

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
    ) -> SendResult:
        """``RepeatNotConfirmedError`` (nothing sent) when the same capture or refund of the same
        amount succeeded on the payment minutes ago, unless ``again`` (the agent confirmed a second
        one), as on the desktop and in ``epay``. ``reason`` goes into the audit line."""
        await self.check_role(agent, operation, msn, reference)
        engine = self.engine(agent, msn)
        intent = await engine.begin(operation, reference, amount, again=again, reason=reason)
        if operation is Operation.CANCEL:
            # Checked after our intent is committed: a cancel confirmed before that is seen here, and
            # one begun after it was refused by the one-pending-intent rule.
            done = await asyncio.to_thread(
                self._store.journal.confirmed_since,
                profile=TEAM_PROFILE,
                msn=msn,
                reference=reference,
                operation=operation,
                since=datetime.now(UTC) - DONE_WINDOW,
            )
            earlier = [i for i in done if i.id != intent.id]
            if earlier:
                await engine.finish(
                    intent, IntentStatus.FAILED, f"not sent: already cancelled by {earlier[0].os_user}"
                )
                raise AlreadyDoneError(earlier[0])
        return await engine.send(intent, None, source="team")

    async def resume(
        self, agent: Agent, msn: str, reference: str, *, intent_id: int | None = None, decided: bool = False
    ) -> SendResult:
        """Finish the operation on the payment that has no outcome (its instance stopped mid-send, or
        its answer was lost): settle it from the event log, else send it again with its own key, so
        it moves money at most once whichever instance began it. ``intent_id``: only that operation
        (``NothingPendingError`` when it has an outcome by now: a colleague's newer one is not
        touched). ``decided``: the agent chose to send it again also when it began more than a day
        ago (else ``NeedsDecisionError``, nothing sent)."""
        engine = self.engine(agent, msn)
        pending = await asyncio.to_thread(
            self._store.journal.pending, profile=TEAM_PROFILE, msn=msn, reference=reference
        )
        if intent_id is not None:
            pending = [intent for intent in pending if intent.id == intent_id]
        if not pending:
            raise NothingPendingError(
                f"No operation on {reference} is waiting for an outcome."
                if intent_id is None
                else f"Operation {intent_id} on {reference} is not waiting for an outcome (any more)."
            )
        intent = pending[0]
        await self.check_role(agent, intent.operation, msn, reference)
        return await engine.resume(intent, None, decided=decided, source="team")

    async def aclose(self) -> None:
        await self._payments.aclose()
