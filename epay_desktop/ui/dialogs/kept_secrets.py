"""What the settings dialog says and does about the secrets kept for its profiles (:class:`KeptSecrets`,
over the app's one :class:`~epay_desktop.services.SecretStore`): the client secret and the subscription
key live in the OS keyring (or, where no keyring backend works, for this session only), never in a file
and never shown again. Every keyring call runs in a worker thread: a keyring may wait for an unlock
prompt."""

from __future__ import annotations

import asyncio

from epay_desktop.i18n import _
from epay_desktop.services import Profile, ProfileSecrets, SecretStore


class KeptSecrets:
    def __init__(self, store: SecretStore) -> None:
        self._store = store

    @property
    def notice(self) -> str:
        """What to say once for a whole visit when secrets are kept for this session only ("" when the
        keyring keeps them)."""
        if self._store.persistent:
            return ""
        return _(
            "No keyring is available on this computer: client secrets and subscription keys are kept "
            "for this session only and must be typed again after a restart."
        )

    async def state_of(self, profile: Profile) -> str:
        """What is kept for ``profile``, in a sentence for its form (never the secrets themselves)."""
        stored = await asyncio.to_thread(self._store.get, profile)
        if stored is not None and stored.complete:
            return (
                _("Secrets are stored in the keyring. Type in a field to replace one.")
                if self._store.persistent
                else _("Secrets are stored. Type in a field to replace one.")
            )
        if stored is not None:
            return _("Only one secret is stored; type the missing one.")
        return _("No secrets stored yet: type the client secret and the subscription key.")

    async def completed(self, name: str, typed: tuple[str, str]) -> ProfileSecrets | None:
        """The ``typed`` (client secret, subscription key), a field left empty taken from what is kept for
        the profile ``name``; what is kept when nothing was typed."""
        secret, key = typed
        stored = await asyncio.to_thread(self._store.get, name)
        if not secret and not key:
            return stored
        return ProfileSecrets(
            secret or (stored.client_secret if stored else ""),
            key or (stored.subscription_key if stored else ""),
        )

    async def keep(self, profile: Profile, secrets: ProfileSecrets, *, replacing: str | None = None) -> bool:
        """Keep ``secrets`` for ``profile`` (those of ``replacing``, its name before a rename, go); True
        when the keyring keeps them, False when kept for this session only."""
        persistent = await asyncio.to_thread(self._store.set, profile, secrets)
        if replacing and replacing != profile.name:
            await asyncio.to_thread(self._store.delete, replacing)
        return persistent

    async def forget(self, name: str) -> None:
        """The profile ``name`` is deleted: so are its secrets."""
        await asyncio.to_thread(self._store.delete, name)


__all__ = ["KeptSecrets"]
