"""The Qt binding keeps Python's reference counts straight (PySide6/shiboken6 6.12.0 on Python 3.11
returns None from every void call without a new reference, so the interpreter dies after enough calls:
``Fatal Python error: none_dealloc``). Fixed by pinning ``PySide6-Essentials<6.12`` (6.11.3 is clean)."""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtWidgets import QLabel


def test_void_calls_do_not_eat_references_to_none(qtbot: Any) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(1000):
        label.setEnabled(True)
    lost = before - sys.getrefcount(None)
    assert lost < 50, (
        f"{lost} references to None lost in 1000 calls: PySide6 {__import__('PySide6').__version__}"
    )
