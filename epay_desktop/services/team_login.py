"""A Team profile's session: logging in as an agent, the session token in the OS keyring, logging out.

The token is a secret like the profile secrets: it lives in the OS keyring (service ``epay-desktop``,
username ``<profile>:team_token``) or, without a usable keyring, in memory for this session only. The
desktop never sees the merchant's API secret: the team server holds it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

import httpx

from epay_desktop.api.team_client import TeamClient, TeamLogin, TeamLoginNeededError
from epay_desktop.i18n import _
from epay_desktop.services.errors import DeskError
from epay_desktop.services.profiles import Profile
from epay_desktop.services.secrets import KEYRING_SERVICE, backend_is_usable, keyring_module

__all__ = ["LoginNeededError", "TeamTokens", "log_in", "log_out"]

log = logging.getLogger(__name__)


class LoginNeededError(DeskError):
    """A Team profile has no session (never logged in, expired or revoked): show the login dialog."""

    def __init__(self, profile: Profile, message: str = "") -> None:
        super().__init__(
            message or _("Log in to {url} as {agent}.").format(url=profile.base_url, agent=profile.agent)
        )
        self.profile = profile


class TeamTokens:
    """Session tokens of Team profiles, in the OS keyring (or for this session only).

    Without a usable keyring the tokens are kept in this process's memory, shared by every
    ``TeamTokens`` (the login dialog stores one, opening the profile reads it)."""

    _session: ClassVar[dict[str, str]] = {}

    def __init__(self, backend: Any | None = None) -> None:
        self._backend = backend if backend is not None else keyring_module().get_keyring()
        self.persistent = backend_is_usable(self._backend)

    @staticmethod
    def _user(profile: Profile) -> str:
        return f"{profile.name}:team_token"

    def _fall_back(self, error: Exception) -> None:
        self.persistent = False
        log.warning(
            "keyring unavailable, keeping the team session for this session only: %s", type(error).__name__
        )

    def get(self, profile: Profile) -> str:
        if profile.name in self._session or not self.persistent:
            return self._session.get(profile.name, "")
        from keyring.errors import KeyringError

        try:
            return self._backend.get_password(KEYRING_SERVICE, self._user(profile)) or ""
        except KeyringError as error:
            self._fall_back(error)
            return ""

    def set(self, profile: Profile, token: str) -> None:
        from keyring.errors import KeyringError

        if self.persistent:
            try:
                self._backend.set_password(KEYRING_SERVICE, self._user(profile), token)
            except KeyringError as error:
                self._fall_back(error)
            else:
                self._session.pop(profile.name, None)
                return
        self._session[profile.name] = token

    def delete(self, profile: Profile) -> None:
        from keyring.errors import KeyringError, PasswordDeleteError

        self._session.pop(profile.name, None)
        if not self.persistent:
            return
        try:
            self._backend.delete_password(KEYRING_SERVICE, self._user(profile))
        except PasswordDeleteError:
            return  # nothing stored: already logged out
        except KeyringError as error:
            self._fall_back(error)


async def log_in(
    profile: Profile,
    password: str,
    tokens: TeamTokens,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> TeamLogin:
    """Log ``profile``'s agent in; the token goes to the keyring. Errors are the client's (a refused
    login is ``TeamLoginNeededError`` with the server's sentence, too many attempts ``TeamRefusedError``)."""
    async with TeamClient(profile.base_url or "", transport=transport) as client:
        login = await client.login(profile.agent, password)
    await asyncio.to_thread(tokens.set, profile, login.token)  # a keyring may prompt: not on the loop
    return login


async def log_out(
    profile: Profile, tokens: TeamTokens, *, transport: httpx.AsyncBaseTransport | None = None
) -> None:
    """Revoke the session at the server (when it answers) and forget the token either way."""
    token = await asyncio.to_thread(tokens.get, profile)
    try:
        if token:
            async with TeamClient(profile.base_url or "", token=token, transport=transport) as client:
                await client.logout()
    except TeamLoginNeededError:
        pass  # already ended at the server
    finally:
        await asyncio.to_thread(tokens.delete, profile)
