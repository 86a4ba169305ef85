"""How the register's dialogs talk back: one status line per dialog, and one way to put an error in words.

Errors from the client are read by their documented attributes (``title``, ``detail``, ``error_code``,
``trace_id``, ``advice``: common.md, "Client") rather than by importing ``api`` here, so the dialogs
depend on the services layer only and still show everything the API said.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from epay_desktop.ui.aio import TaskRunner

log = logging.getLogger(__name__)


def describe_error(error: BaseException) -> str:
    """One paragraph for people: what failed, what the API said (code and trace id), what to do next."""
    text = str(error).strip() or type(error).__name__
    parts = [text]
    advice = getattr(error, "advice", "")
    if isinstance(advice, str) and advice.strip() and advice.strip() not in text:
        parts.append(advice.strip())
    ids = []
    for label, attribute in (("error code", "error_code"), ("traceId", "trace_id")):
        value = getattr(error, attribute, None)
        if value and str(value) not in text:
            ids.append(f"{label} {value}")
    if ids:
        parts.append("(" + ", ".join(ids) + ")")
    from epay_desktop.services import redact  # no secret is ever shown (an error may quote a header)

    return redact(" ".join(parts))


class Tone(enum.Enum):
    INFO = ""
    OK = "color: #1b5e20;"
    WARNING = "color: #8a4b00;"
    ERROR = "color: #b00020;"


class StatusLabel(QLabel):
    """A word-wrapped, selectable status line (a trace id can be copied from it)."""

    def __init__(self, accessible_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAccessibleName(accessible_name)
        self.tone = Tone.INFO

    def show_message(self, text: str, tone: Tone = Tone.INFO) -> None:
        self.tone = tone
        self.setStyleSheet(tone.value)
        self.setText(text)
        # Screen readers announce the change through the description.
        self.setAccessibleDescription(text)

    def show_error(self, error: BaseException | str) -> None:
        self.show_message(error if isinstance(error, str) else describe_error(error), Tone.ERROR)


def dialog_runner(status: StatusLabel, on_busy: Callable[[str, bool], None]) -> TaskRunner:
    """A :class:`TaskRunner` for one dialog, whose errors go to the dialog's status line.

    The runner has no Qt parent on purpose: a task cancelled while its dialog is being deleted still
    finishes cleanly (a runner owned by the dialog would be deleted first and its last signal would
    fail). Busy state goes through ``on_busy`` (skipped once the dialog is deleted) instead of the
    runner's ``busy`` widget list, whose widgets may be gone by then."""

    def present(_name: str, error: BaseException) -> None:
        if shiboken6.isValid(status):
            status.show_error(error)
        else:
            log.warning("an operation of a closed dialog failed: %s", describe_error(error))

    def busy_changed(name: str, busy: bool) -> None:
        owner = getattr(on_busy, "__self__", None)
        if owner is None or shiboken6.isValid(owner):
            on_busy(name, busy)

    runner = TaskRunner(present)
    runner.busy_changed.connect(busy_changed)
    return runner


__all__ = ["StatusLabel", "Tone", "describe_error", "dialog_runner"]
