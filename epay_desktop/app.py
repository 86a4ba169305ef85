"""Composition root: parses the command line, builds everything from the profile, starts the loop.

The only module that imports ``ui``. ``epay-desktop`` and ``python -m epay_desktop`` land here.

Demo (the default, no set-up): the sandbox runs in-process (``httpx.ASGITransport``, no port) with its
demo data; its state is kept beside the register so the demo world survives a restart. Test,
Production and custom profiles come from the profile store, their secrets from the keyring.
``--screenshot`` and ``--smoke`` always use a fresh, throwaway Demo world.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from PySide6.QtWidgets import QApplication

from epay_desktop import APP_NAME, __version__, paths
from epay_desktop.api import SandboxControls
from epay_desktop.services import (
    DEMO_PROFILE,
    DEMO_SECRETS,
    DemoControls,
    MissingSecretsError,
    PaymentDesk,
    Profile,
    ProfileError,
    ProfileStore,
    SecretStore,
    client_for,
    register_path,
)
from epay_desktop.ui.aio import run_app
from epay_desktop.ui.main_window import MainWindow
from epay_desktop.ui.theme import apply_style

log = logging.getLogger(__name__)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=APP_NAME, description="Vipps MobilePay ePayment back-office")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--profile", metavar="NAME", help="open this profile (default: the last used)")
    parser.add_argument("--dark", action="store_true", help="use a dark palette")
    parser.add_argument("--smoke", action="store_true", help="start, show the window, and quit (for checks)")
    parser.add_argument("--screenshot", metavar="FILE", type=Path, help="render the window to a PNG and quit")
    parser.add_argument("--select", metavar="REFERENCE", help="with --screenshot: select this payment")
    parser.add_argument("--size", metavar="WxH", default="1280x760", help="with --screenshot: window size")
    return parser.parse_args(argv)


@dataclass
class Session:
    """What one open profile holds; ``aclose`` closes it in reverse order of opening."""

    desk: PaymentDesk
    stack: contextlib.AsyncExitStack

    async def aclose(self) -> None:
        await self.stack.aclose()


async def open_demo(register: Path, *, state_file: Path | None = None) -> Session:
    """The in-process sandbox with its demo data, the client and controls over it, the desk."""
    from epay_desktop.sandbox import SandboxConfig, create_app

    stack = contextlib.AsyncExitStack()
    try:
        sandbox = create_app(SandboxConfig(data="demo", state_file=state_file))
        transport = httpx.ASGITransport(app=sandbox)
        base_url = DEMO_PROFILE.effective_base_url
        client = await stack.enter_async_context(client_for(DEMO_PROFILE, DEMO_SECRETS, transport=transport))
        controls = await stack.enter_async_context(SandboxControls(base_url, transport=transport))
        # Opening a Demo register for the first time seeds it from the sandbox's demo payments.
        desk = await PaymentDesk.open(DEMO_PROFILE, client, register, demo=DemoControls(controls))
        stack.push_async_callback(desk.aclose)
    except BaseException:
        await stack.aclose()
        raise
    return Session(desk, stack)


async def open_profile(profile: Profile, secrets: SecretStore) -> Session:
    if profile.is_demo:
        data = paths.data_dir()
        return await open_demo(register_path(profile), state_file=data / "demo-sandbox.json")
    client_of_profile = client_for(profile, secrets.get(profile))  # MissingSecretsError: says what to do
    stack = contextlib.AsyncExitStack()
    try:
        client = await stack.enter_async_context(client_of_profile)
        desk = await PaymentDesk.open(profile, client, register_path(profile))
        stack.push_async_callback(desk.aclose)
    except BaseException:
        await stack.aclose()
        raise
    return Session(desk, stack)


def choose_profile(name: str | None) -> Profile:
    store = ProfileStore()
    try:
        return store.get(name or store.last_used)
    except ProfileError:
        if name:
            raise
        return DEMO_PROFILE


async def render(window: MainWindow, target: Path, select: str | None) -> int:
    """Load and refresh the register, select a payment, paint once, save the PNG."""
    await window.load()
    if select and not window.select_reference(select):
        print(f"{APP_NAME}: no payment {select!r} in the register", file=sys.stderr)
        return 2
    await asyncio.sleep(0.1)  # let the layout settle
    await window.shutdown()
    QApplication.processEvents()
    if not window.grab().save(str(target)):
        print(f"{APP_NAME}: could not write {target}", file=sys.stderr)
        return 1
    return 0


async def run(app: QApplication, args: argparse.Namespace) -> int:
    throwaway = bool(args.screenshot or args.smoke)
    with contextlib.ExitStack() as files:
        if throwaway:
            folder = Path(files.enter_context(tempfile.TemporaryDirectory(prefix="epay-demo-")))
            session = await open_demo(folder / "demo.sqlite3")
        else:
            session = await open_profile(choose_profile(args.profile), SecretStore())
        try:
            window = MainWindow(session.desk, show_error_dialogs=not throwaway)
            if args.screenshot:
                width, _, height = str(args.size).partition("x")
                window.resize(int(width), int(height))
            window.show()
            if args.screenshot:
                code = await render(window, args.screenshot, args.select)
            elif args.smoke:
                await window.load(refresh=False)
                await asyncio.sleep(0.05)
                code = 0
            else:
                code = await run_until_closed(app, window)
            await window.shutdown()
            window.close()
            return code
        finally:
            await session.aclose()


async def run_until_closed(app: QApplication, window: MainWindow) -> int:
    closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def _closed() -> None:
        if not closed.done():
            closed.set_result(0)

    app.lastWindowClosed.connect(_closed)
    window.start()
    return await closed


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.screenshot and QApplication.instance() is None:
        # A screenshot needs no screen: render offscreen unless a platform was chosen.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_NAME)
    # The window closing ends run(); Qt quitting by itself would stop the loop under our cleanup.
    app.setQuitOnLastWindowClosed(False)
    apply_style(app, dark=args.dark)
    try:
        return run_app(lambda: run(app, args))
    except (ProfileError, MissingSecretsError) as error:
        print(f"{APP_NAME}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
