"""Batch money moves: cancel or capture many payments, each one on its own through the desk (so each is
an intent of its own in the journal, with its own Idempotency-Key, written before it is sent).

- :func:`plan_batch` is the preview: for each payment exactly what will happen (cancel: what it
  releases; capture: the whole remaining amount), the ones skipped and why, and totals per currency.
- :class:`BatchRun` sends the planned ones with bounded concurrency (the API's rate limits: a few at
  a time; 429 and 5xx are retried by the client with the same key), reports each result as it
  arrives, and stops on :meth:`BatchRun.stop`: no new sends, those on the wire finish (their outcome
  is recorded: a money move is never abandoned half-way).

A crash mid-batch leaves the intents that were sent without an outcome pending in the journal; the
desk's ``recover_pending`` finishes them on the next start (with their keys) and lists them. The
payments the batch had not reached yet have no intent at all: nothing was sent for them.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from epay_desktop.api import EPaymentError, OutcomeUnknownError
from epay_desktop.domain import Action, Currency, Money, TrackedPayment, check_action
from epay_desktop.i18n import _
from epay_desktop.services.errors import DeskError, said

if TYPE_CHECKING:
    from epay_desktop.services.surface import DeskSurface

__all__ = [
    "BATCH_CONCURRENCY",
    "BatchItem",
    "BatchOutcome",
    "BatchPlan",
    "BatchResult",
    "BatchRun",
    "moved_totals",
    "plan_batch",
]

# Sends in flight at once: well inside the API's rate limits for modifications, and enough that a
# batch of fifty at 200 ms per call ends in seconds.
BATCH_CONCURRENCY = 4


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One payment of a batch: ``amount`` is what will move (zero when skipped), ``skip`` why not."""

    reference: str
    amount: Money | None
    skip: str = ""

    @property
    def planned(self) -> bool:
        return not self.skip


@dataclass(frozen=True, slots=True)
class BatchPlan:
    action: Action
    items: tuple[BatchItem, ...]

    @property
    def planned(self) -> tuple[BatchItem, ...]:
        return tuple(item for item in self.items if item.planned)

    @property
    def skipped(self) -> tuple[BatchItem, ...]:
        return tuple(item for item in self.items if not item.planned)

    def totals(self) -> dict[Currency, Money]:
        """What will move, per currency."""
        totals: dict[Currency, Money] = {}
        for item in self.planned:
            assert item.amount is not None
            currency = item.amount.currency
            totals[currency] = totals.get(currency, Money.zero(currency)) + item.amount
        return totals


def plan_batch(
    action: Action, payments: Iterable[TrackedPayment], busy: frozenset[str] = frozenset()
) -> BatchPlan:
    """The preview of cancelling or capturing (the whole remaining amount of) ``payments``."""
    if action not in (Action.CANCEL, Action.CAPTURE):
        raise ValueError("a batch cancels or captures")
    items: list[BatchItem] = []
    seen: set[str] = set()
    for tracked in payments:
        if tracked.reference in seen:
            continue
        seen.add(tracked.reference)
        if tracked.payment is None:
            items.append(
                BatchItem(tracked.reference, None, _("Not read from the API yet; refresh it first."))
            )
            continue
        if tracked.reference in busy:
            items.append(BatchItem(tracked.reference, None, _("An operation on this payment is running.")))
            continue
        check = check_action(tracked.payment, action, authorizing=tracked.authorizing)
        if not check.allowed:
            items.append(BatchItem(tracked.reference, None, check.reason))
            continue
        items.append(BatchItem(tracked.reference, check.amount))
    return BatchPlan(action, tuple(items))


class BatchOutcome(enum.StrEnum):
    DONE = "done"  # the API confirmed it (directly or through the event log)
    FAILED = "failed"  # refused or not sent: nothing moved
    UNKNOWN = "unknown"  # the outcome is unknown: pending in the journal, recovery finishes it
    NOT_SENT = "not sent"  # stopped before it was sent


@dataclass(frozen=True, slots=True)
class BatchResult:
    reference: str
    outcome: BatchOutcome
    moved: Money | None = None
    message: str = ""


@dataclass
class BatchRun:
    """Runs a :class:`BatchPlan` through ``desk`` (see the module). ``on_result`` is called on the loop
    with each result as it arrives."""

    desk: DeskSurface
    plan: BatchPlan
    concurrency: int = BATCH_CONCURRENCY
    on_result: Callable[[BatchResult], None] | None = None
    results: list[BatchResult] = field(default_factory=list)
    _stopped: bool = False

    def stop(self) -> None:
        """No new sends; those on the wire finish and record their outcome."""
        self._stopped = True

    @property
    def stopped(self) -> bool:
        return self._stopped

    async def run(self) -> list[BatchResult]:
        gate = asyncio.Semaphore(max(1, self.concurrency))

        async def one(item: BatchItem) -> None:
            async with gate:
                if self._stopped:
                    self._record(
                        BatchResult(
                            item.reference, BatchOutcome.NOT_SENT, message=_("Stopped before it was sent.")
                        )
                    )
                    return
                self._record(await self._send(item))

        await asyncio.gather(*(one(item) for item in self.plan.planned))
        return self.results

    async def _send(self, item: BatchItem) -> BatchResult:
        reference = item.reference
        assert item.amount is not None
        try:
            if self.plan.action is Action.CANCEL:
                cancelled = await self.desk.cancel(reference, expected_release=item.amount)
                return BatchResult(reference, BatchOutcome.DONE, cancelled.released, cancelled.message)
            captured = await self.desk.capture(reference, item.amount)
            return BatchResult(reference, BatchOutcome.DONE, captured.amount, captured.message)
        except EPaymentError as error:
            outcome = BatchOutcome.UNKNOWN if isinstance(error, OutcomeUnknownError) else BatchOutcome.FAILED
            return BatchResult(reference, outcome, message=said(error))
        except DeskError as error:
            return BatchResult(reference, BatchOutcome.FAILED, message=str(error))

    def _record(self, result: BatchResult) -> None:
        self.results.append(result)
        if self.on_result is not None:
            self.on_result(result)

    def summary(self) -> dict[BatchOutcome, int]:
        counts = {outcome: 0 for outcome in BatchOutcome}
        for result in self.results:
            counts[result.outcome] += 1
        return counts


def moved_totals(results: Sequence[BatchResult]) -> dict[Currency, Money]:
    totals: dict[Currency, Money] = {}
    for result in results:
        if result.outcome is BatchOutcome.DONE and result.moved is not None:
            currency = result.moved.currency
            totals[currency] = totals.get(currency, Money.zero(currency)) + result.moved
    return totals
