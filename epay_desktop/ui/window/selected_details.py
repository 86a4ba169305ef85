"""The details panel follows the selected payment (:class:`SelectedDetails`):

- the selection moved: the panel shows the newly selected payment at once (:meth:`~SelectedDetails.show_now`);
- the selected payment's row changed (its refresh, an operation's outcome, a busy mark): the panel follows
  once per frame (``FOLLOWS_MS``), after the table's own repaint of the row
  (:meth:`~SelectedDetails.follow`). A batch or a cancel changes the row two or three times in a few
  milliseconds, and the panel was laid out and painted each time, in the same pass as the row's paint.
  A payment shown again unchanged sets nothing in the panel (``DetailsPanel.show_payment``);
- a payment listed without its event log (the list is loaded without logs) has its log read from the
  desk, once a desk is bound, and shown in the panel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

if TYPE_CHECKING:
    from epay_desktop.domain import TrackedPayment
    from epay_desktop.services import DeskSurface
    from epay_desktop.ui.aio import TaskRunner
    from epay_desktop.ui.window.details_panel import DetailsPanel

# How long the details of the selected payment wait to follow a change of its row: a frame.
FOLLOWS_MS = 16


class SelectedDetails(QObject):
    """Keeps ``details`` showing ``selected()``, the selected payment (see the module docstring)."""

    def __init__(
        self,
        details: DetailsPanel,
        selected: Callable[[], TrackedPayment | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.details = details
        self._selected = selected
        self._bound: tuple[DeskSurface, TaskRunner] | None = None  # where event logs are read
        self._later = QTimer(self, singleShot=True, interval=FOLLOWS_MS)
        self._later.timeout.connect(self.show_now)

    def bind(self, desk: DeskSurface, runner: TaskRunner) -> None:
        """From here on, a payment shown without its event log has it read from ``desk`` (a task of
        ``runner``, named "events": the latest selection's read wins)."""
        self._bound = (desk, runner)

    @property
    def following(self) -> bool:
        """A change of the selected row waits to be shown (within a frame)."""
        return self._later.isActive()

    def show_now(self) -> None:
        """Show the selected payment now (what waited to follow is shown with it)."""
        self._later.stop()
        tracked = self._selected()
        self.details.show_payment(tracked)
        unread = tracked is not None and tracked.events is None and tracked.payment is not None
        if unread and tracked is not None and self._bound is not None:
            desk, runner = self._bound
            runner.start("events", self._show_events(desk, tracked.reference))

    def follow(self) -> None:
        """The selected payment's row changed: shown a frame from the first such change, as it is then."""
        if not self._later.isActive():
            self._later.start()

    def stop(self) -> None:
        """Show nothing that waits (the window is closing)."""
        self._later.stop()

    async def _show_events(self, desk: DeskSurface, reference: str) -> None:
        from epay_desktop.services import DeskError

        try:
            events = await desk.events_of(reference)
        except DeskError as error:
            self.details.show_events(reference, None, str(error))
            return
        self.details.show_events(reference, events)


__all__ = ["FOLLOWS_MS", "SelectedDetails"]
