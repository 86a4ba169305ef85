"""``epay-sandbox``: the ePayment sandbox under uvicorn, on loopback by default.

epay-sandbox [--host 127.0.0.1] [--port 8787] [--data demo|empty] [--state FILE]
             [--token-lifetime 3600] [--no-rate-limits] [--seed 0] [--late-capture MSN ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from epay_desktop import __version__
from epay_desktop.sandbox.app import SandboxConfig, create_app
from epay_desktop.sandbox.persistence import StateFileError
from epay_desktop.sandbox.server import base_url, bind, build_server


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="epay-sandbox", description="A local, stateful ePayment API sandbox."
    )
    parser.add_argument("--version", action="version", version=f"epay-sandbox {__version__}")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=8787, help="port (0 = any free port; default 8787)")
    parser.add_argument("--data", choices=("demo", "empty"), default="demo", help="data set to start with")
    parser.add_argument("--state", type=Path, default=None, help="keep state in this SQLite file")
    parser.add_argument("--token-lifetime", type=int, default=3600, help="access token lifetime, seconds")
    parser.add_argument("--no-rate-limits", action="store_true", help="turn off the 429 rate limits")
    parser.add_argument("--seed", type=int, default=0, help="seed for demo data and ids")
    parser.add_argument(
        "--late-capture",
        action="append",
        default=[],
        metavar="MSN",
        help="this sales unit has late capture (Danish/Finnish capture deadline 180 days, not 14)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = SandboxConfig(
        data=args.data,
        token_lifetime=args.token_lifetime,
        rate_limits=not args.no_rate_limits,
        state_file=args.state,
        seed=args.seed,
        late_capture=frozenset(args.late_capture),
    )
    try:
        app = create_app(config)
    except StateFileError as exc:
        print(f"epay-sandbox: {exc}", file=sys.stderr)
        return 2
    try:
        sock = bind(args.host, args.port)
    except (OSError, OverflowError) as exc:
        print(f"epay-sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    url = base_url(sock)
    print(f"ePayment sandbox running at {url}  (controls: {url}/sandbox/v1/openapi.json; Ctrl+C stops)")
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        print("warning: listening beyond loopback; anyone who can reach it can use it", file=sys.stderr)
    sys.stdout.flush()
    server = build_server(app, log_level="info")
    try:
        # uvicorn catches SIGINT/SIGTERM, finishes open requests, shuts down, then re-raises the signal.
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    print("ePayment sandbox stopped.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
