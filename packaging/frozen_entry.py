"""The one program a frozen build runs: it starts the script the executable is named after.

Every script pyproject.toml declares (``[project.scripts]`` and ``[project.gui-scripts]``) becomes an
executable of that name in the bundle (``epay-desktop.spec``); each runs this file, which finds its own
name among the entry points the bundle carries (the package's ``entry_points.txt``, copied into the
bundle with its metadata) and calls that function. A script added to pyproject.toml therefore reaches the
installers without a change here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

DISTRIBUTION = "epay-desktop"
GROUPS = ("gui_scripts", "console_scripts")


def scripts() -> dict[str, EntryPoint]:
    """The distribution's scripts by name, gui and console alike."""
    found: dict[str, EntryPoint] = {}
    for group in GROUPS:
        for entry in entry_points(group=group):
            if entry.dist is not None and entry.dist.name == DISTRIBUTION:
                found[entry.name] = entry
    return found


def program_name(argv0: str) -> str:
    """``/usr/bin/epay`` → ``epay``; ``C:\\...\\epay.exe`` → ``epay`` (any case of the suffix)."""
    name = Path(argv0.replace("\\", "/")).name
    return name[:-4] if name.lower().endswith(".exe") else name


def find_main(argv0: str) -> Callable[[], int | None]:
    name = program_name(argv0)
    available = scripts()
    entry = available.get(name)
    if entry is None:
        known = ", ".join(sorted(available)) or "none"
        raise SystemExit(f"{DISTRIBUTION}: this bundle has no program named {name!r} (it has: {known})")
    main: Callable[[], int | None] = entry.load()
    return main


if __name__ == "__main__":
    # sys.executable is the bundle's executable itself (argv[0] may be a link's name or a bare word).
    sys.exit(find_main(sys.executable if getattr(sys, "frozen", False) else sys.argv[0])())
