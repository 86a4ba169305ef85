"""The team's journal and audit as a Team profile's desk reads them (``TeamDesk`` delegates here):
who did what (the audit, a payment's own history), the operations the server holds without an outcome,
and the person's choice for one a stopped instance left: Resume (the server's ``resume``, with the
operation's own Idempotency-Key) or Abandon (a supervisor; the server reads the event log first).

The server decides what a role may read (``services/team_history.py``); a refusal comes back as its
sentence. When the server is out of reach nothing here guesses: the audit and the export say so in a
sentence, and the pending operations stay as last read.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from epay_desktop.api.errors import MalformedResponseError
from epay_desktop.api.team_client import TeamClient, TeamUnreachableError
from epay_desktop.domain import TrackedPayment
from epay_desktop.i18n import _
from epay_desktop.services.errors import DeskError, OperationFinishedError
from epay_desktop.services.results import CancelResult, OperationResult, RecoveryOutcome, RecoveryResult
from epay_desktop.services.team_rows import intent_from_json, moment_of, money_of
from epay_desktop.store import AuditEntry, Intent, Operation
from epay_desktop.store.audit import write_csv

__all__ = ["PAGE", "TeamJournal", "audit_entry_from_json"]

PAGE = 1000  # lines per answer (the server's most)
TEAM_PROFILE = "team"

Ask = Callable[[Awaitable[Any]], Awaitable[Any]]
Reread = Callable[[str], Awaitable[TrackedPayment | None]]


def audit_entry_from_json(data: Any, msn: str) -> AuditEntry:
    """One line of the server's audit (``MalformedResponseError`` when it cannot be read)."""
    try:
        at = moment_of(data["at"])
        if at is None:
            raise ValueError("no time")
        return AuditEntry(
            id=int(data["id"]),
            at=at,
            os_user=str(data["agent"]),
            profile=TEAM_PROFILE,
            merchant_serial_number=str(data.get("merchantSerialNumber", msn) or ""),
            action=str(data["action"]),
            reference=str(data.get("reference") or ""),
            amount=money_of(data.get("amount")),
            result=str(data["result"]),
            detail=str(data.get("detail") or ""),
            idempotency_key=str(data.get("idempotencyKey") or ""),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedResponseError(
            _("A line of the team's audit cannot be read ({error}).").format(error=error)
        ) from None


def _listed(answer: Any, key: str) -> list[Any]:
    found = answer.get(key) if isinstance(answer, dict) else None
    if not isinstance(found, list):
        raise MalformedResponseError(_("The team server's answer could not be read."))
    return found


def _unreachable(what: str) -> DeskError:
    return DeskError(
        _("{what} The team server keeps it and cannot be reached now: try again when it answers.").format(
            what=what
        )
    )


@dataclasses.dataclass(frozen=True, slots=True)
class PendingOperation:
    """An operation the server holds without an outcome; ``stalled``: nothing was sent or asked for it
    for minutes (its instance stopped), so it waits for a person."""

    intent: Intent
    stalled: bool


def _pending_of(data: Any, msn: str) -> PendingOperation:
    intent = intent_from_json(data, msn)
    if intent is None or not isinstance(data, dict):
        raise MalformedResponseError(_("An operation of the team's journal cannot be read."))
    # Who asked for it last (the first request, or the one that reopened it) is whom people ask.
    asked_by = data.get("askedBy")
    if isinstance(asked_by, str) and asked_by:
        intent = dataclasses.replace(intent, os_user=asked_by)
    return PendingOperation(intent, data.get("stalled") is True)


def _left_text(intent: Intent) -> str:
    if intent.operation is Operation.CANCEL:
        text = _(
            "The cancel of {reference} asked by {agent} at {started} UTC has no known outcome: the team "
            "server sending it stopped before the answer came. Send it again (same idempotency key: it "
            "cannot happen twice), or a supervisor abandons it."
        )
    elif intent.operation is Operation.CAPTURE:
        text = _(
            "The capture of {reference} asked by {agent} at {started} UTC has no known outcome: the team "
            "server sending it stopped before the answer came. Send it again (same idempotency key: it "
            "cannot happen twice), or a supervisor abandons it."
        )
    else:
        text = _(
            "The refund of {reference} asked by {agent} at {started} UTC has no known outcome: the team "
            "server sending it stopped before the answer came. Send it again (same idempotency key: it "
            "cannot happen twice), or a supervisor abandons it."
        )
    return text.format(
        reference=intent.reference, agent=intent.os_user, started=f"{intent.created_at:%Y-%m-%d %H:%M}"
    )


class TeamJournal:
    """One Team desk's view of the server's journal and audit (see the module docstring)."""

    def __init__(
        self,
        client: TeamClient,
        msn: str,
        ask: Ask,
        *,
        reread: Reread,
        writable: Callable[[str], None],
    ) -> None:
        self._client = client
        self._msn = msn
        self._ask = ask
        self._reread = reread
        self._writable = writable
        self.pending: dict[int, PendingOperation] = {}  # as the server last said, by intent id

    # --- reading ------------------------------------------------------------------------------------
    async def audit(self, limit: int = PAGE, reference: str | None = None) -> list[AuditEntry]:
        """The newest ``limit`` lines (of one payment, or all: a supervisor's), newest first."""
        entries: list[AuditEntry] = []
        before: int | None = None
        try:
            while (wanted := min(PAGE, limit - len(entries))) > 0:
                answer = await self._ask(
                    self._client.audit(self._msn, reference=reference, limit=wanted, before=before)
                )
                page = [audit_entry_from_json(item, self._msn) for item in _listed(answer, "audit")]
                entries.extend(page)
                if len(page) < wanted:
                    break
                before = page[-1].id
        except TeamUnreachableError:
            raise _unreachable(_("The audit cannot be shown.")) from None
        return entries

    async def journal(self, limit: int = PAGE) -> list[Intent]:
        """The merchant's newest operations (a supervisor's), each with who asked for it."""
        try:
            answer = await self._ask(self._client.intents(self._msn, pending_only=False, limit=limit))
        except TeamUnreachableError:
            raise _unreachable(_("The journal cannot be shown.")) from None
        return [_pending_of(item, self._msn).intent for item in _listed(answer, "intents")]

    async def read_pending(self) -> list[PendingOperation]:
        """The operations the server holds without an outcome; when it cannot be reached, those it said
        last (the list is read-only then: nothing can be resumed or abandoned)."""
        try:
            answer = await self._ask(self._client.intents(self._msn, pending_only=True))
        except TeamUnreachableError:
            return list(self.pending.values())
        found: dict[int, PendingOperation] = {}
        for item in _listed(answer, "intents"):
            operation = _pending_of(item, self._msn)
            found[operation.intent.id] = operation
        self.pending = found
        return list(found.values())

    async def pending_intents(self) -> list[Intent]:
        return [operation.intent for operation in await self.read_pending()]

    async def recover_pending(self) -> list[RecoveryResult]:
        """On start: the operations a stopped instance left (nothing sent or asked for minutes), each
        for the person to decide; those being sent right now are the sender's (their row says so)."""
        return [
            RecoveryResult(
                op.intent.id,
                op.intent.reference,
                op.intent.operation,
                RecoveryOutcome.NEEDS_DECISION,
                _left_text(op.intent),
                op.intent.amount,
            )
            for op in await self.read_pending()
            if op.stalled
        ]

    async def export_csv(self, path: Path) -> int:
        """The whole audit (a supervisor's), oldest first, in the same CSV as a local register's."""
        entries = await self.audit(limit=10**9)
        entries.reverse()
        return await asyncio.to_thread(write_csv, Path(path), entries)

    # --- the person's choice ------------------------------------------------------------------------
    async def _open(self, intent_id: int) -> Intent:
        known = self.pending.get(intent_id)
        if known is None:
            await self.read_pending()
            known = self.pending.get(intent_id)
        if known is None:
            raise OperationFinishedError(
                _(
                    "Operation {number} has an outcome by now (a colleague finished it): nothing was sent."
                ).format(number=intent_id)
            )
        return known.intent

    async def resume(self, intent_id: int) -> CancelResult | OperationResult:
        """Resume: the server settles it from the event log, else sends it again with its own key."""
        self._writable(_("Nothing was sent."))
        intent = await self._open(intent_id)
        answer = await self._ask(
            self._client.resume(self._msn, intent.reference, intent.id, operation=intent.operation.value)
        )
        self.pending.pop(intent_id, None)
        data = answer if isinstance(answer, dict) else {}
        message = str(data.get("message") or "")
        reconciled = bool(data.get("reconciled"))
        moved = money_of(data.get("moved")) or intent.amount
        tracked = await self._reread(intent.reference) or TrackedPayment(intent.reference, self._msn)
        if moved is None:
            raise MalformedResponseError(_("The team server's answer could not be read."))
        if intent.operation is Operation.CANCEL:
            return CancelResult(tracked, moved, reconciled, message)
        return OperationResult(tracked, moved, reconciled, message)

    async def abandon(self, intent_id: int) -> RecoveryResult:
        """Abandon (a supervisor): the server reads the event log first; if it shows the operation it is
        recorded as done, else closed as failed."""
        self._writable(_("Nothing was changed."))
        intent = await self._open(intent_id)
        answer = await self._ask(self._client.abandon(self._msn, intent.id))
        self.pending.pop(intent_id, None)
        data = answer if isinstance(answer, dict) else {}
        await self._reread(intent.reference)
        reconciled = data.get("reconciled") is True
        return RecoveryResult(
            intent.id,
            intent.reference,
            intent.operation,
            RecoveryOutcome.RECONCILED if reconciled else RecoveryOutcome.FAILED,
            str(data.get("message") or ""),
            money_of(data.get("moved")) if reconciled else intent.amount,
        )
