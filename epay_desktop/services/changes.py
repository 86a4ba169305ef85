"""What the desk publishes when a payment changed: one feed that the window, webhooks and a shared team
register all go through, so views update themselves from one stream by one rule ("the newer read
wins", comparing ``asked_at``).

A use case that produces a new ``TrackedPayment`` publishes it *in addition* to returning it. The feed
calls its listeners synchronously, in the order they subscribed, on the caller's thread (the loop's):
a listener runs before ``publish`` returns, so a view is up to date when the operation's await ends.
A listener that raises is logged and does not stop the others, nor the use case that published.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from epay_desktop.domain import TrackedPayment
from epay_desktop.domain.listed import ListedPayments

__all__ = ["SOURCES", "Change", "ChangeFeed", "ListLoaded", "Listener", "PaymentChanged", "PaymentsRemoved"]

log = logging.getLogger(__name__)

# Where a change came from; for logs and for a view that wants to say why a row moved.
SOURCES = frozenset({"load", "refresh", "operation", "recovery", "add", "create", "demo", "webhook", "team"})


@dataclass(frozen=True, slots=True)
class PaymentChanged:
    """The payment as the register now has it.

    ``asked_at`` (UTC) is when the read or operation that produced this snapshot was asked for: of two
    changes to one payment, the one asked for later wins, whatever order they arrive in."""

    tracked: TrackedPayment
    asked_at: datetime
    source: str

    @property
    def reference(self) -> str:
        return self.tracked.reference


@dataclass(frozen=True, slots=True)
class PaymentsRemoved:
    """Payments no longer in the register."""

    references: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ListLoaded:
    """The whole register as read at load, column by column (one change for every row: a list of
    100,000 payments is not published as 100,000 records). Each row counts as asked for when its
    snapshot was fetched (never fetched: older than any read), as a ``PaymentChanged`` of it would."""

    listed: ListedPayments
    source: str = "load"


Change = PaymentChanged | PaymentsRemoved | ListLoaded
Listener = Callable[[Sequence[Change]], None]


class ChangeFeed:
    """Publish-subscribe of changes, synchronous and in order (see the module docstring)."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every later batch of changes; returns the function that unsubscribes
        (calling it twice is harmless)."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def publish(self, *changes: Change) -> None:
        """Hand ``changes`` (one batch) to every listener; nothing happens for no changes."""
        if not changes:
            return
        batch = tuple(changes)
        for listener in tuple(self._listeners):  # a listener may unsubscribe while it runs
            try:
                listener(batch)
            except Exception:
                log.exception("a listener of the change feed failed on %d change(s)", len(batch))

    @property
    def listeners(self) -> int:
        """How many listeners are subscribed."""
        return len(self._listeners)
