"""Composition root: builds everything from the profile and starts the loop (the only package that
imports ``ui``). ``epay-desktop`` (``epay_desktop.app:main``) and ``python -m epay_desktop`` land here.

- ``cli``: the command line, ``main`` and the start-up order (first paint before heavy imports);
- ``running``: after the first paint, the session opened into the painted window (or a throwaway
  Demo for ``--screenshot`` and ``--smoke``);
- ``logs``: the rotating log file with secrets redacted;
- ``sessions``: opening a profile (Demo's in-process sandbox, or the profile's client and desk);
- the running app (switching, problems on opening, the recovery notice) is ``ui.controller``, and the
  offscreen render (``--screenshot``) ``ui.offscreen``: Qt stays in ``ui/``; this package hands the
  controller the functions that open a session (``sessions``).

The exports load lazily (module ``__getattr__``, like ``services``): ``from epay_desktop.app import
main`` imports ``app.cli`` only, so the window paints before the controller, the sessions and the log
file are imported (``cli.main`` imports them right after the first paint).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from epay_desktop import lazy

if TYPE_CHECKING:
    from epay_desktop.app.cli import choose_profile, main, parse_args
    from epay_desktop.app.logs import (
        LOG_BACKUPS,
        LOG_FILE_NAME,
        LOG_MAX_BYTES,
        close_logging,
        setup_logging,
    )
    from epay_desktop.app.running import run
    from epay_desktop.app.sessions import Session, open_demo, open_profile, remember_profile
    from epay_desktop.ui.controller import OPEN_READ_ONLY, Controller
    from epay_desktop.ui.offscreen import render, rows_painted

_EXPORTS: dict[str, str] = {
    "LOG_BACKUPS": "epay_desktop.app.logs",
    "LOG_FILE_NAME": "epay_desktop.app.logs",
    "LOG_MAX_BYTES": "epay_desktop.app.logs",
    "OPEN_READ_ONLY": "epay_desktop.ui.controller",
    "Controller": "epay_desktop.ui.controller",
    "Session": "epay_desktop.app.sessions",
    "choose_profile": "epay_desktop.app.cli",
    "close_logging": "epay_desktop.app.logs",
    "main": "epay_desktop.app.cli",
    "open_demo": "epay_desktop.app.sessions",
    "open_profile": "epay_desktop.app.sessions",
    "parse_args": "epay_desktop.app.cli",
    "remember_profile": "epay_desktop.app.sessions",
    "render": "epay_desktop.ui.offscreen",
    "rows_painted": "epay_desktop.ui.offscreen",
    "run": "epay_desktop.app.running",
    "setup_logging": "epay_desktop.app.logs",
}

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
    "remember_profile",
    "render",
    "rows_painted",
    "run",
    "setup_logging",
]


__getattr__, __dir__ = lazy.exports(__name__, _EXPORTS, globals())
