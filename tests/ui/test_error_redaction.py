"""Every text the window shows from an error passes through ``redact``: the report's message, advice and
details, the fallback for an unexpected error, the presenter's message box and status line, and the
register dialogs' one-paragraph errors."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from epay_desktop.api import ApiError, NetworkError, register_secret
from epay_desktop.ui.dialogs.feedback import describe_error as describe_in_dialog
from epay_desktop.ui.errors import ErrorPresenter, describe_error

SECRET = "s3cr3t-9f8e7d6c5b4a-subscription"


def shown(report: Any) -> str:
    return "\n".join([report.title, report.message, report.advice, *report.details, report.one_line()])


def test_no_registered_secret_in_any_text_of_a_report() -> None:
    register_secret(SECRET)
    api = ApiError(
        400,
        f"Bad header {SECRET}",
        f"The value {SECRET!r} was refused",
        error_code=SECRET,
        trace_id=f"t-{SECRET}",
        instance=f"/x/{SECRET}",
    )
    for error in (api, NetworkError(f"header {SECRET}"), RuntimeError(f"oops {SECRET}"), ValueError(SECRET)):
        text = shown(describe_error("cancel:r-1", error))
        assert SECRET not in text, type(error).__name__
        assert "[REDACTED]" in text
    assert SECRET not in describe_in_dialog(api)


def test_the_presenter_shows_neither_box_nor_status_line_with_a_secret(qtbot: Any) -> None:
    register_secret(SECRET)
    parent = QWidget()
    qtbot.addWidget(parent)
    presenter = ErrorPresenter(parent, show_dialogs=True)
    lines: list[str] = []
    presenter.presented.connect(lambda _title, line: lines.append(line))
    presenter.present("refresh", RuntimeError(f"boom {SECRET}"))
    box = presenter.last_box
    assert isinstance(box, QMessageBox)
    texts = [box.windowTitle(), box.text(), box.informativeText(), *lines]
    assert all(SECRET not in t for t in texts)
    assert "[REDACTED]" in box.text()
    assert "[REDACTED]" in lines[0]
    box.close()
