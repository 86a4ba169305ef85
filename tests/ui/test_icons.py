"""Every icon the window asks for exists (``theme.icon`` falls back to an empty icon, which hides a typo)."""

from __future__ import annotations

import re
from pathlib import Path

from epay_desktop.paths import resource

UI = Path(__file__).resolve().parents[2] / "epay_desktop"
ASKED = re.compile(r"""icon_name=["']([\w-]+)["']|\bicon\(["']([\w-]+)["']\)""")


def test_every_icon_named_in_the_code_is_a_resource() -> None:
    names = {a or b for path in UI.rglob("*.py") for a, b in ASKED.findall(path.read_text(encoding="utf-8"))}
    assert len(names) >= 5  # the toolbar's icons were found at all
    missing = sorted(n for n in names if not resource("icons", f"{n}.svg").is_file())
    assert not missing, f"icons asked for but not in resources/icons: {missing}"
