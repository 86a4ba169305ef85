"""The loop's timers (``ui/aio.QtLoop``): a cancelled callback's Qt timer ends at once, and only a timer
that still belongs to the cancelled handle is ever killed (Qt hands a killed timer's id out again)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import pytest
from PySide6.QtCore import QAbstractEventDispatcher

from epay_desktop.ui.aio import OwnedTimerHandle, QtLoop
from tests.support.waiting import wait_until

SLOT = 0x00FF_FFFF  # the index part of a Qt timer id (QFreeList); the bits above are a serial number


def qt_timers_of(loop: QtLoop) -> int:
    """Qt's own count of the timers the loop's callbacks hold."""
    dispatcher = QAbstractEventDispatcher.instance()
    assert dispatcher is not None
    return len(dispatcher.registeredTimers(loop.timers))


def loop_of(qt_loop: asyncio.AbstractEventLoop) -> QtLoop:
    assert isinstance(qt_loop, QtLoop)
    return qt_loop


def test_a_cancelled_handles_timer_ends_at_once(qt_loop: asyncio.AbstractEventLoop) -> None:
    loop = loop_of(qt_loop)
    ran: list[str] = []

    async def scenario() -> None:
        before = qt_timers_of(loop)
        handle = loop.call_later(60, ran.append, "late")
        assert isinstance(handle, OwnedTimerHandle)
        timer_id = handle.timer_id
        assert loop.timers.owner(timer_id) is handle
        assert qt_timers_of(loop) == before + 1
        handle.cancel()
        assert qt_timers_of(loop) == before  # not kept until it would have fired, a minute from now
        assert loop.timers.owner(timer_id) is None
        # The next timer runs as asked (the cancelled one took nothing with it).
        again = loop.call_later(0.01, ran.append, "next")
        assert isinstance(again, OwnedTimerHandle)
        await wait_until(lambda: ran)

    loop.run_until_complete(scenario())
    assert ran == ["next"]


def test_deadlines_met_leave_no_timers_behind(qt_loop: asyncio.AbstractEventLoop) -> None:
    """Every request has deadlines that are cancelled when its answer comes: they must not pile up."""
    loop = loop_of(qt_loop)

    async def answered(value: int) -> int:
        await asyncio.sleep(0)
        return value

    async def scenario() -> int:
        before = qt_timers_of(loop)
        for value in range(300):
            assert await asyncio.wait_for(answered(value), timeout=30) == value
            async with asyncio.timeout(30):
                await answered(value)
        return qt_timers_of(loop) - before

    assert loop.run_until_complete(scenario()) <= 2


def reuse_the_id(loop: QtLoop, wanted: int, ran: list[str]) -> OwnedTimerHandle:
    """Start timers until Qt hands out ``wanted`` again. Qt keeps freed ids in a list, the last freed
    first, and adds a serial number in the upper bits that wraps after a hundred or so reuses: timers
    on other slots are kept (so the wanted slot comes up), those on the wanted slot cancelled at once
    (so its serial number moves on). Bounded."""
    kept: list[asyncio.Handle] = []
    try:
        for _ in range(10_000):
            handle = loop.call_later(0.05, ran.append, "other's callback")
            assert isinstance(handle, OwnedTimerHandle)
            if handle.timer_id == wanted:
                return handle
            if handle.timer_id & SLOT == wanted & SLOT:
                handle.cancel()
            else:
                kept.append(handle)
        raise AssertionError(f"Qt never handed out timer id {wanted} again")
    finally:
        for handle in kept:
            handle.cancel()


def test_cancelling_a_handle_that_fired_never_kills_the_timer_that_reuses_its_id(
    qt_loop: asyncio.AbstractEventLoop,
) -> None:
    loop = loop_of(qt_loop)
    ran: list[str] = []

    async def scenario() -> None:
        fired = loop.call_later(0, ran.append, "first")
        assert isinstance(fired, OwnedTimerHandle)
        old_id = fired.timer_id
        await wait_until(lambda: "first" in ran)
        assert fired.timer_id == 0  # it gave its id back when it fired
        other = reuse_the_id(loop, old_id, ran)
        fired.cancel()  # asyncio cancels handles that already ran (a deadline whose wait ended)
        assert loop.timers.owner(old_id) is other
        # Even a handle that still believed the id was its own may not kill another's timer.
        fired.timer_id = old_id
        loop.timers.forget(fired)
        assert loop.timers.owner(old_id) is other
        await wait_until(lambda: "other's callback" in ran, limit=10)

    loop.run_until_complete(scenario())
    assert ran == ["first", "other's callback"]


def test_a_handle_cancelled_twice_or_after_a_reuse_is_harmless(qt_loop: asyncio.AbstractEventLoop) -> None:
    loop = loop_of(qt_loop)
    ran: list[str] = []

    async def scenario() -> None:
        cancelled = loop.call_later(30, ran.append, "never")
        assert isinstance(cancelled, OwnedTimerHandle)
        old_id = cancelled.timer_id
        cancelled.cancel()
        other = reuse_the_id(loop, old_id, ran)
        cancelled.cancel()
        assert loop.timers.owner(old_id) is other
        await wait_until(lambda: ran, limit=10)

    loop.run_until_complete(scenario())
    assert ran == ["other's callback"]


def test_every_way_of_scheduling_goes_through_the_owned_timers(qt_loop: asyncio.AbstractEventLoop) -> None:
    """The shape of qasync this loop relies on (its ``call_soon``, ``call_at``, ``call_soon_threadsafe``
    and socket notifiers all schedule through ``call_later``): if a qasync release changes it, this
    fails, and the loop would again keep cancelled timers."""
    loop = loop_of(qt_loop)
    ran: list[str] = []
    left, right = socket.socketpair()

    async def scenario() -> None:
        assert isinstance(loop.call_soon(ran.append, "soon"), OwnedTimerHandle)
        assert isinstance(loop.call_at(loop.time() + 0.01, ran.append, "at"), OwnedTimerHandle)
        await wait_until(lambda: "at" in ran)

        started = loop.timers.started
        thread = threading.Thread(target=loop.call_soon_threadsafe, args=(ran.append, "threadsafe"))
        thread.start()
        thread.join()
        await wait_until(lambda: "threadsafe" in ran)
        assert loop.timers.started > started

        started = loop.timers.started
        loop.add_reader(left.fileno(), lambda: ran.append(left.recv(16).decode()))
        right.send(b"readable")
        await wait_until(lambda: "readable" in ran)
        loop.remove_reader(left.fileno())
        assert loop.timers.started > started

    try:
        loop.run_until_complete(scenario())
    finally:
        left.close()
        right.close()
    assert ran == ["soon", "at", "threadsafe", "readable"]


def test_closing_the_loop_ends_every_timer(qapp: object) -> None:
    from epay_desktop.ui.aio import new_event_loop

    loop = new_event_loop(qapp)  # type: ignore[arg-type]
    assert isinstance(loop, QtLoop)
    ran: list[str] = []
    for delay in (0.0, 0.01, 30):
        loop.call_later(delay, ran.append, "after close")
    assert qt_timers_of(loop) == len(loop.timers) == 3
    loop.close()
    assert qt_timers_of(loop) == len(loop.timers) == 0
    assert ran == []


def test_call_later_refuses_what_asyncio_refuses(qt_loop: asyncio.AbstractEventLoop) -> None:
    async def coroutine_function() -> None:
        return None

    with pytest.raises(TypeError):
        qt_loop.call_later(0, coroutine_function)
    with pytest.raises(TypeError):
        qt_loop.call_later(0, "not callable")  # type: ignore[arg-type]


def test_in_debug_mode_a_slow_callback_is_logged(
    qt_loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    loop = loop_of(qt_loop)
    loop.set_debug(True)
    loop.slow_callback_duration = 0.0
    ran: list[str] = []

    async def scenario() -> None:
        loop.call_soon(ran.append, "slow")
        await wait_until(lambda: ran)

    try:
        with caplog.at_level(logging.WARNING, logger="epay_desktop.ui.aio"):
            loop.run_until_complete(scenario())
    finally:
        loop.set_debug(False)
    assert any("executing" in r.getMessage() and "append" in r.getMessage() for r in caplog.records)
