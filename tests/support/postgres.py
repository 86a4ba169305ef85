"""A throwaway PostgreSQL cluster for tests: real PostgreSQL from the machine's packages, no mocks.

    cluster = start_cluster()                  # initdb + pg_ctl start on 127.0.0.1, a free port
    conninfo = cluster.new_database()          # an empty database of its own
    conninfo = cluster.new_schema()            # an empty schema of its own (much quicker)
    cluster.stop()                             # pg_ctl stop, and the folder is removed

PostgreSQL refuses to run as root, so when the tests run as root (CI does) the cluster's folder belongs
to the ``postgres`` user (made by Debian's package) and initdb/pg_ctl run through ``runuser``. Trust
authentication is safe here: the server listens on 127.0.0.1 only and its socket folder is private.

Where the binaries are: ``EPAY_PG_BINDIR``, else the newest ``/usr/lib/postgresql/*/bin``, else
``initdb`` on PATH. ``postgres_required()`` says whether a cluster that cannot start must fail the
tests (in CI, or when ``EPAY_TEST_POSTGRES=required``) rather than skip them.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "epay"
START_TIMEOUT_S = 60
_RUN_TIMEOUT_S = 120


class ClusterUnavailableError(RuntimeError):
    """PostgreSQL could not be found or started here; the message says why."""


def postgres_required() -> bool:
    wanted = os.environ.get("EPAY_TEST_POSTGRES", "").lower()
    if wanted == "required":
        return True
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def find_bindir() -> Path | None:
    override = os.environ.get("EPAY_PG_BINDIR")
    if override:
        return Path(override)

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for candidate in installed:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    root: Path
    bindir: Path
    port: int
    run_as: str | None
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _shared: str | None = None

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={dbname} connect_timeout=10"

    def new_database(self, prefix: str = "test") -> str:
        """Create an empty database (from ``template0``); returns its connection string."""
        import psycopg

        name = f"{prefix}_{next(self._names)}"
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        return self.conninfo(name)

    def new_schema(self, prefix: str = "test") -> str:
        """Create an empty schema in a database shared by the run; returns a connection string whose
        ``search_path`` is that schema, so the store's tables land there. Creating a schema takes a
        millisecond where a database takes a few hundred; use ``new_database`` where a test needs a
        database of its own (grants on its ``public`` schema, ...)."""
        import psycopg
        from psycopg.conninfo import make_conninfo

        if self._shared is None:
            self._shared = self.new_database("shared")
        name = f"{prefix}_{next(self._names)}"
        with psycopg.connect(self._shared, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return make_conninfo(self._shared, options=f"-c search_path={name}")

    def start_server(self) -> str:
        """``pg_ctl start`` on 127.0.0.1 at ``port``; returns "" when it runs, else what went wrong."""
        # fsync off: a test cluster is thrown away, and the shared CI machine's disk is slow.
        options = f"-k {self.root} -c listen_addresses=127.0.0.1 -p {self.port}"
        options += " -c fsync=off -c full_page_writes=off"
        data, log = self.root / "data", self.root / "log"
        started = _run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(log),
                "-w",
                "-t",
                str(START_TIMEOUT_S),
                "start",
            ],
            self.run_as,
        )
        if started.returncode == 0:
            return ""
        return (log.read_text(errors="replace") if log.exists() else started.stderr)[-2000:] or "no log"

    def stop_server(self) -> None:
        """``pg_ctl stop`` (fast: open connections are cut), keeping the data for ``start_server``."""
        _run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "-w", "stop"],
            self.run_as,
        )

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            _run(
                [str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"],
                self.run_as,
            )
        shutil.rmtree(self.root, ignore_errors=True)


def _run(command: list[str], run_as: str | None) -> subprocess.CompletedProcess[str]:
    if run_as is not None:
        command = ["runuser", "-u", run_as, "--", *command]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=_RUN_TIMEOUT_S, check=False, stdin=subprocess.DEVNULL
    )


def start_cluster() -> Cluster:
    """initdb a new cluster in a temporary folder and start it on 127.0.0.1 at a free port."""
    bindir = find_bindir()
    if bindir is None:
        raise ClusterUnavailableError(
            "PostgreSQL's server binaries were not found (/usr/lib/postgresql/*/bin, or initdb on PATH); "
            "install Debian's 'postgresql' package, or set EPAY_PG_BINDIR"
        )
    run_as: str | None = None
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError as error:
            raise ClusterUnavailableError(
                "running as root and there is no 'postgres' user to run PostgreSQL as "
                "(Debian's 'postgresql' package creates it)"
            ) from error
        run_as = owner.pw_name
    root = Path(tempfile.mkdtemp(prefix="epay-pg-"))
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    root.chmod(0o700)
    initdb = _run(
        [
            str(bindir / "initdb"),
            "-D",
            str(root / "data"),
            "-A",
            "trust",
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ],
        run_as,
    )
    if initdb.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise ClusterUnavailableError(f"initdb failed: {(initdb.stderr or initdb.stdout).strip()[-2000:]}")
    last_error = ""
    for _attempt in range(3):  # a free port can be taken by someone else before the server binds it
        cluster = Cluster(root=root, bindir=bindir, port=_free_port(), run_as=run_as)
        last_error = cluster.start_server()
        if not last_error:
            return cluster
    shutil.rmtree(root, ignore_errors=True)
    raise ClusterUnavailableError(f"pg_ctl start failed: {last_error.strip()}")
