"""Every path the app uses, from one place (platformdirs), and the bundled resources.

``platformdirs`` is imported inside the functions that need it: the window paints (icons from
``resources_dir``) before anything asks where the data lives.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any

from epay_desktop import APP_NAME

_APP_AUTHOR = "epay-desktop"
LOG_FILE_NAME = "epay-desktop.log"


def _override() -> Path | None:
    # Tests and portable installs point everything at one folder.
    home = os.environ.get("EPAY_DESKTOP_HOME")
    return Path(home) if home else None


def _platformdirs() -> Any:
    import platformdirs

    return platformdirs


def data_dir() -> Path:
    base = _override()
    path = base / "data" if base else Path(_platformdirs().user_data_dir(APP_NAME, _APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    base = _override()
    path = base / "config" if base else Path(_platformdirs().user_config_dir(APP_NAME, _APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    base = _override()
    path = base / "logs" if base else Path(_platformdirs().user_log_dir(APP_NAME, _APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """What can be made again from the app's own files (compiled translation catalogs)."""
    base = _override()
    path = base / "cache" if base else Path(_platformdirs().user_cache_dir(APP_NAME, _APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_file() -> Path:
    """The log file support asks for (rotated copies beside it: ``.1``, ``.2``, ...)."""
    return log_dir() / LOG_FILE_NAME


def _resource_candidates() -> list[Path]:
    """Where ``resources/`` may be, in order: inside the frozen bundle (PyInstaller unpacks data files
    under ``sys._MEIPASS``; on macOS that is the .app's ``Contents/Frameworks``), inside the package (an
    installed wheel), beside the package (a checkout)."""
    here = Path(__file__).resolve().parent
    candidates = []
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        candidates.append(Path(bundle) / "epay_desktop" / "resources")
    return [*candidates, here / "resources", here.parent / "resources"]


@functools.cache
def resources_dir() -> Path:
    """The bundled ``resources/`` folder (see :func:`_resource_candidates`)."""
    for candidate in _resource_candidates():
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the resources folder of epay-desktop is missing")


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
