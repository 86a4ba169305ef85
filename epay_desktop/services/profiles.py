"""Profiles (Demo, Test, Production, a custom base URL, Team) kept as settings.

A profile is plain settings: name, kind, merchant serial number, client id, base URL, and the register
file it keeps. The profiles file that holds them is ``services.profile_store``. The client secret and
the subscription key are never in that file: they live in the OS keyring (``services.secrets``).
"""

from __future__ import annotations

import enum
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from epay_desktop import paths
from epay_desktop.domain import Currency
from epay_desktop.i18n import _

MSN_PATTERN = re.compile(r"^[0-9]{4,10}$")  # ePayment 1.8.1 MSN
DEMO_BASE_URL = "http://sandbox.epay.local"
TEST_BASE_URL = "https://apitest.vipps.no"
PRODUCTION_BASE_URL = "https://api.vipps.no"
# The demo merchants (the sandbox's demo data uses the same): each sales unit takes one currency.
DEMO_MERCHANT_CURRENCIES: dict[str, Currency] = {
    "123456": Currency.NOK,  # Fjordkaffe AS
    "223344": Currency.DKK,  # Hygge Bageri ApS
    "334455": Currency.EUR,  # Sauna Tarvike Oy
}


class ProfileError(ValueError):
    """A profile that cannot be used as given (the message says which field and why)."""


class ProfileKind(enum.StrEnum):
    DEMO = "demo"
    TEST = "test"
    PRODUCTION = "production"
    CUSTOM = "custom"
    # A support desk's shared register behind ``epay-team``: the server holds the merchant's secrets.
    TEAM = "team"


@dataclass(frozen=True, slots=True)
class Profile:
    """One merchant connection. ``currency`` is the currency of the merchant's sales unit (a sales unit
    takes one): for a Demo profile it follows from the demo serial number (123456 NOK, 223344 DKK,
    334455 EUR) whatever is passed; for Test, Production and custom profiles it is stored (NOK when a
    profiles file written before it existed says nothing)."""

    name: str
    kind: ProfileKind
    merchant_serial_number: str
    client_id: str = ""
    base_url: str | None = None
    currency: Currency = Currency.NOK
    # The file name (stem) of the profile's register, fixed when the profile is first saved and kept
    # when it is renamed, so the register and its journal follow the profile. ``None``: from the name
    # (the built-in Demo profile, and profiles saved before this existed, whose files are named so).
    register: str | None = field(default=None, compare=False)
    # The person confirmed that a Custom base URL over plain http:// to another machine is a sandbox
    # (such a connection is not encrypted: secrets and payments cross the network readable).
    unencrypted_sandbox: bool = False
    # Team profiles: the agent name to log in with (``base_url`` is the team server's URL).
    agent: str = ""

    def __post_init__(self) -> None:
        currency: object = self.currency
        if not isinstance(currency, Currency):
            # A plain "DKK" from a form or a file is fine; anything else is not a currency we take.
            if not isinstance(currency, str) or currency.upper() not in Currency.__members__:
                raise ProfileError(
                    _("The currency must be one of {members}, got {currency!r}.").format(
                        members=", ".join(Currency.__members__), currency=currency
                    )
                )
            object.__setattr__(self, "currency", Currency[currency.upper()])
        demo = DEMO_MERCHANT_CURRENCIES.get(self.merchant_serial_number)
        if self.kind is ProfileKind.DEMO and demo is not None:
            object.__setattr__(self, "currency", demo)

    @property
    def is_production(self) -> bool:
        return self.kind is ProfileKind.PRODUCTION

    @property
    def is_demo(self) -> bool:
        return self.kind is ProfileKind.DEMO

    @property
    def is_team(self) -> bool:
        return self.kind is ProfileKind.TEAM

    @property
    def needs_secrets(self) -> bool:
        # A team profile logs in; the team server holds the merchant's secrets, never the desktop.
        return not self.is_demo and not self.is_team

    @property
    def effective_base_url(self) -> str:
        if self.kind is ProfileKind.TEST:
            return TEST_BASE_URL
        if self.kind is ProfileKind.PRODUCTION:
            return PRODUCTION_BASE_URL
        return (self.base_url or DEMO_BASE_URL).rstrip("/")

    @property
    def unencrypted(self) -> bool:
        """A Custom profile over plain http:// to a host other than this computer."""
        if self.kind is not ProfileKind.CUSTOM or not (self.base_url or "").lower().startswith("http://"):
            return False
        try:
            host = (urlsplit(self.base_url or "").hostname or "").lower()
        except ValueError:
            return True
        if host == "localhost":
            return False
        try:
            return not ipaddress.ip_address(host).is_loopback
        except ValueError:
            return True

    @property
    def slug(self) -> str:
        """A file-name-safe form of the name; a short hash keeps two names that clean up alike apart."""
        cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", self.name).strip("._") or "profile"
        if cleaned == self.name:
            return cleaned
        import hashlib  # here, not at the top: the profile is read before the first paint (~3 ms)

        digest = hashlib.sha256(self.name.encode("utf-8")).hexdigest()[:8]
        return f"{cleaned}-{digest}"

    def validate(self) -> None:
        if not self.name.strip():
            raise ProfileError(_("A profile needs a name."))
        if len(self.name) > 80:
            raise ProfileError(_("A profile name can be at most 80 characters."))
        if not MSN_PATTERN.fullmatch(self.merchant_serial_number):
            raise ProfileError(
                _(
                    "The merchant serial number must be 4 to 10 digits, got {merchant_serial_number!r}."
                ).format(merchant_serial_number=self.merchant_serial_number)
            )
        if self.is_demo and self.merchant_serial_number not in DEMO_MERCHANT_CURRENCIES:
            known = ", ".join(f"{m} ({c.value})" for m, c in DEMO_MERCHANT_CURRENCIES.items())
            raise ProfileError(
                _("A Demo profile uses one of the demo serial numbers: {known}.").format(known=known)
            )
        if self.is_team:
            self._validate_team()
            return
        if not self.is_demo and not self.client_id.strip():
            raise ProfileError(_("A Test, Production or custom profile needs a client id."))
        if self.kind is ProfileKind.CUSTOM:
            url = self.base_url or ""
            if not re.match(r"^https?://[^\s/]+", url):
                raise ProfileError(
                    _(
                        "A custom profile needs a base URL starting with http:// or https://, got {url!r}."
                    ).format(url=url)
                )
            from epay_desktop.api.environment import check_base_url

            try:
                check_base_url(url)
            except ValueError as error:
                raise ProfileError(
                    _("A custom profile needs a usable base URL: {reason}.").format(reason=error)
                ) from None
            if self.unencrypted and not self.unencrypted_sandbox:
                raise ProfileError(
                    _(
                        "{url} is plain http:// to another machine: the connection is not encrypted, so "
                        "the secrets and the payments cross the network readable. That is only for a "
                        'sandbox: confirm that it is one ("This is a sandbox"), or use https://.'
                    ).format(url=url)
                )

    def _validate_team(self) -> None:
        if not self.agent.strip():
            raise ProfileError(_("A Team profile needs the agent name you log in with."))
        from epay_desktop.api.team_client import check_team_url

        try:
            check_team_url(self.base_url or "")
        except ValueError as error:
            raise ProfileError(str(error)) from None

    def to_json(self) -> dict[str, Any]:
        confirmed: dict[str, Any] = {"unencryptedSandbox": True} if self.unencrypted_sandbox else {}
        if self.agent:
            confirmed["agent"] = self.agent
        return {
            "name": self.name,
            "kind": self.kind.value,
            "merchantSerialNumber": self.merchant_serial_number,
            "clientId": self.client_id,
            "baseUrl": self.base_url,
            "currency": self.currency.value,
            "register": self.register_stem,
        } | confirmed

    @property
    def register_stem(self) -> str:
        return self.register or self.slug

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Profile:
        try:
            for text in ("name", "kind"):
                if not isinstance(data[text], str):
                    raise TypeError(_("{field} is not text").format(field=text))
            kind = ProfileKind(str(data["kind"]))
            base_url = data.get("baseUrl")
            return cls(
                name=str(data["name"]),
                kind=kind,
                merchant_serial_number=str(data["merchantSerialNumber"]),
                client_id=str(data.get("clientId") or ""),
                base_url=str(base_url) if base_url else None,
                # Files written before profiles had a currency say nothing: NOK, as before.
                currency=data.get("currency") or Currency.NOK,
                register=_register_stem(data.get("register")),
                unencrypted_sandbox=data.get("unencryptedSandbox") is True,
                agent=str(data.get("agent") or ""),
            )
        except RecursionError:
            raise ProfileError(_("A saved profile is nested too deeply to be read.")) from None
        except (KeyError, ValueError, TypeError) as error:
            raise ProfileError(
                _("A saved profile is incomplete or invalid ({error}).").format(error=error)
            ) from error


DEMO_PROFILE = Profile("Demo", ProfileKind.DEMO, "123456", "demo-client", DEMO_BASE_URL)


def _register_stem(value: object) -> str | None:
    """A register stem read from the profiles file, if it is a safe file name (else: from the name)."""
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,120}", value):
        return value
    return None


def register_path(profile: Profile) -> Path:
    """``<data dir>/registers/<stem>.sqlite3``: switching profile switches the register; renaming a
    profile keeps it (the stem is fixed when the profile is first saved)."""
    folder = paths.data_dir() / "registers"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{profile.register_stem}.sqlite3"
