"""The hub of an instance's live updates: one LISTEN connection of its own on the team database, each
note it hears handed to the streams (``Subscription``) of the note's merchant, framed once as the
``text/event-stream`` event that ``team.live`` serves (its docstring draws the events).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql

from epay_desktop.store import RegisterError
from epay_desktop.store.postgres import LiveNote, PgStore

__all__ = ["LiveHub", "Subscription", "frame"]

log = logging.getLogger(__name__)

# A desktop reading this far behind is cut off; it reconnects and is told what it missed.
QUEUE_LIMIT = 2_000
RECONNECT_S = 1.0


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def frame(note: LiveNote) -> str:
    if note.kind == "approval":
        told = {
            "approval": note.approval,
            "status": note.action,
            "requestedBy": note.agent,
            "reference": note.reference,
            "at": _iso(note.at),
        }
        return f"id: {note.id}\nevent: approval\ndata: {json.dumps(told, separators=(',', ':'))}\n\n"
    data = {
        "reference": note.reference,
        "kind": note.kind,
        "agent": note.agent,
        "action": note.action,
        "at": _iso(note.at),
    }
    return f"id: {note.id}\nevent: payment\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


# A note as a stream sends it: its id and its event, written once for every stream that gets it.
Told = tuple[int, str]


class Subscription:
    """One stream's queue of notes (of ``agent``'s desktop); ``None`` in it ends the stream."""

    def __init__(self, msn: str, agent: str = "") -> None:
        self.msn = msn
        self.agent = agent
        self.queue: asyncio.Queue[Told | None] = asyncio.Queue()

    def wants(self, note: LiveNote) -> bool:
        """How an approval request ended is told to whoever asked for it only."""
        return note.kind != "approval" or note.agent == self.agent

    def put(self, told: Told | None) -> bool:
        if told is not None and self.queue.qsize() >= QUEUE_LIMIT:
            return False
        self.queue.put_nowait(told)
        return True


class LiveHub:
    """One LISTEN connection of this instance, its notes handed to the streams of their merchant."""

    def __init__(self, conninfo: str, store: PgStore) -> None:
        self._conninfo = conninfo
        self._store = store
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self.listening = asyncio.Event()
        self.stopping = False
        self.heard = 0

    def subscribe(self, msn: str, agent: str = "") -> Subscription:
        subscription = Subscription(msn, agent)
        self._subscribers[msn].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers[subscription.msn].discard(subscription)

    def end_all(self) -> None:
        """End every stream (they reconnect, to this instance or another, and are told what they
        missed)."""
        for subscribers in self._subscribers.values():
            for subscription in list(subscribers):
                subscription.put(None)
            subscribers.clear()

    def _hand_out(self, note: LiveNote) -> None:
        self.heard += 1
        subscribers = self._subscribers.get(note.msn)
        if not subscribers:
            return
        told = (note.id, frame(note))
        for subscription in list(subscribers):
            if not subscription.wants(note):
                continue
            if not subscription.put(told):
                log.info("a live stream of %s fell too far behind; it is ended to reconnect", note.msn)
                subscription.put(None)
                subscribers.discard(subscription)

    async def _note_of(self, payload: str) -> LiveNote | None:
        try:
            data: dict[str, Any] = json.loads(payload)
            if set(data) == {"id"}:  # too long to carry whole: read it
                return await asyncio.to_thread(self._store.live.note, int(data["id"]))
            return LiveNote(
                int(data["id"]),
                str(data["msn"]),
                str(data["reference"]),
                str(data["kind"]),
                data.get("agent"),
                data.get("action"),
                datetime.fromisoformat(str(data["at"])),
                None if data.get("approval") is None else int(data["approval"]),
            )
        except (ValueError, KeyError, TypeError):
            log.warning("an unreadable live note was ignored: %.200r", payload)
            return None

    async def run(self) -> None:
        channel = ""
        while not self.stopping:
            try:
                channel = channel or await asyncio.to_thread(self._store.live.channel)
                conn = await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, connect_timeout=10
                )
                try:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self.listening.set()
                    async for notify in conn.notifies():
                        note = await self._note_of(notify.payload)
                        if note is not None:
                            self._hand_out(note)
                finally:
                    with contextlib.suppress(psycopg.Error, OSError):
                        await conn.close()
            except (psycopg.Error, OSError, RegisterError) as error:
                log.warning("live updates lost their database connection (%s); reconnecting", error)
            # Notes may have been missed meanwhile: the streams end, and their desktops reconnect
            # with the last id they saw.
            self.listening.clear()
            self.end_all()
            await asyncio.sleep(RECONNECT_S)
