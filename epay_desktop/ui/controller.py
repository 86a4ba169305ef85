"""The running app: owns the open session and its window; opens, switches and closes profiles, says
what went wrong on opening (and offers what can help), and puts what a crash left unfinished to the
person (the recovery notice).

How a profile's session is opened (the sandbox, the client, the desk) is the composition root's
business (``epay_desktop.app.sessions``): it hands the controller an ``open_session`` and a
``remember_profile`` function, so nothing here builds services or imports the sandbox."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtWidgets import QApplication

from epay_desktop.i18n import N_, _, translate
from epay_desktop.ui.aio import TaskRunner
from epay_desktop.ui.window.main_window import MainWindow

if TYPE_CHECKING:
    import asyncio

    from PySide6.QtWidgets import QAbstractButton, QMessageBox

    from epay_desktop.services import DeskSurface, Profile, SecretStore

log = logging.getLogger(__name__)
OPEN_READ_ONLY = N_("Open read-only")


class Session(Protocol):
    """An open profile, as the composition root opened it."""

    desk: DeskSurface  # a PaymentDesk, or a TeamDesk for a Team profile
    transport: Any  # the Demo's in-process sandbox transport (Test connection uses it), else None
    read_only: bool

    async def aclose(self) -> None: ...


class SessionOpener(Protocol):
    def __call__(
        self, profile: Profile, secrets: SecretStore, *, read_only: bool = False
    ) -> Awaitable[Any]: ...


ProfileRememberer = Callable[["Profile"], Awaitable[None]]


class Controller:
    """Owns the open session and its window; opens, switches and closes profiles."""

    def __init__(
        self,
        app: QApplication,
        window: MainWindow,
        *,
        open_session: SessionOpener,
        remember_profile: ProfileRememberer,
        secrets: SecretStore | None = None,
        show_error_dialogs: bool = True,
        auto_refresh_ms: int = 30_000,
    ) -> None:
        self.app = app
        self.window = window
        self._open_session = open_session
        self._remember_profile = remember_profile
        self.session: Session | None = None
        self.secrets = secrets
        self.show_error_dialogs = show_error_dialogs
        self.auto_refresh_ms = auto_refresh_ms
        # The controller's own operations (opening, switching profiles) run like the window's: by name,
        # held strongly, their errors presented by the current window.
        self.runner = TaskRunner(self._present_error)
        self._closed: asyncio.Future[int] | None = None
        self._retired: set[MainWindow] = set()
        self.switched_to: list[str] = []  # names of profiles switched to (tests and the log)
        # Team profiles: the login dialog shown last, the window's team parts, the session tokens.
        self.login_dialog: Any = None
        self.team_presence: Any = None
        self._team_tokens: Any = None
        self._watch(window)

    # --- windows ---------------------------------------------------------------------------------------
    def _watch(self, window: MainWindow) -> None:
        window.profile_switch_requested.connect(self.request_switch)
        window.closed.connect(lambda w=window: self._window_closed(w))
        window.dialogs.use_secret_store(self.secrets)

    def _window_closed(self, window: MainWindow) -> None:
        current = window is self.window and window not in self._retired
        if current and self._closed is not None and not self._closed.done():
            self._closed.set_result(0)

    def secret_store(self) -> SecretStore:
        from epay_desktop.services import SecretStore

        if self.secrets is None:
            self.secrets = SecretStore()
        self.window.dialogs.use_secret_store(self.secrets)
        return self.secrets

    async def run_until_closed(self) -> int:
        import asyncio

        from epay_desktop.ui.ways_out import WaysOut

        self._closed = asyncio.get_running_loop().create_future()
        # QApplication.quit() (a logout) and SIGTERM take the window's way out, not a shortcut.
        ways_out = WaysOut(self.app, self._leave)
        try:
            return await self._closed
        finally:
            try:
                await self.aclose()
            finally:
                ways_out.uninstall()

    def _leave(self) -> None:
        """Close the current window: a send in flight finishes first, then the run ends."""
        if self._closed is not None and not self._closed.done():
            self.window.close()

    async def aclose(self) -> None:
        await self.runner.shutdown()
        await self.window.shutdown()
        if self.session is not None:
            session, self.session = self.session, None
            await session.aclose()

    def _present_error(self, _name: str, error: BaseException) -> None:
        self.window.presenter.present("open", error)

    # --- opening ---------------------------------------------------------------------------------------
    async def open(self, profile: Profile, *, read_only: bool = False) -> Session | None:
        """Open ``profile``'s session; on a problem tell the person (and offer what can help), return None."""
        from epay_desktop.services import (
            LoginNeededError,
            MissingSecretsError,
            NotARegisterError,
            ProfileError,
            RegisterError,
            RegisterTooNewError,
        )

        window = self.window
        window.dialogs.expect_profile(profile.name)
        try:
            session: Session = await self._open_session(profile, self.secret_store(), read_only=read_only)
            return session
        except LoginNeededError as error:
            log.info("%s: logging in to the team server", profile.name)
            if not window.bound:
                window.show_profile(profile)
                window.show_placeholder(str(error))
            self.ask_login(profile, str(error))
        except MissingSecretsError as error:
            log.warning("cannot open %s: secrets missing", profile.name)
            self._problem(
                _("{profile} needs its secrets").format(profile=profile.name),
                _(
                    "{reason}\n\nType the client secret and the subscription key in Settings, then choose "
                    "“Use this profile”."
                ).format(reason=error),
            )
            window.open_settings(select=profile.name)
        except RegisterError as error:
            log.warning("cannot open the register of %s: %s", profile.name, error)
            can_read = not read_only and not isinstance(error, RegisterTooNewError | NotARegisterError)
            problem = str(error)
            if can_read:
                problem = _("{problem}\n\nYou can open it read-only to look at the payments.").format(
                    problem=problem
                )
            box = self._problem(
                _("The register cannot be opened"),
                problem,
                buttons=(translate(OPEN_READ_ONLY),) if can_read else (),
            )
            if can_read:
                box.buttonClicked.connect(lambda button, p=profile: self._read_only_chosen(button, p))
        except (ProfileError, ValueError, OSError) as error:
            log.warning("cannot open %s: %s", profile.name, error)
            self._problem(_("{profile} cannot be opened").format(profile=profile.name), str(error))
        except Exception as error:  # a broken keyring backend, a bug: a message, never a dead window
            log.exception("opening %s failed", profile.name)
            self._problem(
                _("{profile} cannot be opened").format(profile=profile.name),
                _("{kind}: {reason}\n\nThe log file has the details.").format(
                    kind=type(error).__name__, reason=error
                ),
            )
        return None

    def _problem(self, title: str, text: str, *, buttons: tuple[str, ...] = ()) -> QMessageBox:
        from epay_desktop.ui.errors import redact

        title, text = redact(title), redact(text)  # an error's text may quote a secret
        target = self.window
        if not target.bound:
            target.show_placeholder(f"{title}.\n\n{text}")
        target.show_status(title)
        box = target.dialogs.show_problem(title, text, buttons=buttons)
        self.last_problem = box
        return box

    def _read_only_chosen(self, button: QAbstractButton, profile: Profile) -> None:
        if button.text() == translate(OPEN_READ_ONLY):
            self.runner.start(f"switch:{profile.name}", self.switch(profile, read_only=True), replace=False)

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
        window.dialogs.use_secret_store(self.secrets)
        window.dialogs.use_sandbox(session.transport)
        window.bind(session.desk, read_only=session.read_only)
        feed = getattr(session, "webhooks", None)  # the profile's WebhookFeed (app/live.py), if any
        if feed is not None:
            from epay_desktop.ui.window.live_updates import attach_live_updates

            self.live_updates = attach_live_updates(window, feed)
        team_live = getattr(session, "team_live", None)
        if session.desk.profile.is_team:
            self._attach_team(window, session.desk, team_live)
        elif not session.read_only:
            window.runner.start("recover", self._recover(window, session.desk), replace=False)

    # --- team mode -------------------------------------------------------------------------------------
    def _attach_team(self, window: MainWindow, desk: Any, live: Any) -> None:
        from epay_desktop.ui.window.team_presence import TeamPresence

        self.team_presence = TeamPresence(window, desk, live)
        self.team_presence.logout_requested.connect(lambda p=desk.profile: self.request_logout(p))
        desk.on_session_ended(lambda sentence, p=desk.profile: self.ask_login(p, sentence))
        # What a stopped instance of the server left without an outcome: the same notice (Send again,
        # Abandon, Later), each naming the agent who asked for it.
        window.runner.start("recover", self._recover(window, desk), replace=False)

    def ask_login(self, profile: Profile, reason: str = "") -> None:
        """Show the login dialog of ``profile`` (opened, never exec()'d); a login that works opens the
        profile (again, in a new window when this one shows another session)."""
        from epay_desktop.ui.dialogs.team_login import LoginDialog

        current = self.login_dialog
        if current is not None and current.isVisible():
            return  # one login at a time: several calls may notice the session ended at once
        dialog = LoginDialog(profile.base_url or "", profile.agent, reason, parent=self.window)
        self.login_dialog = dialog
        dialog.login_requested.connect(
            lambda password, p=profile, d=dialog: self.runner.start(
                f"login:{p.name}", self._log_in(p, d, password)
            )
        )
        dialog.open()

    async def _log_in(self, profile: Profile, dialog: Any, password: str) -> None:
        from epay_desktop.api import EPaymentError
        from epay_desktop.services.team_login import log_in

        try:
            await log_in(profile, password, self.team_tokens())
        except EPaymentError as error:
            dialog.show_problem(str(error))
            return
        except BaseException:
            dialog.set_busy(False)  # the window's presenter says what went wrong; the dialog stays usable
            raise
        dialog.accept()
        if self.window.bound:
            await self.switch(profile)
        else:
            await self.start(profile)

    def team_tokens(self) -> Any:
        from epay_desktop.services.team_login import TeamTokens

        if self._team_tokens is None:
            self._team_tokens = TeamTokens()
        return self._team_tokens

    def request_logout(self, profile: Profile) -> None:
        self.runner.start(f"logout:{profile.name}", self.log_out(profile), replace=False)

    async def log_out(self, profile: Profile) -> None:
        """End the team session at the server (when it answers) and forget the token; the login dialog
        opens so the next agent can log in at this desk."""
        from epay_desktop.services.team_login import log_out

        await log_out(profile, self.team_tokens())
        self.window.show_status(_("Logged out of the team server."))
        self.ask_login(profile, _("You are logged out."))

    async def _recover(self, window: MainWindow, desk: DeskSurface) -> None:
        """Finish what a crash left without an outcome: finished ones get a status line, the ones that
        need the person a non-modal notice with Send again / Abandon / Later (ui/flows/recovery.py)."""
        window.recovery_flow.present(await desk.recover_pending())
        if desk.skipped:
            from epay_desktop.i18n import _
            from epay_desktop.ui.formatting import skipped_text

            window.show_status(
                " ".join(
                    text
                    for text in (
                        _("Recovery went on without what cannot be read."),
                        skipped_text(desk.skipped),
                    )
                    if text
                )
            )
        await window.show_pending()

    # --- switching -------------------------------------------------------------------------------------
    def request_switch(self, profile: Profile) -> None:
        self.runner.start(f"switch:{profile.name}", self.switch(profile), replace=False)

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
            await self._remember_profile(profile)
        self.switched_to.append(profile.name)
        log.info("switched to profile %s%s", profile.name, " (read-only)" if read_only else "")
        window.start()
        return True
