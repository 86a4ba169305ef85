"""``epay-webhooks``: receive a shop's webhooks into a profile's register, under uvicorn.

epay-webhooks --url https://shop.example/hooks/vipps (--profile NAME | --register FILE)
              [--host 127.0.0.1] [--port 8790] [--ssl-certfile F --ssl-keyfile F]

``--url`` is the URL exactly as registered (``epay webhooks register``): its host and path are checked
on every delivery and are part of the signature. The secrets come from ``EPAY_WEBHOOK_SECRET`` when it
is set, else from the keyring entries ``epay webhooks register`` made for the profile and that URL.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from epay_desktop import __version__
from epay_desktop.api import install_redaction
from epay_desktop.api.webhooks import WebhookEndpoint
from epay_desktop.services.profile_store import ProfileStore, ProfileStoreError
from epay_desktop.services.profiles import register_path
from epay_desktop.services.webhook_inbox import WebhookInbox
from epay_desktop.services.webhook_secrets import ENV_VAR, WebhookSecretsError, env_secrets, secrets_for
from epay_desktop.store import RegisterError
from epay_desktop.webhooks.receiver import create_receiver
from epay_desktop.webhooks.serving import address, bind, build_server


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="epay-webhooks", description="Receive Vipps MobilePay ePayment webhooks into a register."
    )
    parser.add_argument("--version", action="version", version=f"epay-webhooks {__version__}")
    parser.add_argument("--url", required=True, help="the webhook URL exactly as registered")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--profile", help="the epay-desktop profile whose register to feed")
    where.add_argument("--register", type=Path, help="the register file to feed")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback)")
    parser.add_argument("--port", type=int, default=8790, help="port (0 = any free port; default 8790)")
    parser.add_argument(
        "--ssl-certfile", help="serve HTTPS with this certificate (else put a proxy in front)"
    )
    parser.add_argument("--ssl-keyfile", help="the certificate's key")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    install_redaction()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    profile_name = args.profile or ""
    try:
        register = register_path(ProfileStore().get(args.profile)) if args.profile else args.register
        secrets = secrets_for(profile_name, args.url) if profile_name else env_secrets()
    except (ProfileStoreError, KeyError, ValueError, WebhookSecretsError) as exc:
        print(f"epay-webhooks: {exc}", file=sys.stderr)
        return 2
    if not secrets:
        print(
            f"epay-webhooks: no secret for {args.url}: set {ENV_VAR}, or register the webhook with "
            "`epay webhooks register URL` (it keeps the secret in the keyring).",
            file=sys.stderr,
        )
        return 2
    try:
        endpoint = WebhookEndpoint(args.url, secrets)
        inbox = WebhookInbox.open(register)
    except (ValueError, RegisterError) as exc:
        print(f"epay-webhooks: {exc}", file=sys.stderr)
        return 2
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        print(f"epay-webhooks: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        inbox.close()
        return 2
    app = create_receiver(endpoint, inbox)
    print(
        f"epay-webhooks: receiving {args.url} at {address(sock)} into {register} "
        f"({len(secrets)} secret(s); health: /health; Ctrl+C stops)"
    )
    sys.stdout.flush()
    server = build_server(app, log_level="info", ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        inbox.close()
    print("epay-webhooks stopped.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
