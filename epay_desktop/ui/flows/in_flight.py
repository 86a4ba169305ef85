"""Money-moving calls already sent when the window closes or the profile switches: they must finish,
and their outcome be recorded, first (the request left the machine; stopping now would leave the
person not knowing what happened). The person is told which ones, and the wait ends by itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from epay_desktop.i18n import _

if TYPE_CHECKING:
    from epay_desktop.services import DeskSurface
    from epay_desktop.ui.aio import TaskRunner


class InFlightCalls:
    def __init__(self, desk: DeskSurface, runner: TaskRunner, status: Callable[[str], None]) -> None:
        self._desk = desk
        self._runner = runner
        self._status = status

    def pending(self) -> frozenset[str]:
        """Payments with a money-moving call already sent and in flight (the desk finishes it)."""
        return self._desk.busy_references()

    def describe(self, busy: frozenset[str]) -> str:
        names = []
        for reference in sorted(busy):
            if self._runner.is_running(f"cancel:{reference}"):
                names.append(_("the cancel of {reference}").format(reference=reference))
            else:
                names.append(_("the operation on {reference}").format(reference=reference))
        return _("Finishing {operations}… (the request was already sent)").format(
            operations=_(", ").join(names)
        )

    async def finish(self) -> None:
        """Say which calls are still in flight and wait until each has finished and been recorded."""
        while busy := self.pending():
            self._status(self.describe(busy))
            await self._desk.drain()


__all__ = ["InFlightCalls"]
