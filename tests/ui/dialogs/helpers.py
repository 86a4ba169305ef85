"""Helpers shared by the register dialog tests."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

INTERACTIVE = (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
)
DOCS_DIALOGS = Path(__file__).resolve().parents[3] / "docs" / "dialogs"


def unnamed_controls(root: QWidget) -> list[str]:
    """Controls a screen reader would announce without a name (parts inside composite widgets such as a
    combo box's popup list or a line edit's clear button are skipped: Qt names them from their owner)."""
    missing = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, INTERACTIVE):
            continue
        parent = widget.parentWidget()
        inside_composite = False
        while parent is not None and parent is not root:
            if isinstance(parent, (QComboBox, QAbstractSpinBox, QLineEdit, QAbstractItemView)):
                inside_composite = True
                break
            parent = parent.parentWidget()
        if inside_composite or (type(widget).__name__ == "QToolButton" and not widget.isVisible()):
            continue
        if not widget.accessibleName():
            missing.append(
                f"{type(widget).__name__} {widget.objectName()!r} {getattr(widget, 'text', lambda: '')()!r}"
            )
    return missing


def save_screenshot(widget: QWidget, name: str, tmp_path: Path) -> Path:
    """Render ``widget`` to a PNG in the test's tmp dir (and to docs/dialogs when EPAY_SAVE_DOCS is set)."""
    import os

    path = tmp_path / name
    image = widget.grab()
    assert image.save(str(path)), path
    if os.environ.get("EPAY_SAVE_DOCS"):
        DOCS_DIALOGS.mkdir(parents=True, exist_ok=True)
        image.save(str(DOCS_DIALOGS / name))
    return path


class MemoryKeyring:
    """A working keyring backend kept in memory (the real OS keyrings cannot run on a headless box)."""

    priority = 1

    def __init__(self) -> None:
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        import keyring.errors

        if (service, username) not in self.passwords:
            raise keyring.errors.PasswordDeleteError(username)
        del self.passwords[(service, username)]
