"""After the first paint (``cli.main`` imports this module then): open the profile's session into the
painted window and run until it closes; or, for ``--screenshot`` and ``--smoke``, a throwaway Demo
world; or, for ``--startup-marks`` (benchmarks/startup.py), load the register, say when its rows are
painted, and quit."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from epay_desktop.app.sessions import Session, open_demo, open_profile, remember_profile
from epay_desktop.ui.controller import Controller
from epay_desktop.ui.offscreen import render, rows_painted
from epay_desktop.ui.window.main_window import MainWindow

if TYPE_CHECKING:
    from epay_desktop.app.listing import EarlyList
    from epay_desktop.services import Profile, SecretStore


async def run(app: Any, args: argparse.Namespace, window: MainWindow) -> int:
    """``app``: the QApplication; ``args.chosen_profile``: the profile ``main`` chose before the first
    paint (None when throwaway)."""
    throwaway = bool(args.screenshot or args.smoke)
    early: EarlyList | None = getattr(args, "early_list", None)

    async def open_session(profile: Profile, secrets: SecretStore, *, read_only: bool = False) -> Session:
        # The register listed first belongs to the first session opened (of that profile, or closed).
        nonlocal early
        taken, early = early, None
        return await open_profile(profile, secrets, read_only=read_only, early=taken)

    controller = Controller(
        app,
        window,
        open_session=open_session,
        remember_profile=remember_profile,
        show_error_dialogs=not throwaway,
    )
    if throwaway:
        with tempfile.TemporaryDirectory(prefix="epay-demo-") as folder:
            session = await open_demo(Path(folder) / "demo.sqlite3")
            controller._attach(window, session)
            try:
                if args.screenshot:
                    return await render(window, args.screenshot, args.select)
                await window.load(refresh=False)
                await asyncio.sleep(0.05)
                return 0
            finally:
                await controller.aclose()
                window.close()
    profile = args.chosen_profile
    if args.startup_marks:
        opened = await controller.open(profile)
        if opened is None:
            await controller.aclose()
            return 1
        controller._attach(window, opened)
        with contextlib.suppress(asyncio.CancelledError):
            await window.load(refresh=False)
        if not getattr(args, "listed_first", False):  # else printed when the rows listed first were painted
            print(f"listed {await rows_painted(window)}", flush=True)
        await controller.aclose()
        window.close()
        return 0
    await controller.start(profile)
    return await controller.run_until_closed()
