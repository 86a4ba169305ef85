"""``epay``, the command line on the same client as the app (see :mod:`epay_desktop.cli.main`)."""

from __future__ import annotations

from epay_desktop.cli.main import main

__all__ = ["main"]
