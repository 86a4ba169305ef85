"""Composition root: builds everything from the profile and starts the loop (the only package that
imports ``ui``). ``epay-desktop`` (``epay_desktop.app:main``) and ``python -m epay_desktop`` land here.

- ``cli``: the command line, ``main`` and the start-up order (first paint before heavy imports);
- ``logs``: the rotating log file with secrets redacted;
- ``sessions``: opening a profile (Demo's in-process sandbox, or the profile's client and desk);
- ``controller``: the running app (switching, problems on opening, the recovery notice).
"""

from __future__ import annotations

from epay_desktop.app.cli import main, parse_args, render, rows_painted, run
from epay_desktop.app.controller import OPEN_READ_ONLY, Controller
from epay_desktop.app.logs import LOG_BACKUPS, LOG_FILE_NAME, LOG_MAX_BYTES, close_logging, setup_logging
from epay_desktop.app.sessions import Session, choose_profile, open_demo, open_profile

__all__ = [
    "LOG_BACKUPS",
    "LOG_FILE_NAME",
    "LOG_MAX_BYTES",
    "OPEN_READ_ONLY",
    "Controller",
    "Session",
    "choose_profile",
    "close_logging",
    "main",
    "open_demo",
    "open_profile",
    "parse_args",
    "render",
    "rows_painted",
    "run",
    "setup_logging",
]
