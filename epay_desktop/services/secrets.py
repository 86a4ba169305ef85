"""Where a profile's secrets live: the OS keyring, or this session's memory when no keyring works.

The client secret and the subscription key live in the OS keyring through ``keyring`` (service
``epay-desktop``, usernames ``<profile>:client_secret`` and ``<profile>:subscription_key``). Where no
usable keyring backend exists (the fail or null backend, or a call raising ``KeyringError``),
``SecretStore`` keeps them in memory for this session only and says so through ``SecretStore.persistent``
so the UI can tell the person. ``keyring`` is imported on first use (it scans its backends on import).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from epay_desktop.i18n import _

if TYPE_CHECKING:
    from epay_desktop.services.profiles import Profile

log = logging.getLogger(__name__)

KEYRING_SERVICE = "epay-desktop"


@dataclass(frozen=True, slots=True)
class ProfileSecrets:
    """The two secrets of a profile; ``repr`` never shows them."""

    client_secret: str = field(repr=False)
    subscription_key: str = field(repr=False)

    @property
    def complete(self) -> bool:
        return bool(self.client_secret and self.subscription_key)


DEMO_SECRETS = ProfileSecrets("demo-secret", "demo-subscription-key")


def backend_is_usable(backend: Any) -> bool:
    from keyring.backends import fail, null

    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    inner = getattr(backend, "backends", None)
    return not (inner is not None and not inner)


def keyring_module() -> Any:
    # Imported on first use: keyring scans its backends on import (~50 ms), which start-up can skip.
    import keyring

    return keyring


def _keyring_error() -> type[Exception]:
    from keyring.errors import KeyringError

    return KeyringError


def _password_delete_error() -> type[Exception]:
    from keyring.errors import PasswordDeleteError

    return PasswordDeleteError


class SecretStore:
    """Secrets in the OS keyring, or in memory for this session when no keyring backend works.

    ``persistent`` is False in the second case (the UI says "kept for this session only")."""

    def __init__(self, backend: Any | None = None) -> None:
        self._backend = backend if backend is not None else keyring_module().get_keyring()
        self._session: dict[str, ProfileSecrets] = {}
        self.persistent = backend_is_usable(self._backend)
        self.problem = (
            "" if self.persistent else _("No usable keyring backend: secrets are kept for this session only.")
        )

    def _fall_back(self, error: Exception) -> None:
        # Never include the error's text in logs verbatim with values; keyring errors do not carry secrets.
        self.persistent = False
        self.problem = _("The keyring failed ({reason}): secrets are kept for this session only.").format(
            reason=type(error).__name__
        )
        log.warning("keyring unavailable, keeping secrets for this session only: %s", type(error).__name__)

    @staticmethod
    def _usernames(profile_name: str) -> tuple[str, str]:
        return f"{profile_name}:client_secret", f"{profile_name}:subscription_key"

    def get(self, profile: Profile | str) -> ProfileSecrets | None:
        name = profile if isinstance(profile, str) else profile.name
        if not isinstance(profile, str) and profile.is_demo:
            return DEMO_SECRETS
        if name in self._session or not self.persistent:
            return self._session.get(name)
        secret_user, key_user = self._usernames(name)
        try:
            secret = self._backend.get_password(KEYRING_SERVICE, secret_user)
            key = self._backend.get_password(KEYRING_SERVICE, key_user)
        except _keyring_error() as error:
            self._fall_back(error)
            return self._session.get(name)
        if secret is None and key is None:
            return None
        return ProfileSecrets(secret or "", key or "")

    def set(self, profile: Profile | str, secrets: ProfileSecrets) -> bool:
        """Keep ``secrets``; True when they went to the keyring, False when kept for the session only."""
        name = profile if isinstance(profile, str) else profile.name
        if self.persistent:
            secret_user, key_user = self._usernames(name)
            try:
                self._backend.set_password(KEYRING_SERVICE, secret_user, secrets.client_secret)
                self._backend.set_password(KEYRING_SERVICE, key_user, secrets.subscription_key)
            except _keyring_error() as error:
                self._fall_back(error)
            else:
                self._session.pop(name, None)
                return True
        self._session[name] = secrets
        return False

    def delete(self, profile: Profile | str) -> None:
        name = profile if isinstance(profile, str) else profile.name
        self._session.pop(name, None)
        if not self.persistent:
            return
        for user in self._usernames(name):
            try:
                self._backend.delete_password(KEYRING_SERVICE, user)
            except _password_delete_error():
                continue  # nothing stored under that name: already gone
            except _keyring_error() as error:
                self._fall_back(error)
                return
