"""``epay webhooks register URL [--events …] | list | delete ID``: the Webhooks API from the command
line, against Test, Production or a sandbox (the same ``--env``/``--base-url`` as every command).

The secret of a new registration is printed once, with where to keep it: ``--profile NAME`` keeps it in
the OS keyring for ``epay-webhooks --profile NAME``; otherwise the receiver reads it from the
``EPAY_WEBHOOK_SECRET`` environment variable.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from epay_desktop.api.webhooks_client import EPAYMENT_EVENTS, WebhooksClient
from epay_desktop.cli.output import Printer
from epay_desktop.i18n import _
from epay_desktop.services.webhook_secrets import ENV_VAR, WebhookSecrets, WebhookSecretsError

if TYPE_CHECKING:
    from epay_desktop.cli.connection import Connection

EXIT_OK = 0


def webhooks_client(connection: Connection) -> WebhooksClient:
    """The Webhooks API over the same environment, credentials and transport as every command."""
    return WebhooksClient(connection.environment, connection.credentials, transport=connection.transport)


def add_webhook_commands(sub: Any) -> None:
    """Add ``webhooks`` and its subcommands to the ``epay`` parser's subcommands."""
    hooks = sub.add_parser("webhooks", help=_("register, list or delete webhooks (Webhooks API)"))
    actions = hooks.add_subparsers(dest="webhooks_command", required=True, metavar="ACTION")
    register = actions.add_parser(
        "register", help=_("register URL for ePayment events; prints the secret once")
    )
    register.add_argument(
        "url", help=_("where the events are POSTed: https://… (a sandbox also takes loopback)")
    )
    register.add_argument(
        "--events",
        nargs="+",
        default=list(EPAYMENT_EVENTS),
        metavar="EVENT",
        help=_("event types (default: all eight ePayment events)"),
    )
    register.add_argument(
        "--profile", help=_("keep the secret in the OS keyring for `epay-webhooks --profile NAME`")
    )
    actions.add_parser("list", help=_("list the registered webhooks"))
    delete = actions.add_parser("delete", help=_("delete a registration"))
    delete.add_argument("id")
    delete.add_argument("--profile", help=_("also forget its secret in this profile's keyring entry"))


def _keep(args: argparse.Namespace, registration_id: str, secret: str) -> str:
    if args.profile:
        try:
            WebhookSecrets(args.profile).put(registration_id, args.url, secret)
        except WebhookSecretsError as exc:
            return _(
                "Could not keep it in the keyring: {reason}\nKeep it yourself now: set {setting}"
            ).format(reason=exc, setting=f"{ENV_VAR}={secret}")
        return _(
            "Kept in the OS keyring for profile {profile}; start the receiver with:\n  {command}"
        ).format(
            profile=repr(args.profile), command=f"epay-webhooks --profile {args.profile!r} --url {args.url}"
        )
    return _(
        "Keep it now, it is not shown again: in a password manager, and where the receiver runs as\n"
        "  {command}\n(or register with --profile NAME to keep it in the OS keyring)."
    ).format(command=f"{ENV_VAR}=<secret> epay-webhooks --url {args.url} --profile NAME")


async def run_webhooks(args: argparse.Namespace, client: WebhooksClient, printer: Printer) -> int:
    async with client:
        if args.webhooks_command == "register":
            made = await client.register(args.url, tuple(args.events))
            where = _keep(args, made.id, made.secret)
            # The secret is shown once, here; everywhere else (logs, errors) it is redacted.
            printer.reveal(
                _(
                    "Registered webhook {id} for {url}\nEvents: {events}\n"
                    "Secret (shown once): {secret}\n{where}"
                ).format(
                    id=made.id, url=args.url, events=", ".join(args.events), secret=made.secret, where=where
                ),
                {"id": made.id, "secret": made.secret, "url": args.url, "events": list(args.events)},
            )
            if printer.as_json:
                printer.note(where)
            if client.environment.kind == "sandbox" and not args.base_url:
                printer.note(
                    _(
                        "Note: the in-process sandbox lives only as long as this command; use --base-url "
                        "with a running epay-sandbox to keep the registration."
                    )
                )
            return EXIT_OK
        if args.webhooks_command == "list":
            items = await client.registrations()
            text = "\n".join(f"{r.id}  {r.url}\n    {', '.join(r.events)}" for r in items)
            printer.result(
                text or _("No webhooks are registered."),
                [{"id": r.id, "url": r.url, "events": list(r.events)} for r in items],
            )
            return EXIT_OK
        await client.delete(args.id)
        said = _("Deleted webhook {id}.").format(id=args.id)
        if args.profile:
            try:
                if WebhookSecrets(args.profile).forget(args.id):
                    said = _(
                        "Deleted webhook {id}. Its secret was removed from profile {profile}'s keyring entry."
                    ).format(id=args.id, profile=repr(args.profile))
            except WebhookSecretsError as exc:
                said = _("Deleted webhook {id}. (The keyring could not be updated: {reason})").format(
                    id=args.id, reason=exc
                )
        printer.result(said, {"deleted": args.id})
        return EXIT_OK
