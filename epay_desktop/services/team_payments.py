"""The payments a team tracks, as the team service shows them to its desktops: the register's row
(last snapshot, when it was read, why the last read failed), the operation without an outcome if
there is one, and the newest operation with who asked for it. All of it is in PostgreSQL, so any
instance shows the same.

``RegisterSnapshots`` is where the team's send engine keeps what it reads (the team's register), so a
cancel made through one instance is in the list every instance serves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from epay_desktop.api import EPaymentClient, EPaymentError
from epay_desktop.domain import Payment, PaymentEvent, TrackedPayment
from epay_desktop.services.accounts import TEAM_PROFILE, Agent
from epay_desktop.services.errors import DeskError, NotTrackedError, said
from epay_desktop.services.importing import parse_references
from epay_desktop.services.reading import read_with_events
from epay_desktop.services.results import AddReport
from epay_desktop.services.wire import intent_json, moment, money_json, tracked_json
from epay_desktop.store import Intent, NewEntry
from epay_desktop.store.postgres import LastAction, PgStore

__all__ = [
    "RegisterSnapshots",
    "TeamPayment",
    "TeamPayments",
    "UnknownMerchantError",
    "last_action_json",
    "team_payment_json",
]

# One call adds at most this many references (a bigger paste is split by the desktop).
MAX_REFERENCES_PER_ADD = 1000
# A shop's own description of a payment (a CSV column) is kept up to this many characters.
MAX_DESCRIPTION = 500
# An add reads this many of the new payments from the API before it answers (so the desktop that added
# them, and every other one, shows when each was made and what for at once); the team's refresh reads
# the rest first of all (never-read payments come first), so a big import still answers in seconds.
READ_ON_ADD = 50
READ_ON_ADD_AT_ONCE = 8


class UnknownMerchantError(DeskError):
    """The team service holds no credentials for this merchant serial number."""


@dataclass(frozen=True, slots=True)
class TeamPayment:
    """One tracked payment as the team sees it: the register's row, the operation on it that has no
    outcome yet (``pending``), and the newest operation on it (``last``: who asked, how it ended)."""

    tracked: TrackedPayment
    pending: Intent | None
    last: LastAction | None


def last_action_json(action: LastAction | None) -> dict[str, Any] | None:
    if action is None:
        return None
    return {
        "operation": action.operation,
        "status": action.status,
        "amount": money_json(action.amount),
        "by": action.asked_by,
        "at": moment(action.asked_at),
        "finishedBy": action.finished_by,
        "finishedAt": moment(action.finished_at),
        "outcome": action.outcome,
    }


def team_payment_json(item: TeamPayment, *, details: bool = False) -> dict[str, Any]:
    """A payment of the team's list (``wire.tracked_json``); ``details``: with its saved event log
    (``events``, None when none was saved yet) and the actions possible on it (``payment.actions``). A
    list leaves both out (the desktop derives the actions from the payment with
    ``domain.check_action``): a list of 10,000 payments is a fraction of the size without them."""
    data = tracked_json(item.tracked, actions=details, events=details)
    data["pending"] = intent_json(item.pending) if item.pending else None
    data["lastAction"] = last_action_json(item.last)
    return data


class RegisterSnapshots:
    """The send engine's ``Snapshots`` for one merchant of the team: what it reads is saved in the
    team's register (an answer older than the saved read is not kept, whichever instance has it)."""

    def __init__(self, store: PgStore, msn: str, client: EPaymentClient) -> None:
        self._store = store
        self._msn = msn
        self._client = client

    async def keep(
        self,
        payment: Payment,
        events: list[PaymentEvent] | None,
        *,
        asked_at: datetime,
        source: str,
        fetch_error: str = "",
    ) -> TrackedPayment:
        return await asyncio.to_thread(
            self._store.register.save_snapshot,
            self._msn,
            payment,
            events,
            fetched_at=asked_at,
            fetch_error=fetch_error,
        )

    async def read_again(self, reference: str, source: str) -> None:
        asked_at = datetime.now(UTC)
        try:
            payment, events = await read_with_events(self._client, reference)
        except EPaymentError as error:
            await asyncio.to_thread(self._store.register.save_fetch_error, self._msn, reference, said(error))
            return
        await self.keep(payment, events, asked_at=asked_at, source=source)


class TeamPayments:
    """List, show, refresh and add the team's payments (any role may; adding is audited)."""

    def __init__(self, store: PgStore, clients: Mapping[str, EPaymentClient]) -> None:
        self._store = store
        self._clients = dict(clients)

    @property
    def merchants(self) -> list[str]:
        return sorted(self._clients)

    def client(self, msn: str) -> EPaymentClient:
        client = self._clients.get(msn)
        if client is None:
            raise UnknownMerchantError(f"This team serves no merchant with serial number {msn}.")
        return client

    def snapshots(self, msn: str) -> RegisterSnapshots:
        return RegisterSnapshots(self._store, msn, self.client(msn))

    async def list(self, msn: str) -> list[TeamPayment]:
        """Every tracked payment of ``msn``, newest first, without event logs."""
        self.client(msn)
        store = self._store
        tracked, pending, last = await asyncio.gather(
            asyncio.to_thread(store.register.all, msn),
            asyncio.to_thread(store.journal.pending, msn=msn),
            asyncio.to_thread(store.activity.last_actions, msn),
        )
        open_ones = {i.reference: i for i in pending}
        return [TeamPayment(t, open_ones.get(t.reference), last.get(t.reference)) for t in tracked]

    async def one(self, msn: str, reference: str) -> TeamPayment:
        """One tracked payment with its saved event log; ``NotTrackedError`` when the team does not
        track it."""
        self.client(msn)
        store = self._store
        tracked = await asyncio.to_thread(store.register.get, msn, reference)
        if tracked is None:
            raise NotTrackedError(f"The team does not track {reference}; add it first.")
        pending, last = await asyncio.gather(
            asyncio.to_thread(store.journal.pending, msn=msn, reference=reference),
            asyncio.to_thread(store.activity.last_actions, msn, reference),
        )
        return TeamPayment(tracked, pending[0] if pending else None, last.get(reference))

    async def refresh(self, msn: str, reference: str) -> TeamPayment:
        """GET the payment and its event log from the API and save them. When the read fails, why is
        saved with the row (the old snapshot is kept) and the client's error is raised."""
        client = self.client(msn)
        if not await asyncio.to_thread(self._store.register.contains, msn, reference):
            raise NotTrackedError(f"The team does not track {reference}; add it first.")
        snapshots = RegisterSnapshots(self._store, msn, client)
        asked_at = datetime.now(UTC)
        try:
            payment, events = await read_with_events(client, reference)
        except EPaymentError as error:
            await asyncio.to_thread(self._store.register.save_fetch_error, msn, reference, said(error))
            raise
        await snapshots.keep(payment, events, asked_at=asked_at, source="refresh")
        return await self.one(msn, reference)

    async def add(
        self,
        agent: Agent,
        msn: str,
        references: str | Iterable[str],
        *,
        descriptions: Mapping[str, str] | None = None,
    ) -> AddReport:
        """Track references (each checked), with the shop's ``descriptions`` of them (reference ->
        text, e.g. a CSV's column: the API keeps none), and read the first ``READ_ON_ADD`` new ones from
        the API before answering (a read that fails is saved with the row, as a refresh's). Audited with
        the agent's name."""
        self.client(msn)
        good, rejected = parse_references(references)
        if len(good) > MAX_REFERENCES_PER_ADD:
            raise DeskError(
                f"{len(good)} references at once is too many; add at most {MAX_REFERENCES_PER_ADD} per call."
            )
        described = descriptions or {}
        entries = [
            NewEntry(
                c.reference,
                description=" ".join(described.get(c.reference, "").split()),
                source=f"added by {agent.name}",
            )
            for c in good
        ]
        added, existing = await asyncio.to_thread(self._store.register.add, msn, entries)
        report = AddReport(tuple(added), tuple(existing), tuple(rejected))
        if added or rejected:
            await asyncio.to_thread(
                self._store.audit.record,
                os_user=agent.name,
                profile=TEAM_PROFILE,
                msn=msn,
                action="add",
                result="ok" if not rejected else "partly",
                reference=added[0] if len(added) == 1 else "",
                detail=report.summary(),
            )
        await self._read_new(msn, added[:READ_ON_ADD])
        return report

    async def _read_new(self, msn: str, references: Sequence[str]) -> None:
        """Read freshly added payments with their event logs (what made them, when, for what) and save
        them; each read's failure is saved with its row by ``read_again``, never raised."""
        snapshots = self.snapshots(msn)
        gate = asyncio.Semaphore(READ_ON_ADD_AT_ONCE)

        async def one(reference: str) -> None:
            async with gate:
                await snapshots.read_again(reference, "add")

        await asyncio.gather(*(one(reference) for reference in references))

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
