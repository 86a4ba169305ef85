"""``epay``: the ePayment client on the command line, for support desks and scripts.

    epay [--env sandbox|test|production] [--base-url URL] [--msn N] [--json] COMMAND ...

By default it talks to the built-in sandbox in-process (demo data, kept between runs in the app's data
folder). Credentials for Test and Production come from EPAY_CLIENT_ID, EPAY_CLIENT_SECRET,
EPAY_SUBSCRIPTION_KEY and EPAY_MSN (the window's profiles keep theirs in the OS keyring; the command
line reads the environment so scripts need no keyring).

Exit codes: 0 ok · 1 refused (by the API, or not confirmed) · 2 usage · 3 outcome unknown ·
4 network or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

import httpx

from epay_desktop import __version__
from epay_desktop.api import (
    CUSTOMER_ACTIONS,
    Credentials,
    Environment,
    EPaymentClient,
    EPaymentError,
    InvalidInputError,
    MalformedResponseError,
    NetworkError,
    NotAllowedError,
    OutcomeUnknownError,
    SandboxControls,
)
from epay_desktop.api.client import USER_FLOWS
from epay_desktop.api.webhooks_client import WebhooksClient
from epay_desktop.cli.output import ConfigError, Printer
from epay_desktop.cli.webhooks import add_webhook_commands, run_webhooks
from epay_desktop.domain import REFERENCE_PATTERN, Currency, Money, MoneyError

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNKNOWN, EXIT_NETWORK = 0, 1, 2, 3, 4
SANDBOX_MSN = "123456"
DEMO_CURRENCY = {"123456": Currency.NOK, "223344": Currency.DKK, "334455": Currency.EUR}
ENV_VARS = ("EPAY_CLIENT_ID", "EPAY_CLIENT_SECRET", "EPAY_SUBSCRIPTION_KEY", "EPAY_MSN")


def _reference(text: str) -> str:
    if not REFERENCE_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a payment reference (8 to 64 letters, digits or dashes)"
        )
    return text


def _amount(text: str) -> str:
    """The amount as typed, once it reads as money in some currency (usage error otherwise, before any
    call). The command reads it with :meth:`Money.parse` again once the payment's currency is known."""
    problems = []
    for currency in Currency:
        try:
            Money.parse(text, currency)
        except MoneyError as error:
            problems.append(str(error))
        else:
            return text
    raise argparse.ArgumentTypeError(problems[0])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="epay",
        description="Look at and move Vipps MobilePay ePayment payments. Talks to the built-in sandbox "
        "unless --env says otherwise.",
        epilog="Exit codes: 0 ok, 1 refused, 2 usage, 3 outcome unknown (check the event log), "
        "4 network or configuration.",
    )
    parser.add_argument("--version", action="version", version=f"epay {__version__}")
    parser.add_argument("--env", choices=("sandbox", "test", "production"), default="sandbox")
    parser.add_argument("--base-url", help="a sandbox elsewhere, e.g. http://127.0.0.1:8787 (sandbox only)")
    parser.add_argument("--msn", help="merchant serial number (default: EPAY_MSN, or 123456 in the sandbox)")
    parser.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("token", help="test the connection: fetch an access token")
    get = sub.add_parser("get", help="show a payment and what can still be done with it")
    get.add_argument("reference", type=_reference)
    events = sub.add_parser("events", help="show a payment's event log")
    events.add_argument("reference", type=_reference)

    cancel = sub.add_parser("cancel", help="cancel (release what is not captured); asks first")
    cancel.add_argument("reference", type=_reference)
    cancel.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    cancel.add_argument("--transaction-only", action="store_true", help="only if not yet approved")
    cancel.add_argument(
        "--key",
        help="idempotency key (repeat a call whose outcome was unknown or that must be retried)",
    )
    for name, text in (("capture", "capture AMOUNT (e.g. 12.50)"), ("refund", "refund AMOUNT (e.g. 12.50)")):
        command = sub.add_parser(name, help=text)
        command.add_argument("reference", type=_reference)
        command.add_argument("amount", type=_amount, help="in kroner/euro, e.g. 12.50 or 12,50")
        command.add_argument(
            "--key",
            help="idempotency key (repeat a call whose outcome was unknown or that must be retried)",
        )

    create = sub.add_parser("create", help="create a payment")
    create.add_argument("amount", type=_amount, help="in kroner/euro, e.g. 12.50 or 12,50")
    create.add_argument("--description", "-d", required=True)
    create.add_argument("--reference", type=_reference, help="default: a new epay-… reference")
    create.add_argument("--currency", choices=[c.value for c in Currency])
    create.add_argument("--phone", help="customer's phone number, e.g. 4791234567")
    create.add_argument("--flow", choices=USER_FLOWS, default=None, help="default: PUSH_MESSAGE with --phone")
    create.add_argument("--return-url")
    create.add_argument("--key", help="idempotency key")

    approve = sub.add_parser("approve", help="approve as the customer would (Test and sandbox only)")
    approve.add_argument("reference", type=_reference)
    approve.add_argument("--phone")

    listing = sub.add_parser("list", help="list the sandbox's payments (sandbox only)")
    listing.add_argument("--limit", type=int, default=50)
    customer = sub.add_parser("customer", help="play the customer's part (sandbox only)")
    customer.add_argument("reference", type=_reference)
    customer.add_argument("action", choices=CUSTOMER_ACTIONS)
    add_webhook_commands(sub)
    return parser


@dataclass
class Connection:
    environment: Environment
    credentials: Credentials
    transport: httpx.AsyncBaseTransport | None

    def client(self) -> EPaymentClient:
        return EPaymentClient(self.environment, self.credentials, transport=self.transport)

    def webhooks(self) -> WebhooksClient:
        return WebhooksClient(self.environment, self.credentials, transport=self.transport)

    def controls(self) -> SandboxControls:
        if self.environment.kind != "sandbox":
            raise NotAllowedError("This command works only with the sandbox (--env sandbox).")
        return SandboxControls(self.environment.base_url, transport=self.transport)


def _in_process_sandbox() -> httpx.AsyncBaseTransport:
    """The one place the command line builds the sandbox (a composition root, like app.py)."""
    from epay_desktop.paths import data_dir
    from epay_desktop.sandbox import SandboxConfig, create_app

    config = SandboxConfig(data="demo", state_file=data_dir() / "cli-sandbox.sqlite", rate_limits=False)
    return httpx.ASGITransport(app=create_app(config))


def connect(args: argparse.Namespace, environ: dict[str, str] | os._Environ[str]) -> Connection:
    if args.env == "sandbox":
        msn = args.msn or SANDBOX_MSN
        credentials = Credentials("demo-client", "demo-secret", "demo-subscription-key", msn)
        if args.base_url:
            return Connection(Environment.sandbox(args.base_url), credentials, None)
        return Connection(Environment.sandbox(), credentials, _in_process_sandbox())
    if args.base_url:
        raise ConfigError("--base-url is for a sandbox; Test and Production have fixed addresses.")
    values = {name: environ.get(name, "").strip() for name in ENV_VARS}
    if args.msn:
        values["EPAY_MSN"] = args.msn
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ConfigError(
            f"the {args.env} environment needs credentials: set {', '.join(missing)} "
            "(and EPAY_MSN or --msn for the merchant serial number)."
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


def exit_code_for(error: BaseException) -> int:
    if isinstance(error, OutcomeUnknownError):
        return EXIT_UNKNOWN
    if isinstance(error, InvalidInputError):
        return EXIT_USAGE
    if isinstance(error, NetworkError | MalformedResponseError | ConfigError):
        return EXIT_NETWORK
    return EXIT_REFUSED


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None) -> int:
    from epay_desktop.cli.commands import run

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse's own usage errors and --help
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    printer = Printer(as_json=args.json)
    try:
        connection = connect(args, os.environ)
        if args.command == "webhooks":
            return asyncio.run(run_webhooks(args, connection.webhooks(), printer))
        return asyncio.run(run(args, connection, printer, stdin or sys.stdin))
    except (EPaymentError, ConfigError) as error:
        printer.error(error)
        return exit_code_for(error)
    except ValueError as error:  # e.g. a base URL that is not a URL
        printer.error(str(error))
        return EXIT_USAGE
    except KeyboardInterrupt:
        printer.error("interrupted")
        return 130
