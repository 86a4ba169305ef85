"""Recording outcomes the API confirmed, when the journal cannot take them at once.

After the API confirmed an operation it happened, whatever the bookkeeping does next: a register too
busy (or failing) to record the outcome must not turn a success into an error, which would invite the
person to do it again. :class:`ConfirmedRecorder` records it, or, when the journal cannot be written
now, keeps trying in the background (and says so); an outcome never recorded stays pending in the
journal and the next start settles it from the payment's event log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from epay_desktop.i18n import _
from epay_desktop.store import Intent, IntentStatus, RegisterError

__all__ = ["RECORD_RETRY_FIRST", "RECORD_RETRY_FOR", "ConfirmedRecorder"]

log = logging.getLogger(__name__)

# A confirmed outcome the journal could not record at once is tried again after this, doubling (up to
# 10 s), for this long in all (seconds).
RECORD_RETRY_FIRST = 0.25
RECORD_RETRY_FOR = 120.0


class ConfirmedRecorder:
    """Records confirmed outcomes through ``finish`` (the engine's journal write)."""

    def __init__(self, finish: Callable[[Intent, IntentStatus, str], Awaitable[None]]) -> None:
        self._finish = finish
        self._unrecorded: set[asyncio.Task[None]] = set()

    async def record_confirmed(self, intent: Intent, status: IntentStatus, message: str) -> str:
        """Record an outcome the API confirmed. When the journal cannot be written now (the register
        busy or failing), it is retried in the background. Returns what to tell the person: ``message``,
        with a note when it is not recorded yet. Never raises a register error: the operation happened."""
        try:
            await self._finish(intent, status, message)
            return message
        except RegisterError as error:
            log.warning("confirmed %s of intent %s not recorded yet: %s", intent.operation, intent.id, error)
            task = asyncio.ensure_future(self._record_later(intent, status, message))
            self._unrecorded.add(task)
            task.add_done_callback(self._unrecorded.discard)
            return _(
                "{outcome} The journal could not record it yet (the register is busy or failing); that is "
                "retried in the background, and if it never can be, the next start settles it from the "
                "event log. Do not do it again."
            ).format(outcome=message)

    async def _record_later(self, intent: Intent, status: IntentStatus, message: str) -> None:
        delay = RECORD_RETRY_FIRST
        waited = 0.0
        while True:
            await asyncio.sleep(delay)
            waited += delay
            try:
                await self._finish(intent, status, message)
            except RegisterError as error:
                if waited >= RECORD_RETRY_FOR:
                    log.error(
                        "the confirmed %s of %s (intent %s) could not be recorded: %s; it stays pending and "
                        "is settled from the event log at the next start",
                        intent.operation,
                        intent.reference,
                        intent.id,
                        error,
                    )
                    return
                delay = min(delay * 2, 10.0)
                continue
            log.info("confirmed %s of intent %s recorded after %.1f s", intent.operation, intent.id, waited)
            return

    async def drain(self) -> None:
        """Wait until confirmed outcomes recorded in the background are written (or given up)."""
        while self._unrecorded:
            await asyncio.gather(*list(self._unrecorded), return_exceptions=True)
