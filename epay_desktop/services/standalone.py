"""Journaled sends without a register: a journal file of its own and nothing kept of the payments but
what each result carries. What ``epay`` uses, on the same engine as the window (``engine.py``).

One journal file may serve several environments: each is its own ``profile`` in it, so an intent is
only ever resumed against the environment it was made for.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from epay_desktop.api import EPaymentClient
from epay_desktop.api.lifecycle import AsyncClosing
from epay_desktop.domain import Payment, PaymentEvent, TrackedPayment
from epay_desktop.services.engine import SendEngine
from epay_desktop.store import Intent, PaymentStore, Store

__all__ = ["StandaloneJournal"]


class _Unkept:
    """The engine's ``Snapshots`` when there is no register: a read is handed back, not saved."""

    def __init__(self, msn: str) -> None:
        self.msn = msn

    async def keep(
        self,
        payment: Payment,
        events: list[PaymentEvent] | None,
        *,
        asked_at: datetime,
        source: str,
        fetch_error: str = "",
    ) -> TrackedPayment:
        return TrackedPayment(
            payment.reference,
            self.msn,
            payment=payment,
            events=tuple(events or ()),
            description=payment.description,
            fetched_at=asked_at,
            fetch_error=fetch_error,
        )

    async def read_again(self, reference: str, source: str) -> None:
        return None  # nothing is shown but the refusal itself


class StandaloneJournal(AsyncClosing):
    """One journal file, one environment (``profile``) and one client: ``engine`` sends through it.
    Open with ``await StandaloneJournal.open(...)`` and use as ``async with``."""

    def __init__(self, store: PaymentStore, client: EPaymentClient, *, profile: str, operator: str) -> None:
        self._store = store
        self.engine = SendEngine(
            store.journal, client, _Unkept(client.merchant_serial_number), profile=profile, operator=operator
        )

    @classmethod
    async def open(
        cls, path: Path, client: EPaymentClient, *, profile: str, operator: str
    ) -> StandaloneJournal:
        store = await asyncio.to_thread(Store, path)
        return cls(store, client, profile=profile, operator=operator)

    @property
    def profile(self) -> str:
        return self.engine.profile

    async def pending_everywhere(self, reference: str) -> list[Intent]:
        """The intents on ``reference`` without an outcome, of every environment in this journal."""
        return await self.engine.pending(reference=reference, everywhere=True)

    async def aclose(self) -> None:
        await self.engine.drain()  # a confirmed outcome still being recorded (the journal was busy)
        await asyncio.to_thread(self._store.close)
