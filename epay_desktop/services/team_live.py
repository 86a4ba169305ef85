"""The live stream of a Team profile: what colleagues do, as it happens.

``TeamLive`` follows the team server's ``/live`` stream for the desk's merchant: a ``changed`` payment
is read again from the server (the row updates through the desk's change feed); ``working`` and
``done`` tell the listeners who is working on which payment ("Kari is cancelling…"). When the stream
breaks, the desk is told the server is out of reach (the list goes read-only) and the stream is opened
again after a back-off (doubling, with jitter, capped); once it is back, the list is read again so
nothing missed while away stays missed (the server replays what came after the last event id seen,
or says ``reload``: the whole list is read again). A desk opened on the list kept on disk (the server
was out of reach at start) reads the whole list once the stream opens, and its first answer checks the
session before the list is writable. A session that ended stops the stream (the person logs in again).
When an approval request this agent asked for ends (sent, failed, expired, rejected: the server tells
only whoever asked), the request is read and ``request_ended`` listeners get one sentence saying how
(once per request, also when a reconnect tells it again).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine
from typing import Any

from epay_desktop.api.errors import EPaymentError, NotSentError
from epay_desktop.api.team_client import (
    LiveEvent,
    TeamLoginNeededError,
    TeamRefusedError,
    TeamUnreachableError,
)
from epay_desktop.i18n import _
from epay_desktop.services.team_desk import TeamDesk
from epay_desktop.services.team_inbox import ended_text

__all__ = ["RequestEndedListener", "TeamLive", "WorkingListener"]

log = logging.getLogger(__name__)
# (reference, agent, action): action "" when the agent is done with it.
WorkingListener = Callable[[str, str, str], None]
# (request id, a sentence saying how it ended)
RequestEndedListener = Callable[[int, str], None]


class TeamLive:
    def __init__(self, desk: TeamDesk, *, first_delay: float = 0.5, max_delay: float = 30.0) -> None:
        self.desk = desk
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.working: dict[str, tuple[str, str]] = {}  # reference -> (agent, action) by a colleague
        self._listeners: list[WorkingListener] = []
        self._ended_listeners: list[RequestEndedListener] = []
        self._told_ended: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self._rereads: set[asyncio.Task[None]] = set()
        self.connected = asyncio.Event()
        self.last_event_id = ""

    def on_working(self, listener: WorkingListener) -> None:
        self._listeners.append(listener)

    def on_request_ended(self, listener: RequestEndedListener) -> None:
        """``listener(request_id, sentence)`` when a request this agent asked for has ended."""
        self._ended_listeners.append(listener)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name="team-live")

    async def aclose(self) -> None:
        tasks = [t for t in (self._task, *self._rereads) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None

    async def run(self) -> None:
        delay = self.first_delay
        # A desk opened on the list kept on disk (the server was out of reach) reads it all once back.
        caught_up = self.desk.online
        while True:
            try:
                stream = self.desk.client.live(self.desk.msn, last_event_id=self.last_event_id)
                async for event in stream:
                    if event.id:
                        self.last_event_id = event.id
                    if event.kind == "open":  # the server answered: connected, the list writable again
                        self.connected.set()
                        if not self.desk.unconfirmed:
                            # Else the catch-up's first answer checks who is logged in, then goes live.
                            self.desk.note_reachable()
                        delay = self.first_delay
                        if not caught_up:
                            caught_up = True
                            # With an event id the server tells what was missed (or says reload).
                            if not self.last_event_id:
                                self._in_background(self._catch_up())
                        continue
                    self._handle(event)
                raise TeamUnreachableError(_("The team server ended the live stream."))
            except TeamLoginNeededError as error:
                self.desk.session_ended(str(error))
                return
            except TeamRefusedError as error:
                # A server without live updates (or one that refuses this merchant): the list still
                # works, refreshed by hand and by the window's polling; ask again now and then.
                log.warning("the team server gives no live stream: %s", error)
                delay = self.max_delay
            except (TeamUnreachableError, NotSentError) as error:
                self.connected.clear()
                self._clear_working()
                self.desk.note_unreachable(str(error))
                caught_up = False
                log.info("team live stream lost (%s); again in %.1f s", error, delay)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, self.max_delay)

    def _handle(self, event: LiveEvent) -> None:
        if event.kind == "reload":
            self._in_background(self._catch_up())
            return
        if event.kind == "approval":
            if event.approval and event.agent == self.desk.agent and event.approval not in self._told_ended:
                self._told_ended.add(event.approval)
                self._in_background(self._request_ended(event.approval, event.action))
            return
        if event.kind in ("changed", "done"):
            self._in_background(self._reread(event.reference))
        if event.kind in ("working", "done") and event.agent and event.agent != self.desk.agent:
            action = event.action if event.kind == "working" else ""
            if action:
                self.working[event.reference] = (event.agent, action)
            else:
                self.working.pop(event.reference, None)
            for listener in tuple(self._listeners):
                listener(event.reference, event.agent, action)

    def _clear_working(self) -> None:
        for reference, (agent, _action) in list(self.working.items()):
            del self.working[reference]
            for listener in tuple(self._listeners):
                listener(reference, agent, "")

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._rereads.add(task)
        task.add_done_callback(self._rereads.discard)

    async def _reread(self, reference: str) -> None:
        try:
            await self.desk.reread(reference)
        except (NotSentError, TeamLoginNeededError) as error:
            log.info("reading %s after a change failed: %s", reference, error)
        except Exception:
            log.exception("reading %s after a change failed", reference)

    async def _request_ended(self, request_id: int, status: str) -> None:
        try:
            request = await self.desk.approvals.get(request_id)
        except EPaymentError as error:  # out of reach, a lost session, a refusal: all said below
            log.info("reading approval request #%d after it ended failed: %s", request_id, error)
            request = None  # said without the details: how it ended is known
        sentence = ended_text(request_id, status, request)
        for listener in tuple(self._ended_listeners):
            listener(request_id, sentence)

    async def _catch_up(self) -> None:
        try:
            await self.desk.load_register()
        except Exception as error:
            log.info("reading the list again after the live stream came back failed: %s", error)
