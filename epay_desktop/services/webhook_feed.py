"""Webhooks as they reach an open profile: every :class:`Received` goes to the feed's listeners (the
window's Notifications view) and, when it changed a payment, onto the desk's change feed as a
``PaymentChanged(source="webhook")``, the one path every view updates from.

Two ways in:

- in-process (Demo): the sandbox delivers to a receiver whose ``WebhookInbox`` writes the desk's own
  register and hands each delivery here (``deliver``);
- through the register (a shop running ``epay-webhooks``): :class:`RegisterWatch` notices that another
  program wrote the register (SQLite's ``PRAGMA data_version``) and turns the events that appeared
  into deliveries (``check_register``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from epay_desktop.api.webhooks import Notification
from epay_desktop.domain import PaymentEvent, TrackedPayment
from epay_desktop.services.changes import Change, ChangeFeed, PaymentChanged
from epay_desktop.services.webhook_inbox import Received
from epay_desktop.store import Store

log = logging.getLogger(__name__)
# Webhooks count as flowing for this long after the last one (polling is slower meanwhile).
FLOWING_FOR = timedelta(minutes=10)


def _event_type(event: PaymentEvent) -> str:
    return f"epayments.payment.{event.display_name.lower()}.v1"


Mark = tuple[str | None, int]  # when the row's snapshot was fetched, how many events it has
# A mark as the watch keeps one per row: one int (the fetched time's hash, and the count), not a
# tuple and a text of its own (about 100 bytes a payment less with 100,000 payments).
Kept = int


def _kept(mark: Mark) -> Kept:
    fetched, count = mark
    return (hash(fetched) << 32) | (count + 1)  # -1 (unreadable log) kept as 0


def _count(kept: Kept) -> int:
    return (kept & 0xFFFFFFFF) - 1


def _mark(tracked: TrackedPayment) -> Mark:
    fetched = tracked.fetched_at
    return (fetched.isoformat() if fetched is not None else None, len(tracked.events or ()))


class RegisterWatch:
    """Notices changes another program made to a register and says which events appeared.

    Cheap when nothing happened (one pragma), and light when something did: a mark per row (no
    snapshot decoded), then only the rows whose mark moved are read."""

    def __init__(self, store: Store, msn: str) -> None:
        self.store = store
        self.msn = msn
        self._version: int | None = None
        self._seen: dict[str, Kept] = {}
        self._lock = threading.Lock()

    def note(self, tracked: TrackedPayment) -> None:
        """The desk itself wrote this row (a refresh, an operation): not another program's change."""
        if tracked.events is None:
            # A row of the list carries no event log, so its count is not at hand: the marks read
            # from the register stand (counting 0 would report its whole log as new events).
            return
        with self._lock:
            self._seen[tracked.reference] = _kept(_mark(tracked))

    def check(self) -> list[tuple[TrackedPayment, list[PaymentEvent]]]:
        """The rows another program changed since the last check, each with the events it added
        (synchronous: run it in a thread). The first check only takes note of what is there."""
        register = self.store.register
        version = register.data_version()
        if version == self._version:
            return []
        first = self._version is None
        self._version = version
        marks = {reference: _kept(mark) for reference, mark in register.change_marks(self.msn).items()}
        with self._lock:
            if first:  # nothing to compare with: taken note of in place (no copy of 100,000 marks)
                self._seen.update(marks)
                return []
            seen = self._seen
            self._seen = {**seen, **marks}
        changed: list[tuple[TrackedPayment, list[PaymentEvent]]] = []
        for reference, mark in marks.items():
            before = seen.get(reference)
            if before == mark:
                continue
            row = register.get(self.msn, reference)
            if row is None:
                continue
            known = max(_count(before), 0) if before is not None else 0
            changed.append((row, list((row.events or ())[known:])))
        return changed


class WebhookFeed:
    """The webhooks of one open profile (see the module docstring)."""

    def __init__(self, changes: ChangeFeed, *, watch: RegisterWatch | None = None) -> None:
        self.changes = changes
        self.watch = watch
        self._listeners: list[Callable[[Received], None]] = []
        self.last_received: datetime | None = None
        self.received = 0
        if watch is not None:
            changes.subscribe(self._desk_changed)

    def _desk_changed(self, changes: Sequence[Change]) -> None:
        assert self.watch is not None
        for change in changes:
            if isinstance(change, PaymentChanged) and change.source != "webhook":
                self.watch.note(change.tracked)

    @property
    def in_process(self) -> bool:
        """Deliveries arrive in this process (Demo), not through the register."""
        return self.watch is None

    def subscribe(self, listener: Callable[[Received], None]) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def flowing(self, now: datetime | None = None) -> bool:
        """A webhook arrived lately: polling can slow down."""
        last = self.last_received
        return last is not None and (now or datetime.now(UTC)) - last < FLOWING_FOR

    def deliver(self, received: Received) -> None:
        """One delivery: to the listeners, and its payment onto the change feed."""
        self.last_received = received.received_at
        self.received += 1
        if received.stored and received.tracked is not None:
            self.changes.publish(PaymentChanged(received.tracked, received.received_at, "webhook"))
        for listener in list(self._listeners):
            try:
                listener(received)
            except Exception:
                log.exception("a webhook listener failed")

    async def check_register(self) -> int:
        """Look for what ``epay-webhooks`` (or any other program) wrote; returns how many payments
        changed. Does nothing for an in-process feed."""
        if self.watch is None:
            return 0
        found = await asyncio.to_thread(self.watch.check)
        now = datetime.now(UTC)
        for tracked, events in found:
            if not events:
                self.changes.publish(PaymentChanged(tracked, now, "webhook"))
                continue
            for index, event in enumerate(events):
                notification = Notification(tracked.merchant_serial_number, _event_type(event), event, {})
                # Only the last event's row is the payment as it is now; each event is listed.
                self.deliver(
                    Received(
                        notification,
                        now,
                        "stored",
                        tracked if index == len(events) - 1 else None,
                        verified=True,
                        via="register",
                    )
                )
        return len(found)
