"""How ``epay`` connects: the environment and credentials its options and environment variables
select, and the one place it builds the in-process sandbox (a composition root, like ``app``)."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

import httpx

from epay_desktop.api import Credentials, Environment, EPaymentClient, NotAllowedError, SandboxControls
from epay_desktop.cli.output import ConfigError
from epay_desktop.domain import Currency
from epay_desktop.i18n import _

SANDBOX_MSN = "123456"
DEMO_CURRENCY = {"123456": Currency.NOK, "223344": Currency.DKK, "334455": Currency.EUR}
ENV_VARS = ("EPAY_CLIENT_ID", "EPAY_CLIENT_SECRET", "EPAY_SUBSCRIPTION_KEY", "EPAY_MSN")


@dataclass
class Connection:
    environment: Environment
    credentials: Credentials
    transport: httpx.AsyncBaseTransport | None

    def client(self) -> EPaymentClient:
        return EPaymentClient(self.environment, self.credentials, transport=self.transport)

    def controls(self) -> SandboxControls:
        if self.environment.kind != "sandbox":
            raise NotAllowedError(_("This command works only with the sandbox (--env sandbox)."))
        return SandboxControls(self.environment.base_url, transport=self.transport)


def in_process_sandbox() -> httpx.AsyncBaseTransport:
    """The one place the command line builds the sandbox (a composition root, like app.py)."""
    from epay_desktop.paths import data_dir
    from epay_desktop.sandbox import SandboxConfig, create_app
    from epay_desktop.sandbox.persistence import StateFileError

    config = SandboxConfig(data="demo", state_file=data_dir() / "cli-sandbox.sqlite", rate_limits=False)
    try:
        return httpx.ASGITransport(app=create_app(config))
    except StateFileError as error:
        raise ConfigError(_("the built-in sandbox cannot start: {reason}").format(reason=error)) from None


def connect(args: argparse.Namespace, environ: dict[str, str] | os._Environ[str]) -> Connection:
    if args.env == "sandbox":
        msn = args.msn or SANDBOX_MSN
        credentials = Credentials("demo-client", "demo-secret", "demo-subscription-key", msn)
        if args.base_url:
            return Connection(Environment.sandbox(args.base_url), credentials, None)
        return Connection(Environment.sandbox(), credentials, in_process_sandbox())
    if args.base_url:
        raise ConfigError(_("--base-url is for a sandbox; Test and Production have fixed addresses."))
    values = {name: environ.get(name, "").strip() for name in ENV_VARS}
    if args.msn:
        values["EPAY_MSN"] = args.msn
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ConfigError(
            _(
                "the {env} environment needs credentials: set {missing} (and EPAY_MSN or --msn for the "
                "merchant serial number)."
            ).format(env=args.env, missing=", ".join(missing))
        )
    try:
        credentials = Credentials(
            values["EPAY_CLIENT_ID"],
            values["EPAY_CLIENT_SECRET"],
            values["EPAY_SUBSCRIPTION_KEY"],
            values["EPAY_MSN"],
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    environment = Environment.TEST if args.env == "test" else Environment.PRODUCTION
    return Connection(environment, credentials, None)
