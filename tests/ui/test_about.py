"""Help → About says which version runs (pyproject.toml's) and where the log file support asks for is."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMessageBox

from epay_desktop.ui.window.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]


def test_about_shows_the_version_and_the_log_file(qtbot: Any, app_home: Path, tmp_path: Path) -> None:
    window = MainWindow(show_error_dialogs=False)
    qtbot.addWidget(window)
    box = window.dialogs.show_about()
    assert isinstance(box, QMessageBox)
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert box.text() == f"<b>epay-desktop {version}</b>"
    assert f"Log file: {app_home / 'logs' / 'epay-desktop.log'}" in box.informativeText()
    box.grab().save(str(tmp_path / "about.png"))
    box.close()
