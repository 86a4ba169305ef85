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
from typing import TextIO

from epay_desktop import __version__
from epay_desktop.api import CUSTOMER_ACTIONS, EPaymentError, register_secret
from epay_desktop.api.client import USER_FLOWS
from epay_desktop.api.environment import check_base_url
from epay_desktop.cli.connection import connect
from epay_desktop.cli.output import (
    EXIT_REFUSED,
    EXIT_UNKNOWN,
    EXIT_USAGE,
    ConfigError,
    Printer,
    exit_code_for,
)
from epay_desktop.cli.webhooks import add_webhook_commands, run_webhooks, webhooks_client
from epay_desktop.domain import REFERENCE_PATTERN, Currency, Money, MoneyError
from epay_desktop.i18n import _, requested_in, set_language, system_languages
from epay_desktop.paths import resource
from epay_desktop.services import RegisterError

MONEY_COMMANDS = ("cancel", "capture", "refund", "create")


def _reference(text: str) -> str:
    if not REFERENCE_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            _("{text!r} is not a payment reference (8 to 64 letters, digits or dashes)").format(text=text)
        )
    return text


def _base_url(text: str) -> str:
    try:
        check_base_url(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
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
        description=_(
            "Look at and move Vipps MobilePay ePayment payments. Talks to the built-in sandbox unless "
            "--env says otherwise."
        ),
        epilog=_(
            "Exit codes: 0 ok, 1 refused, 2 usage, 3 outcome unknown (check the event log), 4 network or "
            "configuration."
        ),
    )
    parser.add_argument("--version", action="version", version=f"epay {__version__}")
    parser.add_argument("--env", choices=("sandbox", "test", "production"), default="sandbox")
    parser.add_argument(
        "--base-url",
        type=_base_url,
        help=_("a sandbox elsewhere, e.g. http://127.0.0.1:8787 (sandbox only)"),
    )
    parser.add_argument(
        "--msn", help=_("merchant serial number (default: EPAY_MSN, or 123456 in the sandbox)")
    )
    parser.add_argument("--json", action="store_true", help=_("machine-readable output on stdout"))
    parser.add_argument(
        "--lang",
        metavar=_("CODE"),
        help=_("language of the output for people: en, nb, da, fi (default: the system's)"),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("token", help=_("test the connection: fetch an access token"))
    get = sub.add_parser("get", help=_("show a payment and what can still be done with it"))
    get.add_argument("reference", type=_reference)
    events = sub.add_parser("events", help=_("show a payment's event log"))
    events.add_argument("reference", type=_reference)

    cancel = sub.add_parser("cancel", help=_("cancel (release what is not captured); asks first"))
    cancel.add_argument("reference", type=_reference)
    cancel.add_argument("--yes", action="store_true", help=_("do not ask for confirmation"))
    cancel.add_argument("--transaction-only", action="store_true", help=_("only if not yet approved"))
    moves = [cancel]
    for name, text in (("capture", "capture AMOUNT (e.g. 12.50)"), ("refund", "refund AMOUNT (e.g. 12.50)")):
        command = sub.add_parser(name, help=text)
        command.add_argument("reference", type=_reference)
        command.add_argument("amount", type=_amount, help=_("in kroner/euro, e.g. 12.50 or 12,50"))
        command.add_argument(
            "--again",
            action="store_true",
            help=_("send it even though the same operation of the same amount succeeded minutes ago"),
        )
        moves.append(command)
    for command in moves:
        command.add_argument(
            "--key",
            help=_("idempotency key (repeat a call whose outcome was unknown or that must be retried)"),
        )
        command.add_argument(
            "--resend",
            action="store_true",
            help=_(
                "send an unfinished operation again with its key even if it may have reached the server "
                "more than 24 hours ago (its event log is read first)"
            ),
        )

    create = sub.add_parser("create", help=_("create a payment"))
    create.add_argument("amount", type=_amount, help=_("in kroner/euro, e.g. 12.50 or 12,50"))
    create.add_argument("--description", "-d", required=True)
    create.add_argument("--reference", type=_reference, help=_("default: a new epay-… reference"))
    create.add_argument("--currency", choices=[c.value for c in Currency])
    create.add_argument("--phone", help=_("customer's phone number, e.g. 4791234567"))
    create.add_argument(
        "--flow", choices=USER_FLOWS, default=None, help=_("default: PUSH_MESSAGE with --phone")
    )
    create.add_argument("--return-url")
    create.add_argument("--key", help=_("idempotency key"))

    approve = sub.add_parser("approve", help=_("approve as the customer would (Test and sandbox only)"))
    approve.add_argument("reference", type=_reference)
    approve.add_argument("--phone")

    listing = sub.add_parser("list", help=_("list the sandbox's payments (sandbox only)"))
    listing.add_argument("--limit", type=int, default=50)
    customer = sub.add_parser("customer", help=_("play the customer's part (sandbox only)"))
    customer.add_argument("reference", type=_reference)
    customer.add_argument("action", choices=CUSTOMER_ACTIONS)
    add_webhook_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None) -> int:
    from epay_desktop.cli.commands import run

    # The language comes first: the help and every message below are in it.
    set_language(
        requested_in(sys.argv[1:] if argv is None else argv),
        resource("translations"),
        system_languages(),
    )
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse's own usage errors and --help
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    printer = Printer(as_json=args.json)
    try:
        connection = connect(args, os.environ)
        for secret in connection.credentials.secrets:
            register_secret(secret)  # before anything can print: a server may echo them back
        if args.command == "webhooks":
            return asyncio.run(run_webhooks(args, webhooks_client(connection), printer))
        return asyncio.run(run(args, connection, printer, stdin or sys.stdin))
    except (EPaymentError, ConfigError) as error:
        printer.error(error)
        return exit_code_for(error)
    except ValueError as error:  # e.g. a base URL that is not a URL
        printer.error(str(error))
        return EXIT_USAGE
    except KeyboardInterrupt:
        printer.error(_("interrupted"))
        return 130
    except RegisterError as error:  # the journal failed while a money-moving call was under way
        printer.error(
            _("{reason} Check the payment with: {command}").format(
                reason=error, command=f"epay events {getattr(args, 'reference', '')}".rstrip()
            )
        )
        return EXIT_UNKNOWN
    except Exception as error:  # a bug: said in one line (redacted), never a traceback with secrets
        printer.error(
            _("unexpected {kind}: {reason}. This is a bug; please report it.").format(
                kind=type(error).__name__, reason=error
            )
        )
        if args.command in MONEY_COMMANDS:
            printer.note(
                _("Check what happened with: {command}").format(
                    command=f"epay events {getattr(args, 'reference', '')}".rstrip()
                )
            )
            return EXIT_UNKNOWN
        return EXIT_REFUSED
