"""``epay-team``: run the team service, or prepare its database.

epay-team serve --config team.toml [--host 127.0.0.1] [--port 8470] [--migrate]
epay-team migrate --config team.toml          # as the schema's owner
epay-team create-admin NAME --config team.toml   # the first admin; password from EPAY_TEAM_PASSWORD
                                                 # or asked twice on the terminal
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path

from epay_desktop import __version__
from epay_desktop.services.accounts import Role, TeamAccounts
from epay_desktop.store import RegisterError
from epay_desktop.store.postgres import PgStore
from epay_desktop.team.app import create_app
from epay_desktop.team.config import ConfigError, TeamConfig, load_config
from epay_desktop.team.serving import TeamServer

PASSWORD_ENV = "EPAY_TEAM_PASSWORD"
DEFAULT_PORT = 8470


def _password() -> str:
    given = os.environ.get(PASSWORD_ENV)
    if given:
        return given
    first = getpass.getpass("Password for the new admin: ")
    if getpass.getpass("The same again: ") != first:
        raise ValueError("The two passwords differ; nothing was created.")
    return first


async def _create_admin(config: TeamConfig, name: str, password: str) -> str:
    store = await asyncio.to_thread(PgStore, config.database)
    try:
        accounts = TeamAccounts(store)
        if await accounts.has_agents():
            return "There are agents already: an admin adds the others through the service."
        await accounts.add_agent(name, password, Role.ADMIN, by="epay-team create-admin")
        return ""
    finally:
        await asyncio.to_thread(store.close)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="epay-team", description="The team service of epay-desktop.")
    parser.add_argument("--version", action="version", version=f"epay-team {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the service under uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--migrate", action="store_true", help="bring the schema up to date on start")
    migrate = commands.add_parser("migrate", help="bring the database's schema up to date")
    admin = commands.add_parser("create-admin", help="create the first admin account")
    admin.add_argument("name")
    for command in (serve, migrate, admin):
        command.add_argument("--config", type=Path, help="the TOML configuration (or EPAY_TEAM_CONFIG)")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        if args.command == "serve":
            app = create_app(config, migrate=args.migrate)
            TeamServer(app, host=args.host, port=args.port, log_level="info").run()
        elif args.command == "migrate":
            PgStore(config.database).close()
            print("The database's schema is up to date.")
        else:
            problem = asyncio.run(_create_admin(config, args.name, _password()))
            if problem:
                print(problem, file=sys.stderr)
                return 1
            print(f"Admin {args.name} created.")
    except (ConfigError, RegisterError, ValueError) as error:
        print(f"epay-team: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
