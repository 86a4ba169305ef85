"""PySide6's per-module source reading is skipped once the window starts (``first_paint``)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import epay_desktop

CHILD = """
import linecache, sys
import epay_desktop.ui.startup
import fresh_module
feature = sys.modules["shibokensupport.feature"]
read = any(name.endswith("fresh_module.py") for name in linecache.cache)
print(feature.pyside_feature_dict.get("fresh_module"), read)
"""


def test_a_module_imported_after_the_start_is_not_read_by_pyside(tmp_path: Path) -> None:
    (tmp_path / "fresh_module.py").write_text("# uses PySide6\nVALUE = 1\n", encoding="utf-8")
    root = Path(epay_desktop.__file__).parents[1]
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": f"{tmp_path}:{root}", "QT_QPA_PLATFORM": "offscreen"},
    )
    # PySide's own check would have read the file (kept in linecache) and marked it 0 ("uses PySide").
    assert done.stdout.split() == ["-1", "False"], done.stdout + done.stderr


def test_no_module_of_the_app_selects_a_pyside_feature() -> None:
    # The skip is right only while nothing selects one (``first_paint.skip_pyside_source_scan``).
    package = Path(epay_desktop.__file__).parent
    selects = re.compile(r"^\s*(from __feature__ import|import __feature__)", re.MULTILINE)
    assert [p for p in package.rglob("*.py") if selects.search(p.read_text(encoding="utf-8"))] == []
