"""Where the secrets of webhook registrations are kept: the OS keyring (service ``epay-desktop``,
username ``<profile>:webhooks``, a JSON object ``{id: {"url": ..., "secret": ...}}``), or, for a
server without a keyring, the ``EPAY_WEBHOOK_SECRET`` environment variable (several separated by commas
or spaces). Never in plain files, never in logs.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from epay_desktop.api import register_secret
from epay_desktop.api.webhooks import secrets_from_text
from epay_desktop.i18n import _
from epay_desktop.services.secrets import KEYRING_SERVICE

log = logging.getLogger(__name__)
ENV_VAR = "EPAY_WEBHOOK_SECRET"


class WebhookSecretsError(RuntimeError):
    """No keyring to keep (or read) the secrets in."""


def _backend() -> Any:
    import keyring
    from keyring.backends import fail, null

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring):
        raise WebhookSecretsError(
            _(
                "No usable keyring on this machine; keep the secret in the {variable} environment variable."
            ).format(variable=ENV_VAR)
        )
    return backend


class WebhookSecrets:
    """The webhook secrets of one profile in the keyring."""

    def __init__(self, profile_name: str, backend: Any | None = None) -> None:
        self.username = f"{profile_name}:webhooks"
        self._backend = backend

    @property
    def backend(self) -> Any:
        if self._backend is None:
            self._backend = _backend()
        return self._backend

    def _read(self) -> dict[str, dict[str, str]]:
        from keyring.errors import KeyringError

        try:
            raw = self.backend.get_password(KEYRING_SERVICE, self.username)
        except KeyringError as error:
            raise WebhookSecretsError(
                _("The keyring failed ({reason}).").format(reason=type(error).__name__)
            ) from None
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            log.warning("the keyring entry %s is not readable; starting afresh", self.username)
            return {}
        return {str(k): v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}

    def _write(self, data: dict[str, dict[str, str]]) -> None:
        from keyring.errors import KeyringError

        try:
            if data:
                self.backend.set_password(KEYRING_SERVICE, self.username, json.dumps(data))
            else:
                self.backend.delete_password(KEYRING_SERVICE, self.username)
        except KeyringError as error:
            raise WebhookSecretsError(
                _("The keyring failed ({reason}).").format(reason=type(error).__name__)
            ) from None

    def put(self, registration_id: str, url: str, secret: str) -> None:
        data = self._read()
        data[registration_id] = {"url": url, "secret": secret}
        self._write(data)

    def forget(self, registration_id: str) -> bool:
        data = self._read()
        if data.pop(registration_id, None) is None:
            return False
        self._write(data)
        return True

    def for_url(self, url: str) -> tuple[str, ...]:
        found = tuple(v["secret"] for v in self._read().values() if v.get("url") == url and v.get("secret"))
        for secret in found:
            register_secret(secret)
        return found


def env_secrets(environ: dict[str, str] | None = None) -> tuple[str, ...]:
    """The secrets in ``EPAY_WEBHOOK_SECRET`` (none when it is not set)."""
    found = secrets_from_text((environ if environ is not None else dict(os.environ)).get(ENV_VAR, ""))
    for secret in found:
        register_secret(secret)
    return found


def secrets_for(profile_name: str, url: str, *, environ: dict[str, str] | None = None) -> tuple[str, ...]:
    """The secrets to verify deliveries to ``url`` with: the environment variable when set, else the
    keyring's for the profile."""
    return env_secrets(environ) or WebhookSecrets(profile_name).for_url(url)
