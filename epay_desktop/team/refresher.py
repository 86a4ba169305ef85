"""The team's own refresh of the payments that can still change, run by one instance at a time.

Every instance tries to take a PostgreSQL advisory lock on a connection of its own; the one that holds
it polls, the others try again every few seconds. The lock belongs to that connection's session, so
when the polling instance stops or dies (its connection closes, or the server's TCP keepalive finds it
gone) the database lets go of it and another instance takes over. What a refresh writes goes through
the register like any other change, so the live triggers tell every desktop (action "refresh"), and
only when the payment really changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import psycopg

from epay_desktop.api import EPaymentClient, EPaymentError
from epay_desktop.services.errors import said
from epay_desktop.services.reading import read_with_events
from epay_desktop.store import RegisterError
from epay_desktop.store.postgres import PgStore, caused_by

__all__ = ["Refresher"]

log = logging.getLogger(__name__)

# pg_try_advisory_lock(LOCK_CLASS, hashtext(current_schema())): one poller per team (schema).
LOCK_CLASS = 7_160_002
# How long the notes of live updates are kept (what a reconnecting desktop can be told it missed).
KEEP_NOTES = timedelta(hours=24)
PRUNE_EVERY = timedelta(minutes=10)


class Refresher:
    """``run()`` until cancelled: elect, then refresh in rounds while elected."""

    def __init__(
        self,
        conninfo: str,
        store: PgStore,
        clients: Mapping[str, EPaymentClient],
        *,
        every_s: float,
        stale_after_s: float,
        batch: int = 200,
        concurrency: int = 4,
    ) -> None:
        self._conninfo = conninfo
        self._store = store
        self._clients = dict(clients)
        self.every_s = every_s
        self.stale_after = timedelta(seconds=stale_after_s)
        self.batch = batch
        self.concurrency = concurrency
        self.leading = False
        self.rounds = 0
        self.refreshed = 0
        self._pruned_at: datetime | None = None

    @property
    def _elect_every_s(self) -> float:
        return min(self.every_s, 5.0)

    async def run(self) -> None:
        while True:
            try:
                await self._elect_and_poll()
            except (psycopg.Error, RegisterError, OSError) as error:
                log.warning("the refresh election lost its database connection: %s", error)
            finally:
                if self.leading:
                    log.info("this instance no longer polls")
                self.leading = False
            await asyncio.sleep(self._elect_every_s)

    async def _elect_and_poll(self) -> None:
        conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True, connect_timeout=10)
        try:
            while True:
                cursor = await conn.execute(
                    "SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))", (LOCK_CLASS,)
                )
                row = await cursor.fetchone()
                if row is not None and row[0]:
                    break
                await asyncio.sleep(self._elect_every_s)
            self.leading = True
            log.info("this instance polls the payments that can still change")
            while True:
                await self.refresh_round()
                await asyncio.sleep(self.every_s)
                await conn.execute("SELECT 1")  # still connected, so still holding the lock
        finally:
            # Closing the session lets go of the lock (also when this task is cancelled on shutdown).
            with contextlib.suppress(psycopg.Error, OSError):
                await conn.close()

    async def refresh_round(self) -> int:
        """Read again the payments due (each merchant's longest unread first, ``batch`` at most)."""
        now = datetime.now(UTC)
        done = 0
        for msn, client in self._clients.items():
            due = await asyncio.to_thread(
                self._store.register.take_for_refresh, msn, now - self.stale_after, self.batch, now=now
            )
            done += await self._refresh(msn, client, due)
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            await asyncio.to_thread(self._store.live.prune, now - KEEP_NOTES)
        self.rounds += 1
        self.refreshed += done
        return done

    async def _refresh(self, msn: str, client: EPaymentClient, references: list[str]) -> int:
        gate = asyncio.Semaphore(self.concurrency)
        register = self._store.register

        async def one(reference: str) -> None:
            async with gate:
                asked_at = datetime.now(UTC)
                with caused_by("refresh"):
                    try:
                        payment, events = await read_with_events(client, reference)
                    except EPaymentError as error:
                        await asyncio.to_thread(register.save_fetch_error, msn, reference, said(error))
                        return
                    await asyncio.to_thread(register.save_snapshot, msn, payment, events, fetched_at=asked_at)

        await asyncio.gather(*(one(reference) for reference in references))
        return len(references)
