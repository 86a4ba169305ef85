"""Composition root: parses the command line, builds everything from the profile, starts the loop.

The only module that imports ``ui``. ``epay-desktop`` and ``python -m epay_desktop`` land here.

Start-up order (fast first paint, issue 6 item 6): QApplication → the real main window's frame (Qt, the
domain records and the table model only) painted with a "Loading the register…" placeholder → then the
log file and secret redaction, asyncio and qasync, httpx, the services, the keyring and the register are
imported and opened, and the same window is bound to the profile's desk. Heavy imports are inside the
functions below, on purpose.

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
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QApplication

from epay_desktop import APP_NAME, __version__
from epay_desktop.ui.main_window import MainWindow
from epay_desktop.ui.startup import paint_now
from epay_desktop.ui.theme import apply_style

if TYPE_CHECKING:
    import asyncio
    import contextlib

    from PySide6.QtWidgets import QAbstractButton, QMessageBox

    from epay_desktop.services import PaymentDesk, Profile, SecretStore

log = logging.getLogger(__name__)
LOG_FILE_NAME = "epay-desktop.log"
LOG_MAX_BYTES = 2_000_000
LOG_BACKUPS = 5
OPEN_READ_ONLY = "Open read-only"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=APP_NAME, description="Vipps MobilePay ePayment back-office")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--profile", metavar="NAME", help="open this profile (default: the last used)")
    parser.add_argument("--dark", action="store_true", help="use a dark palette")
    parser.add_argument("--smoke", action="store_true", help="start, show the window, and quit (for checks)")
    parser.add_argument("--screenshot", metavar="FILE", type=Path, help="render the window to a PNG and quit")
    parser.add_argument("--select", metavar="REFERENCE", help="with --screenshot: select this payment")
    parser.add_argument("--size", metavar="WxH", default="1280x760", help="with --screenshot: window size")
    # benchmarks/startup.py: print "painted" at the first paint and "listed N" once the register's rows
    # are painted, then quit.
    parser.add_argument("--startup-marks", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- the log file --------------------------------------------------------------------------------------


def setup_logging(level: int = logging.INFO) -> logging.Handler:
    """A rotating log file under ``paths.log_dir()`` for support, with secrets redacted from every
    record (``install_redaction`` on the root logger and on each of its handlers). Returns the file
    handler (``close_logging`` removes it)."""
    from logging.handlers import RotatingFileHandler

    from epay_desktop import paths
    from epay_desktop.api import install_redaction

    handler = RotatingFileHandler(
        paths.log_dir() / LOG_FILE_NAME, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(level)
    root = logging.getLogger()
    root.addHandler(handler)
    if not any(getattr(h, "_epay_console", False) for h in root.handlers):
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        console._epay_console = True  # type: ignore[attr-defined]
        root.addHandler(console)
    handler._epay_previous_level = root.level  # type: ignore[attr-defined]  # close_logging restores it
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    # One line per HTTP request would bury what support needs; warnings and errors still get through.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    install_redaction()  # after the handlers exist: the filter goes on each of them
    return handler


def close_logging(handler: logging.Handler) -> None:
    root = logging.getLogger()
    root.removeHandler(handler)
    handler.close()
    root.setLevel(getattr(handler, "_epay_previous_level", root.level))
    for console in [h for h in root.handlers if getattr(h, "_epay_console", False)]:
        root.removeHandler(console)


# --- sessions ------------------------------------------------------------------------------------------


@dataclass
class Session:
    """What one open profile holds; ``aclose`` closes it in reverse order of opening."""

    desk: PaymentDesk
    stack: contextlib.AsyncExitStack
    read_only: bool = False
    transport: Any = field(default=None)  # the Demo's in-process sandbox (Test connection uses it)

    async def aclose(self) -> None:
        await self.stack.aclose()


async def _open_desk(
    profile: Profile, client: Any, register: Path, *, demo: Any = None, read_only: bool = False
) -> PaymentDesk:
    from epay_desktop.services import PaymentDesk

    return await PaymentDesk.open(profile, client, register, demo=demo, read_only=read_only)


async def open_demo(register: Path, *, state_file: Path | None = None, read_only: bool = False) -> Session:
    """The in-process sandbox with its demo data, the client and controls over it, the desk."""
    import contextlib

    import httpx

    from epay_desktop.api import SandboxControls
    from epay_desktop.sandbox import SandboxConfig, create_app
    from epay_desktop.services import DEMO_PROFILE, DEMO_SECRETS, DemoControls, client_for

    stack = contextlib.AsyncExitStack()
    try:
        sandbox = create_app(SandboxConfig(data="demo", state_file=state_file))
        transport = httpx.ASGITransport(app=sandbox)
        base_url = DEMO_PROFILE.effective_base_url
        client = await stack.enter_async_context(client_for(DEMO_PROFILE, DEMO_SECRETS, transport=transport))
        controls = await stack.enter_async_context(SandboxControls(base_url, transport=transport))
        # Opening a Demo register for the first time seeds it from the sandbox's demo payments.
        demo = None if read_only else DemoControls(controls)
        desk = await _open_desk(DEMO_PROFILE, client, register, demo=demo, read_only=read_only)
        stack.push_async_callback(desk.aclose)
    except BaseException:
        await stack.aclose()
        raise
    return Session(desk, stack, read_only=read_only, transport=transport)


async def open_profile(profile: Profile, secrets: SecretStore, *, read_only: bool = False) -> Session:
    """The profile's client (secrets from ``secrets``; ``MissingSecretsError`` says what to do) and desk."""
    import asyncio
    import contextlib

    from epay_desktop import paths
    from epay_desktop.services import client_for, register_path

    if profile.is_demo:
        data = paths.data_dir()
        return await open_demo(
            register_path(profile), state_file=data / "demo-sandbox.json", read_only=read_only
        )
    # A keyring may wait for an unlock prompt: never on the GUI thread.
    stored = await asyncio.to_thread(secrets.get, profile)
    client_of_profile = client_for(profile, stored)
    stack = contextlib.AsyncExitStack()
    try:
        client = await stack.enter_async_context(client_of_profile)
        desk = await _open_desk(profile, client, register_path(profile), read_only=read_only)
        stack.push_async_callback(desk.aclose)
    except BaseException:
        await stack.aclose()
        raise
    return Session(desk, stack, read_only=read_only)


def choose_profile(name: str | None) -> Profile:
    """``name``, else the last used profile, else Demo (a damaged profiles file falls back to Demo)."""
    from epay_desktop.services import DEMO_PROFILE, ProfileError, ProfileStore, ProfileStoreError

    store = ProfileStore()
    try:
        return store.get(name or store.last_used)
    except ProfileStoreError:
        if name:
            raise
        log.warning("the profiles file cannot be read; opening Demo")
        return DEMO_PROFILE
    except ProfileError:
        if name:
            raise
        return DEMO_PROFILE


# --- the running app -----------------------------------------------------------------------------------


class Controller:
    """Owns the open session and its window; opens, switches and closes profiles."""

    def __init__(
        self,
        app: QApplication,
        window: MainWindow,
        *,
        secrets: SecretStore | None = None,
        show_error_dialogs: bool = True,
        auto_refresh_ms: int = 30_000,
    ) -> None:
        self.app = app
        self.window = window
        self.session: Session | None = None
        self.secrets = secrets
        self.show_error_dialogs = show_error_dialogs
        self.auto_refresh_ms = auto_refresh_ms
        self.tasks: set[asyncio.Task[Any]] = set()
        self._closed: asyncio.Future[int] | None = None
        self._retired: set[MainWindow] = set()
        self.switched_to: list[str] = []  # names of profiles switched to (tests and the log)
        self._watch(window)

    # --- windows ---------------------------------------------------------------------------------------
    def _watch(self, window: MainWindow) -> None:
        window.profile_switch_requested.connect(self.request_switch)
        window.closed.connect(lambda w=window: self._window_closed(w))
        window.secret_store = self.secrets

    def _window_closed(self, window: MainWindow) -> None:
        current = window is self.window and window not in self._retired
        if current and self._closed is not None and not self._closed.done():
            self._closed.set_result(0)

    def secret_store(self) -> SecretStore:
        from epay_desktop.services import SecretStore

        if self.secrets is None:
            self.secrets = SecretStore()
        self.window.secret_store = self.secrets
        return self.secrets

    async def run_until_closed(self) -> int:
        import asyncio

        self._closed = asyncio.get_running_loop().create_future()
        try:
            return await self._closed
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        import asyncio

        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.window.shutdown()
        if self.session is not None:
            session, self.session = self.session, None
            await session.aclose()

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        import asyncio

        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            log.error("profile operation failed", exc_info=error)
            assert error is not None
            self.window.presenter.present("open", error)

    # --- opening ---------------------------------------------------------------------------------------
    async def open(self, profile: Profile, *, read_only: bool = False) -> Session | None:
        """Open ``profile``'s session; on a problem tell the person (and offer what can help), return None."""
        from epay_desktop.services import (
            MissingSecretsError,
            ProfileError,
            RegisterError,
            RegisterTooNewError,
        )

        window = self.window
        if not window.bound:
            window.wanted_profile = profile.name
        try:
            return await open_profile(profile, self.secret_store(), read_only=read_only)
        except MissingSecretsError as error:
            log.warning("cannot open %s: secrets missing", profile.name)
            self._problem(
                f"{profile.name} needs its secrets",
                f"{error}\n\nType the client secret and the subscription key in Settings, then choose "
                "“Use this profile”.",
            )
            window.open_settings(select=profile.name)
        except RegisterError as error:
            log.warning("cannot open the register of %s: %s", profile.name, error)
            can_read = not read_only and not isinstance(error, RegisterTooNewError)
            box = self._problem(
                "The register cannot be opened",
                str(error) + ("\n\nYou can open it read-only to look at the payments." if can_read else ""),
                buttons=(OPEN_READ_ONLY,) if can_read else (),
            )
            if can_read:
                box.buttonClicked.connect(lambda button, p=profile: self._read_only_chosen(button, p))
        except (ProfileError, ValueError, OSError) as error:
            log.warning("cannot open %s: %s", profile.name, error)
            self._problem(f"{profile.name} cannot be opened", str(error))
        except Exception as error:  # a broken keyring backend, a bug: a message, never a dead window
            log.exception("opening %s failed", profile.name)
            self._problem(
                f"{profile.name} cannot be opened",
                f"{type(error).__name__}: {error}\n\nThe log file has the details.",
            )
        return None

    def _problem(self, title: str, text: str, *, buttons: tuple[str, ...] = ()) -> QMessageBox:
        from epay_desktop.ui import window_dialogs
        from epay_desktop.ui.errors import redact

        title, text = redact(title), redact(text)  # an error's text may quote a secret
        target = self.window
        if not target.bound:
            target.show_placeholder(f"{title}.\n\n{text}")
        target.show_status(title)
        box = window_dialogs.show_problem(target, title, text, buttons=buttons)
        self.last_problem = box
        return box

    def _read_only_chosen(self, button: QAbstractButton, profile: Profile) -> None:
        if button.text() == OPEN_READ_ONLY:
            self._spawn(self.switch(profile, read_only=True))

    async def start(self, profile: Profile) -> bool:
        """Open ``profile`` into the current (unbound) window and start loading."""
        session = await self.open(profile)
        if session is None:
            return False
        self._attach(self.window, session)
        self.window.start()
        return True

    def _attach(self, window: MainWindow, session: Session) -> None:
        self.session = session
        window.secret_store = self.secrets
        window.sandbox_transport = session.transport
        window.bind(session.desk, read_only=session.read_only)
        if not session.read_only:
            window.runner.start("recover", self._recover(window, session.desk), replace=False)

    async def _recover(self, window: MainWindow, desk: PaymentDesk) -> None:
        """Finish what a crash left without an outcome: finished ones get a status line, the ones that
        need the person a non-modal notice with Send again / Abandon / Later (ui/recovery_notice.py)."""
        window.recovery_flow.present(await desk.recover_pending())

    # --- switching -------------------------------------------------------------------------------------
    def request_switch(self, profile: Profile) -> None:
        self._spawn(self.switch(profile))

    async def switch(self, profile: Profile, *, read_only: bool = False) -> bool:
        """Open ``profile``; on success show a new window bound to it and close the old window and session.
        A money-moving call in flight in the current session is finished first (the person is told)."""
        if self.window.bound:
            await self.window.finish_in_flight()
        session = await self.open(profile, read_only=read_only)
        if session is None:
            return False
        old_window, old_session = self.window, self.session
        window = MainWindow(show_error_dialogs=self.show_error_dialogs, auto_refresh_ms=self.auto_refresh_ms)
        window.setGeometry(old_window.geometry())
        self._attach(window, session)
        self._retired.add(old_window)
        self.window = window
        self._watch(window)
        window.show()
        # The old window's tasks are cancelled and awaited before its desk closes.
        await old_window.shutdown()
        old_window.close()
        # Qt deletes it on this (the GUI) thread; left to Python's collector, a Python-owned window could
        # be destroyed in a worker thread, leaving its timers registered (a later segfault).
        old_window.deleteLater()
        if old_session is not None:
            await old_session.aclose()
        if not read_only:
            await _remember(profile)
        self.switched_to.append(profile.name)
        log.info("switched to profile %s%s", profile.name, " (read-only)" if read_only else "")
        window.start()
        return True


async def _remember(profile: Profile) -> None:
    import asyncio

    from epay_desktop.services import ProfileStore, ProfileStoreError

    try:
        await asyncio.to_thread(ProfileStore().set_last_used, profile.name)
    except (ProfileStoreError, OSError) as error:
        log.warning("could not remember the last used profile: %s", error)


# --- entry points --------------------------------------------------------------------------------------


async def render(window: MainWindow, target: Path, select: str | None) -> int:
    """Load the register, select a payment, paint once, save the PNG."""
    import asyncio

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


async def rows_painted(window: MainWindow) -> int:
    """Wait until the table has painted with its rows; the row count (for --startup-marks)."""
    import asyncio

    from PySide6.QtCore import QEvent, QObject

    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    class Watcher(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and window.model.rowCount() and not done.done():
                done.set_result(None)
            return False

    watcher = Watcher()
    window.table.viewport().installEventFilter(watcher)
    window.table.viewport().update()
    try:
        if window.model.rowCount():
            await done
    finally:
        window.table.viewport().removeEventFilter(watcher)
    return window.model.rowCount()


async def run(app: QApplication, args: argparse.Namespace, window: MainWindow) -> int:
    """``args.chosen_profile``: the profile ``main`` chose before the first paint (None when throwaway)."""
    import asyncio
    import contextlib
    import tempfile

    throwaway = bool(args.screenshot or args.smoke)
    controller = Controller(app, window, show_error_dialogs=not throwaway)
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
        print(f"listed {await rows_painted(window)}", flush=True)
        await controller.aclose()
        window.close()
        return 0
    await controller.start(profile)
    return await controller.run_until_closed()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.screenshot and QApplication.instance() is None:
        # A screenshot needs no screen: render offscreen unless a platform was chosen.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_NAME)
    # The window closing ends run(); Qt quitting by itself would stop the loop under our cleanup.
    app.setQuitOnLastWindowClosed(False)
    apply_style(app, dark=args.dark)
    throwaway = bool(args.screenshot or args.smoke)
    # The profile is known before the first paint, so the window paints its real banner (DEMO,
    # PRODUCTION, the profile's name). Reading the profiles file loads no httpx and no store.
    from epay_desktop.services import DEMO_PROFILE

    try:
        args.chosen_profile = None if throwaway else choose_profile(args.profile)
    except Exception as error:  # a named profile that does not exist, an unreadable profiles file
        print(f"{APP_NAME}: {error}", file=sys.stderr)
        return 2
    window = MainWindow(show_error_dialogs=not throwaway)
    window.show_profile(args.chosen_profile or DEMO_PROFILE)
    if args.screenshot:
        width, _, height = str(args.size).partition("x")
        window.resize(int(width), int(height))
    # The real window paints first; everything heavy is imported after this line.
    paint_now(window)
    if args.startup_marks:
        print("painted", flush=True)
    handler = setup_logging()
    from epay_desktop.ui.aio import run_app
    from epay_desktop.ui.gc_guard import GarbageCollector

    # Garbage is collected on this (the GUI) thread only: a QObject destroyed by a collection that
    # happened to start in a worker thread leaves its timers behind (a later segfault).
    collector = GarbageCollector(app)
    try:
        log.info("%s %s starting", APP_NAME, __version__)
        collector.start()
        return run_app(lambda: run(app, args, window))
    finally:
        collector.stop()
        close_logging(handler)


if __name__ == "__main__":
    sys.exit(main())
