"""Where the client talks to (Test, Production, a sandbox) and with which credentials."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from epay_desktop.i18n import N_, _, translate

EnvironmentKind = Literal["test", "production", "sandbox"]

TEST_BASE_URL = "https://apitest.vipps.no"
PRODUCTION_BASE_URL = "https://api.vipps.no"
SANDBOX_BASE_URL = "http://sandbox.epay.local"

MSN_PATTERN = re.compile(r"^[0-9]{4,10}$")  # ePayment 1.8.1 MSN
# The credentials' fields as a person names them.
_FIELDS = {
    "client_id": N_("client id"),
    "client_secret": N_("client secret"),
    "subscription_key": N_("subscription key"),
}


def check_base_url(url: str) -> None:
    """Raise ``ValueError`` saying what is wrong with ``url`` as an API base URL (scheme, host, port)."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(
            _("the base URL must start with http:// or https://, got {url}").format(url=repr(url))
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:  # "http://[::1" (an unclosed IPv6 address), a port that is no number
        raise ValueError(
            _("the base URL {url} is not a valid URL ({reason})").format(url=repr(url), reason=error)
        ) from None
    if not parts.hostname:
        raise ValueError(_("the base URL {url} has no host name").format(url=repr(url)))
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(
            _("the base URL {url} has port {port}; a port is a number from 1 to 65535").format(
                url=repr(url), port=port
            )
        )


@dataclass(frozen=True, slots=True)
class Environment:
    """An API environment. Use ``Environment.TEST``, ``Environment.PRODUCTION`` or
    ``Environment.sandbox(base_url)`` (in-process through a transport, or any URL such as a sandbox
    on a training-room machine)."""

    kind: EnvironmentKind
    base_url: str

    TEST: ClassVar[Environment]
    PRODUCTION: ClassVar[Environment]

    def __post_init__(self) -> None:
        if self.kind not in ("test", "production", "sandbox"):
            raise ValueError(f"unknown environment kind {self.kind!r}")
        check_base_url(self.base_url)
        if self.kind != "sandbox" and not self.base_url.startswith("https://"):
            raise ValueError(_("the Test and Production environments are only reached over https://"))

    @classmethod
    def sandbox(cls, base_url: str = SANDBOX_BASE_URL) -> Environment:
        return cls("sandbox", base_url.rstrip("/"))

    @property
    def is_production(self) -> bool:
        return self.kind == "production"

    @property
    def allows_force_approve(self) -> bool:
        """Force approve exists only in the test environment (and our sandbox)."""
        return self.kind in ("test", "sandbox")

    @property
    def label(self) -> str:
        return {"test": "Test", "production": "Production", "sandbox": "Sandbox"}[self.kind]


Environment.TEST = Environment("test", TEST_BASE_URL)
Environment.PRODUCTION = Environment("production", PRODUCTION_BASE_URL)


def _hidden(text: str) -> str:
    return "''" if not text else "'***'"


@dataclass(frozen=True, slots=True)
class Credentials:
    """The four things every call needs. ``repr`` never shows the secret or the subscription key."""

    client_id: str
    client_secret: str = field(repr=False)
    subscription_key: str = field(repr=False)
    merchant_serial_number: str

    def __post_init__(self) -> None:
        # Pasted values often bring a line break or spaces along; a header cannot carry them, and the
        # transport's complaint would quote the value (finding 3). Strip them; refuse what is left that
        # no header can carry, naming the field but never the value.
        for name in ("client_id", "client_secret", "subscription_key"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise TypeError(f"the {name.replace('_', ' ')} must be text")
            stripped = value.strip()
            if stripped != value:
                object.__setattr__(self, name, stripped)
            bad = next((i for i, char in enumerate(stripped) if not " " <= char <= "~"), None)
            if bad is not None:
                raise ValueError(
                    _(
                        "the {field} has a line break, control or non-ASCII character (character "
                        "{position} of {length}); copy it again from the merchant portal"
                    ).format(field=translate(_FIELDS[name]), position=bad + 1, length=len(stripped))
                )
        if not MSN_PATTERN.fullmatch(self.merchant_serial_number):
            raise ValueError(
                _("a merchant serial number is 4 to 10 digits, got {msn}").format(
                    msn=repr(self.merchant_serial_number)
                )
            )

    def __repr__(self) -> str:
        return (
            f"Credentials(client_id={self.client_id!r}, client_secret={_hidden(self.client_secret)}, "
            f"subscription_key={_hidden(self.subscription_key)}, "
            f"merchant_serial_number={self.merchant_serial_number!r})"
        )

    __str__ = __repr__

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.client_secret, self.subscription_key)
