"""Who did what, for the desktops of a team: a merchant's audit and journal as the team's PostgreSQL
keeps them, and a supervisor's abandon of an operation left without an outcome.

What a role may read, checked here on every call (a refusal is audited like any other):

- any role (viewer and up): one payment's own history (its audit lines and its operations), and the
  operations still without an outcome (they hold their payments, and everybody must see by whom);
- supervisor and admin: the merchant's whole audit (with the team's logins and accounts) and its whole
  journal: what a colleague did to other payments is theirs to review, not every agent's.

Abandon (supervisor and admin): closes an operation another instance left without an outcome (it
stopped mid-send) as failed, after the payment's event log shows it did not happen and every attempt
has surely ended. Agents do not abandon: a wrong abandon frees the payment for another move while the
first may still land, so it is the same role that reviews the whole journal. The desktops' Resume
(``resume`` on the server, any role that may do the operation) sends it again with its own key instead.
The audit line of an abandon (status ``failed``, who, why) is written by the database's trigger.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from epay_desktop.api import NotFoundError, redact
from epay_desktop.services.accounts import TEAM_PROFILE, Agent, Role, TeamAccounts, at_least
from epay_desktop.services.engine import SendResult
from epay_desktop.services.errors import OperationFinishedError, OperationPendingError, said
from epay_desktop.services.recovery import ON_THE_WIRE
from epay_desktop.services.team_moves import NothingPendingError, NotPermittedError, TeamMoves
from epay_desktop.services.team_payments import UnknownMerchantError
from epay_desktop.services.wire import intent_json, money_json
from epay_desktop.store import AuditEntry, Intent, IntentStatus
from epay_desktop.store.postgres import JournalLine, PgStore

__all__ = [
    "MAX_PAGE",
    "AbandonResult",
    "TeamHistory",
    "audit_entry_json",
    "journal_line_json",
    "stalled",
]

# The most lines one answer carries; more are read page by page (``before``).
MAX_PAGE = 1000


def stalled(intent: Intent, asked_at: datetime, now: datetime) -> bool:
    """Whether a pending ``intent`` was left: nothing was sent or asked for it for ``ON_THE_WIRE``
    (an instance sending it now notes every attempt; one that stopped notes nothing more)."""
    if intent.status is not IntentStatus.PENDING:
        return False
    last = max(filter(None, (intent.last_attempt_at, asked_at, intent.created_at)))
    return now - last > ON_THE_WIRE


def audit_entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "agent": entry.os_user,
        "merchantSerialNumber": entry.merchant_serial_number,
        "action": entry.action,
        "reference": entry.reference,
        "amount": money_json(entry.amount),
        "result": entry.result,
        "detail": entry.detail,
        "idempotencyKey": entry.idempotency_key,
    }


def journal_line_json(line: JournalLine, now: datetime) -> dict[str, Any]:
    last_attempt = line.intent.last_attempt_at
    return intent_json(line.intent) | {
        "askedBy": line.asked_by,
        "askedAt": line.asked_at.isoformat(),
        "finishedBy": line.finished_by,
        "reason": line.reason,
        "lastAttemptAt": last_attempt.isoformat() if last_attempt else None,
        "stalled": stalled(line.intent, line.asked_at, now),
    }


@dataclass(frozen=True, slots=True)
class AbandonResult:
    """What an abandon did: ``reconciled`` (the event log showed it happened after all: recorded as
    such, with ``moved``) or closed as failed; ``message`` says which, for people."""

    intent: Intent
    reconciled: bool
    message: str
    moved: dict[str, Any] | None = None


class TeamHistory:
    """The reads and the abandon above, role checked (see the module docstring)."""

    def __init__(self, store: PgStore, accounts: TeamAccounts, moves: TeamMoves) -> None:
        self._store = store
        self._accounts = accounts
        self._moves = moves

    def _merchant(self, msn: str) -> None:
        if msn not in self._moves.merchants:
            raise UnknownMerchantError(f"This team serves no merchant with serial number {msn}.")

    async def _needs(self, agent: Agent, role: Role, what: str, msn: str, reference: str = "") -> None:
        if at_least(agent.role, role):
            return
        await self._accounts.audit(
            agent.name,
            what,
            "refused",
            msn=msn,
            reference=reference,
            detail=f"role {agent.role.value}; needs {role.value}",
        )
        raise NotPermittedError(
            f"As {agent.role.value} you may not {what}; that needs the {role.value} role. "
            "A payment's own history is open to every role."
        )

    async def audit(
        self, agent: Agent, msn: str, *, reference: str | None, limit: int, before: int | None
    ) -> list[AuditEntry]:
        """The merchant's audit newest first (one payment's, or for supervisors all of it together with
        the team's own lines: logins, accounts)."""
        self._merchant(msn)
        if reference is None:
            await self._needs(agent, Role.SUPERVISOR, "read the whole audit", msn)
        return await asyncio.to_thread(
            self._store.audit.entries,
            min(limit, MAX_PAGE),
            msn=msn,
            reference=reference,
            before=before,
            with_unattached=reference is None,
        )

    async def journal(
        self,
        agent: Agent,
        msn: str,
        *,
        pending_only: bool,
        reference: str | None,
        limit: int,
        before: int | None,
    ) -> tuple[list[JournalLine], list[str]]:
        """The merchant's operations newest first, and a sentence for each one that cannot be read."""
        self._merchant(msn)
        if not pending_only and reference is None:
            await self._needs(agent, Role.SUPERVISOR, "read the whole journal", msn)
        return await asyncio.to_thread(
            self._store.history.intents,
            msn,
            pending_only=pending_only,
            reference=reference,
            limit=min(limit, MAX_PAGE),
            before=before,
        )

    async def abandon(self, agent: Agent, msn: str, intent_id: int) -> AbandonResult:
        """Close operation ``intent_id`` left without an outcome (see the module docstring). Raises
        ``NotPermittedError`` (audited), ``NothingPendingError`` (no such operation of this merchant),
        ``OperationFinishedError`` (it has an outcome by now), ``OperationPendingError`` (it may still
        be on its way: nothing changed), or the client's error when the payment cannot be read."""
        self._merchant(msn)
        await self._needs(agent, Role.SUPERVISOR, "abandon an operation", msn)
        engine = self._moves.engine(agent, msn)
        intent = await engine.current(intent_id)
        if intent is None or intent.merchant_serial_number != msn or intent.profile != TEAM_PROFILE:
            raise NothingPendingError(f"There is no operation {intent_id} of merchant {msn}.")
        what = f"The {intent.operation.value} of {intent.reference} asked by {intent.os_user}"
        if intent.status is not IntentStatus.PENDING:
            raise OperationFinishedError(f"{what} is already finished: {intent.outcome}")
        gone: NotFoundError | None = None
        settled: SendResult | None
        try:
            settled = await engine.settle(intent, None, source="team", raise_unreadable=True)
        except NotFoundError as error:
            # The API has no such payment (any more): nothing can move on it, no log to wait for.
            gone, settled = error, None
        if settled is not None:
            return AbandonResult(
                intent, True, f"Not abandoned: it happened. {settled.message}", money_json(settled.moved)
            )
        if intent.attempts > 0:
            until = (intent.last_attempt_at or intent.created_at) + ON_THE_WIRE
            if datetime.now(UTC) < until:
                raise OperationPendingError(
                    f"{what} was last sent at {until - ON_THE_WIRE:%H:%M:%S} UTC and may still be on its "
                    "way; the event log does not show it yet. It cannot be abandoned before "
                    f"{until:%H:%M:%S} UTC."
                )
        if gone is not None:
            message = (
                f"{what} was abandoned by {agent.name}: the API has no such payment ({said(gone)}); "
                "nothing was moved."
            )
        else:
            message = (
                f"{what} was abandoned by {agent.name}: the payment's event log does not show it, and "
                "every attempt of it has ended. Nothing was moved."
            )
        await engine.finish(intent, IntentStatus.FAILED, message)
        now = await engine.current(intent_id)
        if now is not None and now.outcome != redact(message):
            # Another instance finished it between our read and our write: its outcome stands.
            raise OperationFinishedError(f"{what} was finished meanwhile: {now.outcome}")
        return AbandonResult(now or intent, False, message)
