"""The command line and ``main``: parses the arguments, paints the real window, then hands over to
``running`` (the other parts of the composition root: ``logs``, ``sessions``; the Qt side of starting is
``ui.startup.first_window``, and the running app is ``ui.controller``).

``epay-desktop`` and ``python -m epay_desktop`` land here.

Start-up order (fast first paint, issue 6 item 6): QApplication → the profile (the profiles file only,
for the banner) → the real main window's frame (Qt, the domain records and the widgets the first paint
shows) painted with its real banner and a "Loading the register…" placeholder → the register's rows
(``app.listing``) → then everything else.
This module imports only what that first paint needs; :func:`_after_first_paint` is the one place
where the rest is imported (the log file and secret redaction, asyncio and qasync, the garbage
collector, and ``running`` with the controller, the sessions, httpx, the services, the keyring and the
register), and the same window is then bound to the profile's desk.

Demo (the default, no set-up): the sandbox runs in-process (``httpx.ASGITransport``, no port) with its
demo data; its state is kept beside the register so the demo world survives a restart. Test,
Production and custom profiles come from the profile store, their secrets from the keyring.
``--screenshot`` and ``--smoke`` always use a fresh, throwaway Demo world.

Problems on opening a profile never end in a traceback: missing secrets → a message and the Settings
dialog; a damaged, locked or too-new register → a message offering "Open read-only" where that can
work. Switching profile opens the new session first (so a failure leaves the current one working), then
shows a new window bound to it, then stops the old window's tasks and closes the old session.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from epay_desktop import APP_NAME, __version__, i18n
from epay_desktop.i18n import _
from epay_desktop.ui.startup import first_window

if TYPE_CHECKING:
    from epay_desktop.services import Profile
    from epay_desktop.ui.window.main_window import MainWindow


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    arguments = sys.argv[1:] if argv is None else list(argv)
    if "-h" in arguments or "--help" in arguments:
        # Only for the help: the window chooses its language later (Settings count too), and loading
        # a catalog here for every start would cost the first paint.
        from epay_desktop.paths import resource

        i18n.set_language(i18n.requested_in(arguments), resource("translations"), i18n.system_languages())
    parser = argparse.ArgumentParser(prog=APP_NAME, description=_("Vipps MobilePay ePayment back-office"))
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--profile", metavar="NAME", help=_("open this profile (default: the last used)"))
    parser.add_argument("--dark", action="store_true", help=_("use a dark palette"))
    parser.add_argument(
        "--lang",
        metavar="CODE",
        help=_(
            "language: en, nb, da, fi (x-pseudo: every text longer and accented, to find clipped or "
            "untranslated text); default: the one chosen in Settings, else the system's"
        ),
    )
    parser.add_argument(
        "--smoke", action="store_true", help=_("start, show the window, and quit (for checks)")
    )
    parser.add_argument(
        "--screenshot", metavar="FILE", type=Path, help=_("render the window to a PNG and quit")
    )
    parser.add_argument("--select", metavar="REFERENCE", help=_("with --screenshot: select this payment"))
    parser.add_argument("--size", metavar="WxH", default="1280x760", help=_("with --screenshot: window size"))
    # benchmarks/startup.py: print "painted" at the first paint, "first N" once the first N rows are
    # painted (listed first, see app.listing; "read" and "table" on the way there) and "listed N" once
    # every row of the register is, then quit.
    parser.add_argument("--startup-marks", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def choose_profile(name: str | None) -> Profile:
    """``name``, else the last used profile, else Demo (a damaged profiles file falls back to Demo).
    Reads the profiles file only (no httpx, no store): it runs before the first paint."""
    import logging

    from epay_desktop.services import DEMO_PROFILE, ProfileError, ProfileStore, ProfileStoreError

    store = ProfileStore()
    try:
        return store.get(name or store.last_used)
    except ProfileStoreError:
        if name:
            raise
        logging.getLogger("epay_desktop.app").warning("the profiles file cannot be read; opening Demo")
        return DEMO_PROFILE
    except ProfileError:
        if name:
            raise
        return DEMO_PROFILE


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    throwaway = bool(args.screenshot or args.smoke)
    # The profile is known before the first paint, so the window paints its real banner (DEMO,
    # PRODUCTION, the profile's name). Reading the profiles file loads no httpx and no store.
    from epay_desktop.services import DEMO_PROFILE

    try:
        args.chosen_profile = None if throwaway else choose_profile(args.profile)
    except Exception as error:  # a named profile that does not exist, an unreadable profiles file
        print(f"{APP_NAME}: {error}", file=sys.stderr)
        return 2
    if not args.screenshot and (problem := _display_problem()) is not None:
        return problem
    language = args.lang or (None if throwaway else _saved_language())
    size = None
    if args.screenshot:
        width, _by, height = str(args.size).partition("x")
        size = (int(width), int(height))
    # The real window paints first; everything heavy is imported after this line.
    app, window = first_window(
        args.chosen_profile or DEMO_PROFILE,
        dark=args.dark,
        offscreen=bool(args.screenshot),
        size=size,
        show_error_dialogs=not throwaway,
        language=language,
    )
    if args.startup_marks:
        print("painted", flush=True)
    # Then the rows, straight from the register file, still before the heavy imports (app.listing).
    args.early_list = None
    if not throwaway:
        from epay_desktop.app.listing import list_first

        args.early_list = list_first(
            window,
            args.chosen_profile,
            first_painted=(lambda n: print(f"first {n}", flush=True)) if args.startup_marks else None,
            reached=(lambda step: print(step, flush=True)) if args.startup_marks else None,
        )
    args.listed_first = args.early_list is not None and bool(args.early_list.payments)
    if args.startup_marks and args.listed_first:
        print(f"listed {window.model.rowCount()}", flush=True)
    try:
        return _after_first_paint(app, args, window)
    finally:
        if args.early_list is not None:
            args.early_list.close()  # taken over by the session (closed with it), unless it never opened


def _saved_language() -> str | None:
    """The language chosen in Settings (None: follow the system); a damaged profiles file says nothing."""
    from epay_desktop.services import ProfileStore, ProfileStoreError

    try:
        return ProfileStore().language
    except ProfileStoreError:
        return None


def _display_problem() -> int | None:
    """Exit status 1 after telling the person, when Qt would abort for lack of a platform plugin (a
    missing system library, no desktop session); None when the window can open."""
    from epay_desktop.app.display import has_screen, platform_problem

    problem = platform_problem()
    if problem is None:
        return None
    from epay_desktop import paths
    from epay_desktop.app.display import tell_person

    tell_person(problem, log_file=paths.log_file(), dialogs=has_screen())
    return 1


def _after_first_paint(app: Any, args: argparse.Namespace, window: MainWindow) -> int:
    """The one place for the imports the first paint does not need (see the module docstring)."""
    import logging

    from epay_desktop.app import running
    from epay_desktop.app.logs import close_logging, setup_logging
    from epay_desktop.ui.aio import run_app
    from epay_desktop.ui.gc_guard import GarbageCollector

    handler = setup_logging()
    # Garbage is collected on this (the GUI) thread only: a QObject destroyed by a collection that
    # happened to start in a worker thread leaves its timers behind (a later segfault).
    collector = GarbageCollector(app, freeze_loads=True)
    try:
        logging.getLogger("epay_desktop.app").info("%s %s starting", APP_NAME, __version__)
        collector.start()
        collector.freeze()  # imports, the window, Qt's wrappers: alive until quit, never walked again
        return run_app(lambda: running.run(app, args, window))
    finally:
        collector.stop()
        close_logging(handler)
