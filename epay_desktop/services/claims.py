"""The money-moving calls in flight in one desk: one per payment at a time (``claim``), the part that
commits and sends run as its own shielded task (``shield``), and waiting for them (``drain``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

from epay_desktop.i18n import _
from epay_desktop.services.errors import OperationPendingError, said
from epay_desktop.store import Operation

log = logging.getLogger(__name__)
T = TypeVar("T")


class InFlight:
    """Claims on payments (reference -> operation) and the shielded tasks that send."""

    def __init__(self) -> None:
        # Set and checked without an await in between, so two calls on one payment cannot both start.
        self._claims: dict[str, Operation] = {}
        # Strong references to the shielded tasks (a task only weakly referenced may be collected).
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    def claim(self, reference: str, operation: Operation) -> None:
        """Mark ``reference`` busy, or refuse with ``OperationPendingError``: one money-moving call per
        payment at a time."""
        busy = self._claims.get(reference)
        if busy is not None:
            if busy is Operation.CANCEL:
                text = _(
                    "A cancel of {reference} is in progress right now. Nothing more was sent; "
                    "wait for its outcome."
                )
            elif busy is Operation.CAPTURE:
                text = _(
                    "A capture of {reference} is in progress right now. Nothing more was sent; "
                    "wait for its outcome."
                )
            else:
                text = _(
                    "A refund of {reference} is in progress right now. Nothing more was sent; "
                    "wait for its outcome."
                )
            raise OperationPendingError(text.format(reference=reference))
        self._claims[reference] = operation

    def release(self, reference: str) -> None:
        """End a claim that was not handed to ``shield`` (nothing was committed or sent)."""
        self._claims.pop(reference, None)

    def holds(self, reference: str) -> bool:
        return reference in self._claims

    def shield(self, reference: str, send: Coroutine[Any, Any, T]) -> Awaitable[T]:
        """Run the part that commits an intent and sends it as its own task, shielded: a caller that is
        cancelled (window closed, profile switched) stops waiting, but the call goes on and its outcome
        is recorded. The claim on ``reference`` ends with the task; ``drain`` waits for it."""
        task = asyncio.ensure_future(send)
        self._tasks[reference] = task

        def done(finished: asyncio.Future[T]) -> None:
            self._tasks.pop(reference, None)
            self._claims.pop(reference, None)
            error = None if finished.cancelled() else finished.exception()
            if error is not None:  # retrieved here too, for when nobody awaits it any more
                log.info("money-moving call on %s ended: %s", reference, said(error))

        task.add_done_callback(done)
        return asyncio.shield(task)

    def busy(self) -> frozenset[str]:
        """Payments with a money-moving call committed and in flight (it finishes and records its
        outcome even if nobody waits for it)."""
        return frozenset(self._tasks)

    async def drain(self) -> None:
        """Wait until every shielded call has finished and recorded its outcome."""
        while self._tasks:
            await asyncio.wait(list(self._tasks.values()))
