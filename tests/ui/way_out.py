"""The real app (Demo profile, offscreen) left one way while a capture is on the wire: run as
``python -m tests.ui.way_out HOW`` with HOW one of close, quit, sigterm. ``EPAY_DESKTOP_HOME`` says
where its data goes. Prints ``SENDING <reference>`` when the capture is in flight."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

from epay_desktop.domain import Currency, Money, State
from epay_desktop.ui import controller as controller_module
from tests.support.waiting import wait_until

HOW, _, IDLE = sys.argv[1].partition("-")  # "quit-idle": leave with nothing in flight
_start = controller_module.Controller.start
_tasks: set[asyncio.Task[Any]] = set()


async def _start_and_leave(self: Any, profile: Any) -> bool:
    opened: bool = await _start(self, profile)
    task = asyncio.ensure_future(_leave(self))
    _tasks.add(task)
    return opened


async def _leave(controller: Any) -> None:
    desk = controller.session.desk
    demo = desk.demo
    if IDLE:
        await wait_until(lambda: not controller.window.runner.is_running("load"), limit=30)
        print("SENDING nothing", flush=True)
        _way_out(controller)
        return
    tracked = await demo.new_payment(Money(10_000, Currency.NOK), "Way out")
    await demo.customer(tracked.reference, "approve")
    await desk.refresh(tracked.reference)
    assert (await desk.tracked(tracked.reference)).payment.state is State.AUTHORIZED
    await demo.controls.set_faults(latency_ms=1500)  # the capture stays on the wire for 1.5 s
    capture = asyncio.ensure_future(desk.capture(tracked.reference, Money(2_500, Currency.NOK)))
    _tasks.add(capture)
    # Committed to the journal and being sent:
    await wait_until(lambda: tracked.reference in desk.busy_references(), limit=30)
    await asyncio.sleep(0.2)
    print(f"SENDING {tracked.reference}", flush=True)
    _way_out(controller)


def _way_out(controller: Any) -> None:
    from PySide6.QtWidgets import QApplication

    if HOW == "close":
        controller.window.close()
    elif HOW == "quit":
        QApplication.quit()  # as a desktop session's logout does
    elif HOW == "sigterm":
        os.kill(os.getpid(), signal.SIGTERM)
    else:
        raise SystemExit(f"unknown way out {HOW!r}")


controller_module.Controller.start = _start_and_leave  # type: ignore[method-assign]

if __name__ == "__main__":
    from epay_desktop.app.cli import main

    code = main([])
    print(f"EXIT {code}", flush=True)
    sys.exit(code)
