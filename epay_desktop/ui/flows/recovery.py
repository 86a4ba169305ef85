"""What a crash left unfinished, put to the person (after ``desk.recover_pending()`` on start).

Finished results (sent again and confirmed, settled from the event log, closed as failed) get one
status line; each is in the log and the audit log. Unfinished ones (the person must decide, or the
outcome is still unknown) are listed in a non-modal :class:`RecoveryNotice`, each with "Send again"
(``desk.resume_intent``: the same idempotency key, so it cannot happen twice), "Abandon"
(``desk.abandon_intent``: the event log is read first; if it did happen it is recorded as such) and
"Later" (it stays open, blocks other operations on that payment and is looked at again next start).

The notice is shown with ``show()``, not ``open()``: ``open()`` makes a dialog window-modal, and the
person may want to refresh the payment or read the audit log before deciding. Never ``exec()``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

from epay_desktop.i18n import _, ngettext
from epay_desktop.ui.dialogs.recovery_notice import RecoveryNotice
from epay_desktop.ui.errors import redact

if TYPE_CHECKING:
    from epay_desktop.services import DeskSurface, RecoveryResult
    from epay_desktop.ui.aio import TaskRunner

log = logging.getLogger(__name__)


class RecoveryFlow(QObject):
    """Presents ``recover_pending``'s results and runs the person's choices through the TaskRunner.
    ``reference_busy(reference, busy)`` says while a choice is being carried out on a payment."""

    reference_busy = Signal(str, bool)

    def __init__(
        self,
        desk: DeskSurface,
        runner: TaskRunner,
        status: Callable[[str], None],
        *,
        parent_widget: QWidget | None = None,
    ) -> None:
        super().__init__(parent_widget)
        self._desk = desk
        self._runner = runner
        self._status = status
        self._parent_widget = parent_widget
        self.notice: RecoveryNotice | None = None
        # What was said about last time's operations: the status bar forgets (a refresh overwrites it).
        self.reported: list[str] = []

    def _say(self, text: str) -> None:
        self.reported.append(text)
        self._status(text)

    def present(self, results: Sequence[RecoveryResult]) -> RecoveryNotice | None:
        for result in results:
            log.info("recovery: %s", redact(str(result)))
        finished = [r for r in results if r.finished]
        unfinished = [r for r in results if not r.finished]
        if finished:
            if len(finished) > 1:
                said = _("From last time: {outcome} (and {count} more: see the audit log)").format(
                    outcome=finished[0], count=len(finished) - 1
                )
            else:
                said = _("From last time: {outcome}").format(outcome=finished[0])
            self._say(redact(said))
        if not unfinished:
            return None
        if self.notice is not None:
            self.notice.close()
        notice = RecoveryNotice(unfinished, self._parent_widget)
        notice.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        notice.send_again_requested.connect(self.send_again)
        notice.abandon_requested.connect(self.abandon)
        notice.destroyed.connect(lambda _o=None: setattr(self, "notice", None))
        self.notice = notice
        if not finished:
            self._say(
                ngettext(
                    "{count} operation from last time has no known outcome: decide in the notice.",
                    "{count} operations from last time have no known outcome: decide in the notice.",
                    len(unfinished),
                ).format(count=len(unfinished))
            )
        notice.show()
        notice.raise_()
        return notice

    def send_again(self, intent_id: int, reference: str) -> None:
        self._runner.start(f"resume:{reference}", self._resume(intent_id, reference), replace=False)

    def abandon(self, intent_id: int, reference: str) -> None:
        self._runner.start(f"abandon:{reference}", self._abandon(intent_id, reference), replace=False)

    async def _resume(self, intent_id: int, reference: str) -> None:
        await self._run(intent_id, reference, _("Sending again…"), self._resumed(intent_id))

    async def _resumed(self, intent_id: int) -> str:
        result = await self._desk.resume_intent(intent_id)  # the desk publishes the payment
        return result.message

    async def _abandon(self, intent_id: int, reference: str) -> None:
        await self._run(intent_id, reference, _("Reading the event log…"), self._abandoned(intent_id))

    async def _abandoned(self, intent_id: int) -> str:
        result = await self._desk.abandon_intent(intent_id)  # the desk publishes the payment
        return str(result)

    async def _run(self, intent_id: int, reference: str, doing: str, work: Awaitable[str]) -> None:
        from epay_desktop.services import OperationFinishedError

        self._set_busy(intent_id, True, doing)
        self.reference_busy.emit(reference, True)
        try:
            message = await work
        except OperationFinishedError as finished:
            # Finished meanwhile elsewhere (another window abandoned or settled it): nothing was sent,
            # and there is nothing left to choose.
            message = redact(str(finished))
        except BaseException:
            # The presenter says what went wrong; the row offers the choice again.
            self._set_busy(intent_id, False, _("Not finished: see the message. You can choose again."))
            raise
        finally:
            self.reference_busy.emit(reference, False)
        if self.notice is not None:
            self.notice.settle(intent_id, message)
        self._status(redact(message))

    def _set_busy(self, intent_id: int, busy: bool, text: str) -> None:
        if self.notice is not None:
            self.notice.set_busy(intent_id, busy, text)


__all__ = ["RecoveryFlow"]
