"""One presenter for every error of an operation started from the UI.

``describe_error`` turns an exception into words for people (pure, testable); ``ErrorPresenter`` shows
them in a non-blocking message box (opened with ``open()``, never ``exec()``) and in the status bar.
An ApiError shows the API's title and detail, its error code and traceId, and what to do next.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

from epay_desktop.domain import MoneyError
from epay_desktop.i18n import N_, _, translate

log = logging.getLogger(__name__)

_OPERATION_NAMES = {
    "export": N_("Exporting the list"),
    "check": N_("Checking the event log"),
    "pending": N_("Reading the journal"),
    "batch": "Batch",
    "cancel": N_("Cancel"),
    "capture": N_("Capture"),
    "refund": N_("Refund"),
    "remove": N_("Removing from the register"),
    "restore": N_("Putting back in the register"),
    "refresh": N_("Refresh"),
    "refresh-one": N_("Refresh"),
    "auto-refresh": N_("Automatic refresh"),
    "customer": N_("Customer action"),
    "new-demo-payment": N_("New demo payment"),
    "load": N_("Loading the register"),
    "open": N_("Opening the profile"),
    "add": N_("Adding payments"),
    "switch": N_("Switching profile"),
    "resume": N_("Sending again"),
    "abandon": N_("Abandoning"),
    "recover": N_("Finishing what was left from last time"),
}


@dataclass(frozen=True, slots=True)
class ErrorReport:
    title: str
    message: str
    advice: str = ""
    details: tuple[str, ...] = field(default=())

    def text(self) -> str:
        lines = [self.message]
        if self.advice:
            lines.append(self.advice)
        return "\n\n".join(lines)

    def one_line(self) -> str:
        return redact(f"{self.title}: {self.message}".replace("\n", " "))


def operation_label(name: str) -> str:
    base = name.split(":", 1)[0]
    return (
        translate(_OPERATION_NAMES[base]) if base in _OPERATION_NAMES else base.replace("-", " ").capitalize()
    )


def describe_error(operation: str, error: BaseException) -> ErrorReport:
    """``error`` in words for people, every text passed through ``redact`` (no secret is ever shown:
    an exception's text may quote a header or a request body)."""
    return _redacted(_describe(operation, error))


def redact(text: str) -> str:
    from epay_desktop.services import redact as redact_secrets  # on first use: not needed to paint

    return redact_secrets(text)


def _redacted(report: ErrorReport) -> ErrorReport:
    return ErrorReport(
        redact(report.title),
        redact(report.message),
        redact(report.advice),
        tuple(redact(detail) for detail in report.details),
    )


def _refresh_payment_names() -> dict[str, str]:
    # Named from the action itself, so the advice cannot drift from the menu (F5 refreshes all).
    from PySide6.QtGui import QKeySequence

    from epay_desktop.ui.action_names import REFRESH_PAYMENT_SHORTCUT, REFRESH_PAYMENT_TEXT

    shortcut = QKeySequence(REFRESH_PAYMENT_SHORTCUT).toString(QKeySequence.SequenceFormat.NativeText)
    return {"action": translate(REFRESH_PAYMENT_TEXT), "shortcut": shortcut}


def _describe(operation: str, error: BaseException) -> ErrorReport:
    # Imported here, not at the top: the main window paints before httpx and the services are loaded.
    from epay_desktop.api import (
        ApiError,
        EPaymentError,
        MalformedResponseError,
        NetworkError,
        NotAllowedError,
        OutcomeUnknownError,
        RateLimitedError,
    )
    from epay_desktop.services import DeskError

    what = operation_label(operation)
    if isinstance(error, ApiError):
        details = [_("HTTP status: {status}").format(status=error.status)]
        if error.error_code:
            details.append(_("Error code: {error_code}").format(error_code=error.error_code))
        if error.trace_id:
            details.append(_("traceId: {trace_id}").format(trace_id=error.trace_id))
        if error.instance:
            details.append(_("Instance: {instance}").format(instance=error.instance))
        if isinstance(error, RateLimitedError) and error.retry_after:
            details.append(_("Retry after: {retry_after} s").format(retry_after=error.retry_after))
        message = error.title or _("The API refused the request.")
        if error.detail and error.detail != error.title:
            message += f"\n{error.detail}"
        return ErrorReport(_("{what} failed").format(what=what), message, error.advice, tuple(details))
    if isinstance(error, OutcomeUnknownError):
        key = (
            (_("Idempotency key: {key}").format(key=error.idempotency_key),) if error.idempotency_key else ()
        )
        return ErrorReport(
            _("{what}: outcome unknown").format(what=what),
            _(
                "The answer about payment {reference} was lost, and reading the payment afterwards did not "
                "settle what happened."
            ).format(reference=error.reference or "?"),
            _(
                "Use “{action}” ({shortcut}) before trying again; a retry reuses the same idempotency key, "
                "so it cannot move money twice."
            ).format(**_refresh_payment_names()),
            key,
        )
    if isinstance(error, NetworkError):
        return ErrorReport(
            _("{what} failed").format(what=what),
            _("No answer from the server: {error}").format(error=error),
            _("Check the network connection and try again. Nothing was changed."),
        )
    if isinstance(error, MalformedResponseError):
        return ErrorReport(
            _("{what} failed").format(what=what),
            _("The server's answer could not be read: {error}").format(error=error),
            _("Refresh the payment to see its current state."),
        )
    if isinstance(error, NotAllowedError):
        return ErrorReport(_("{what} not allowed").format(what=what), str(error))
    if isinstance(error, EPaymentError):
        return ErrorReport(_("{what} failed").format(what=what), str(error))
    if isinstance(error, DeskError):
        return ErrorReport(
            _("{what} not done").format(what=what), str(error), _("Nothing was sent to the API.")
        )
    if isinstance(error, (MoneyError, ValueError)):
        return ErrorReport(_("{what}: invalid input").format(what=what), str(error))
    if isinstance(error, OSError):
        return ErrorReport(
            _("{what} failed").format(what=what), _("A file or the disk refused: {error}").format(error=error)
        )
    return ErrorReport(
        _("{what} failed unexpectedly").format(what=what),
        f"{type(error).__name__}: {error}",
        _("This is a bug; the log has the details."),
    )


class ErrorPresenter(QObject):
    """Shows errors without blocking the loop; remembers the last one (for the status bar and tests)."""

    presented = Signal(str, str)  # title, one line

    def __init__(self, parent_widget: QWidget | None = None, *, show_dialogs: bool = True) -> None:
        super().__init__(parent_widget)
        self._parent_widget = parent_widget
        self.show_dialogs = show_dialogs
        self.last_report: ErrorReport | None = None
        self.last_box: Any = None  # the QMessageBox shown last

    def present(self, operation: str, error: BaseException) -> None:
        report = describe_error(operation, error)
        self.last_report = report
        log.warning("%s: %s", report.title, report.message.replace("\n", " "))
        self.presented.emit(report.title, report.one_line())  # describe_error redacted it already
        if not self.show_dialogs:
            return
        from PySide6.QtWidgets import QMessageBox  # on first use: start-up does not need it

        box = QMessageBox(self._parent_widget)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(report.title)
        box.setText(report.message)
        # Codes and trace ids are what support asks for: shown without a click, selectable.
        box.setInformativeText("\n\n".join(filter(None, [report.advice, "\n".join(report.details)])))
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setAccessibleName(report.title)
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        if self.last_box is not None:
            self.last_box.close()
        self.last_box = box
        box.open()
