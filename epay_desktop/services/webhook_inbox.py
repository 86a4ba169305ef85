"""Receiving verified webhooks into a register: the event is appended to the payment's events and its
snapshot moved forward (``domain.apply_event``), once: a duplicate (a retry, a second registration, an
event a read already brought) changes nothing.

A payment the register did not track yet starts being tracked (``source = "webhook"``): a shop's
payments made elsewhere (its web shop) show up as they happen. With ``track_new=False`` (a desk whose
person chooses what to track, as in Demo) such a webhook is listed but not stored. An event that cannot
move the snapshot alone (a capture of a payment never read) is kept in its events; the next read fills
in the rest.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from epay_desktop.api.webhooks import Notification, is_duplicate
from epay_desktop.domain import Payment, PaymentEvent, TrackedPayment, apply_event
from epay_desktop.store import Store

Outcome = Literal["stored", "duplicate", "untracked"]
KEPT = 500  # the newest notifications kept for a view

Work = Callable[[TrackedPayment | None], tuple[Payment | None, Sequence[PaymentEvent]] | None]


class ChangingRegister(Protocol):
    """What the inbox needs of a register: one payment's row read and written in one transaction
    (the SQLite ``Register`` and the team's ``PgRegister``)."""

    def change(
        self, msn: str, reference: str, work: Work, *, at: datetime, source: str
    ) -> tuple[TrackedPayment | None, bool]: ...


class InboxStore(Protocol):
    @property
    def register(self) -> ChangingRegister: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Received:
    """One webhook as it arrived and what became of it."""

    notification: Notification
    received_at: datetime
    outcome: Outcome
    tracked: TrackedPayment | None
    verified: bool = True
    via: str = "receiver"  # "receiver": verified here; "register": stored by epay-webhooks

    @property
    def stored(self) -> bool:
        return self.outcome == "stored"


class WebhookInbox:
    """Appends verified notifications to one register. ``receive`` is synchronous (for a thread);
    ``receive_soon`` runs it in a thread and then calls the listeners with the :class:`Received`, on
    the loop's thread (so a listener may publish on a ``ChangeFeed``)."""

    def __init__(self, store: InboxStore, *, track_new: bool = True) -> None:
        self.store = store
        self.track_new = track_new
        self.recent: collections.deque[Received] = collections.deque(maxlen=KEPT)
        self.listeners: list[Callable[[Received], None]] = []
        self._lock = threading.Lock()
        self.counts: collections.Counter[str] = collections.Counter()

    @classmethod
    def open(cls, register: Path, *, track_new: bool = True) -> WebhookInbox:
        return cls(Store(register), track_new=track_new)

    def close(self) -> None:
        self.store.close()

    def receive(self, notification: Notification, *, now: datetime | None = None) -> Received:
        event = notification.event
        moment = now or datetime.now(UTC)

        untracked = False

        def work(before: TrackedPayment | None) -> tuple[Payment | None, Sequence[PaymentEvent]] | None:
            nonlocal untracked
            if before is None and not self.track_new:
                untracked = True
                return None
            # The row is read with its log: None there means no log was saved yet.
            known = (before.events or ()) if before is not None else ()
            if is_duplicate(event, known):
                return None
            payment = before.payment if before is not None else None
            after = apply_event(payment, event)
            return (after if after is not payment else None), (*known, event)

        tracked, written = self.store.register.change(
            notification.msn, notification.reference, work, at=moment, source="webhook"
        )
        outcome: Outcome = "stored" if written else "untracked" if untracked else "duplicate"
        received = Received(notification, moment, outcome, tracked)
        with self._lock:
            self.recent.append(received)
            self.counts[received.outcome] += 1
        return received

    async def receive_soon(self, notification: Notification) -> Received:
        received = await asyncio.to_thread(self.receive, notification)
        for listener in list(self.listeners):
            listener(received)
        return received
