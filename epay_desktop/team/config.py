"""The team service's configuration: a TOML file, with the database and any secret also readable from
the environment. The merchants' API credentials live only here and in the service's memory: never in the
database, never in an answer to a desktop, never in a log (``Credentials`` hides them in its repr).

    database = "host=127.0.0.1 dbname=epay user=epay_service"   # or EPAY_TEAM_DATABASE
    session_hours = 8
    approval_hours = 24                 # an approval request not decided by then expires (never sent)

    [[merchants]]
    msn = "123456"
    environment = "production"          # test | production | sandbox (then base_url = "http://...")
    client_id = "..."
    client_secret_env = "EPAY_123456_CLIENT_SECRET"    # or client_secret = "..." in the file
    subscription_key_env = "EPAY_123456_SUBSCRIPTION_KEY"
    # A refund, or a batch, moving more than this waits for a second supervisor's approval (four
    # eyes); without it nothing is held. Minor units, as the API writes money.
    approval_threshold = { value = 500000, currency = "NOK" }

    [live]                              # all optional
    heartbeat_s = 15                    # a comment on every live stream this often
    refresh_every_s = 30                # the polling instance looks for payments to read again
    stale_after_s = 300                 # ... that can still change and were read longer ago than this
    webhook_url = "https://team.example/hooks/vipps"     # receive webhooks at this URL's path
    webhook_secret_env = "EPAY_WEBHOOK_SECRET"           # their secrets (several: comma-separated)
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from epay_desktop.api import Credentials, Environment
from epay_desktop.api.webhooks import secrets_from_text
from epay_desktop.domain import Currency, Money, MoneyError

__all__ = ["ConfigError", "LiveConfig", "Merchant", "TeamConfig", "load_config"]

DATABASE_ENV = "EPAY_TEAM_DATABASE"
CONFIG_ENV = "EPAY_TEAM_CONFIG"


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which entry and why (never a secret)."""


DEFAULT_APPROVAL_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Merchant:
    environment: Environment
    credentials: Credentials
    approval_threshold: Money | None = None


@dataclass(frozen=True, slots=True)
class LiveConfig:
    """Live updates, the team's own refresh, and the webhooks it receives (none without a URL)."""

    heartbeat_s: float = 15.0
    refresh_every_s: float = 30.0
    stale_after_s: float = 300.0
    webhook_url: str = ""
    webhook_secrets: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class TeamConfig:
    database: str = field(repr=False)
    merchants: tuple[Merchant, ...]
    live: LiveConfig = LiveConfig()
    approval_lifetime: timedelta = DEFAULT_APPROVAL_LIFETIME

    @property
    def approval_thresholds(self) -> dict[str, Money]:
        return {
            m.credentials.merchant_serial_number: m.approval_threshold
            for m in self.merchants
            if m.approval_threshold is not None
        }


def _text(entry: Mapping[str, Any], key: str, where: str, env: Mapping[str, str]) -> str:
    named = entry.get(f"{key}_env")
    if named is not None:
        if not isinstance(named, str) or named not in env:
            raise ConfigError(f"{where}: {key}_env names {named!r}, which is not set in the environment")
        return env[named]
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: {key} (or {key}_env) is missing")
    return value


def _environment(entry: Mapping[str, Any], where: str) -> Environment:
    kind = entry.get("environment", "production")
    try:
        if kind == "production":
            return Environment.PRODUCTION
        if kind == "test":
            return Environment.TEST
        if kind == "sandbox":
            return Environment.sandbox(str(entry.get("base_url", "")))
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None
    raise ConfigError(f"{where}: environment is test, production or sandbox, not {kind!r}")


def _threshold(entry: Mapping[str, Any], where: str) -> Money | None:
    given = entry.get("approval_threshold")
    if given is None:
        return None
    if not isinstance(given, dict) or set(given) != {"value", "currency"}:
        raise ConfigError(
            f'{where}: approval_threshold is {{ value = minor units, currency = "NOK" }}, not {given!r}'
        )
    try:
        threshold = Money(given["value"], Currency(given["currency"]))
    except (MoneyError, ValueError, TypeError):
        raise ConfigError(
            f"{where}: approval_threshold needs an integer value and a known currency"
        ) from None
    if threshold.value < 0:
        raise ConfigError(f"{where}: approval_threshold cannot be negative")
    return threshold


def _lifetime(data: Mapping[str, Any]) -> timedelta:
    hours = data.get("approval_hours", DEFAULT_APPROVAL_LIFETIME.total_seconds() / 3600)
    if (
        isinstance(hours, bool)
        or not isinstance(hours, int | float)
        or not math.isfinite(hours)
        or hours <= 0
    ):
        raise ConfigError(f"approval_hours is a number of hours above 0, not {hours!r}")
    return timedelta(hours=hours)


def parse_config(data: Mapping[str, Any], env: Mapping[str, str]) -> TeamConfig:
    database = env.get(DATABASE_ENV) or data.get("database")
    if not isinstance(database, str) or not database:
        raise ConfigError(f"no database: set database in the file or {DATABASE_ENV} in the environment")
    entries = data.get("merchants", [])
    if not isinstance(entries, list) or not entries:
        raise ConfigError("no merchants: add at least one [[merchants]] entry")
    merchants: list[Merchant] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        where = f"merchant {number}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} is not a table")
        msn = str(entry.get("msn", ""))
        if msn in seen:
            raise ConfigError(f"{where}: serial number {msn} is listed twice")
        seen.add(msn)
        try:
            credentials = Credentials(
                _text(entry, "client_id", where, env),
                _text(entry, "client_secret", where, env),
                _text(entry, "subscription_key", where, env),
                msn,
            )
        except (TypeError, ValueError) as error:
            if isinstance(error, ConfigError):
                raise
            raise ConfigError(f"{where}: {error}") from None
        merchants.append(Merchant(_environment(entry, where), credentials, _threshold(entry, where)))
    return TeamConfig(
        database,
        tuple(merchants),
        _live(data.get("live", {}), env),
        approval_lifetime=_lifetime(data),
    )


def _seconds(entry: Mapping[str, Any], key: str, default: float) -> float:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 86_400:
        raise ConfigError(f"live: {key} is a number of seconds above 0 (at most a day), not {value!r}")
    return float(value)


def _live(entry: object, env: Mapping[str, str]) -> LiveConfig:
    if not isinstance(entry, dict):
        raise ConfigError("live is not a table")
    defaults = LiveConfig()
    url = entry.get("webhook_url", "")
    if not isinstance(url, str):
        raise ConfigError("live: webhook_url is not text")
    secrets: tuple[str, ...] = ()
    if url:
        secrets = secrets_from_text(_text(entry, "webhook_secret", "live", env))
        if not secrets:
            raise ConfigError("live: webhook_secret (or webhook_secret_env) names no secret")
    return LiveConfig(
        heartbeat_s=_seconds(entry, "heartbeat_s", defaults.heartbeat_s),
        refresh_every_s=_seconds(entry, "refresh_every_s", defaults.refresh_every_s),
        stale_after_s=_seconds(entry, "stale_after_s", defaults.stale_after_s),
        webhook_url=url,
        webhook_secrets=secrets,
    )


def load_config(path: Path | None, env: Mapping[str, str] | None = None) -> TeamConfig:
    env = os.environ if env is None else env
    if path is None:
        named = env.get(CONFIG_ENV)
        if not named:
            raise ConfigError(f"no configuration file: pass --config FILE or set {CONFIG_ENV}")
        path = Path(named)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    return parse_config(data, env)
