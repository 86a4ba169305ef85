"""Team mode's agents in PostgreSQL: accounts (a password hash and a role), sessions (the hash of
their token) and login attempts. Hashing and the rules (who may do what, how many attempts) are the
services' (``services/accounts.py``); this module only keeps the records, so every instance of the team
service sees the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from epay_desktop.store.postgres.database import Connection, PgDatabase

__all__ = ["AgentExistsError", "AgentRecord", "PgAccounts"]

_AGENT_COLUMNS = "name, password_hash, role, disabled"


class AgentExistsError(ValueError):
    """An account of that name exists already."""


@dataclass(frozen=True, slots=True)
class AgentRecord:
    name: str
    password_hash: str
    role: str
    disabled: bool

    def __repr__(self) -> str:
        return f"AgentRecord(name={self.name!r}, role={self.role!r}, disabled={self.disabled})"


def _agent(row: tuple[Any, ...]) -> AgentRecord:
    return AgentRecord(str(row[0]), str(row[1]), str(row[2]), bool(row[3]))


class PgAccounts:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    def add(self, name: str, password_hash: str, role: str) -> AgentRecord:
        def work(conn: Connection) -> AgentRecord:
            try:
                with conn.transaction():
                    row = conn.execute(
                        f"INSERT INTO agents (name, password_hash, role) VALUES (%s, %s, %s) "
                        f"RETURNING {_AGENT_COLUMNS}",
                        (name, password_hash, role),
                    ).fetchone()
            except psycopg.errors.UniqueViolation:
                raise AgentExistsError(f"An agent called {name!r} exists already.") from None
            assert row is not None  # INSERT ... RETURNING gives the row it inserted
            return _agent(row)

        return self.db.write("adding an agent", work)

    def get(self, name: str) -> AgentRecord | None:
        row = self.db.read(
            "reading the agents",
            lambda c: c.execute(f"SELECT {_AGENT_COLUMNS} FROM agents WHERE name = %s", (name,)).fetchone(),
        )
        return _agent(row) if row else None

    def all(self) -> list[AgentRecord]:
        rows = self.db.read(
            "reading the agents",
            lambda c: c.execute(f"SELECT {_AGENT_COLUMNS} FROM agents ORDER BY name").fetchall(),
        )
        return [_agent(r) for r in rows]

    def count(self) -> int:
        row = self.db.read(
            "reading the agents", lambda c: c.execute("SELECT count(*) FROM agents").fetchone()
        )
        return int(row[0]) if row else 0

    def set_password_hash(self, name: str, password_hash: str) -> None:
        self.db.write(
            "changing a password",
            lambda c: c.execute(
                "UPDATE agents SET password_hash = %s WHERE name = %s", (password_hash, name)
            ),
        )

    def change(
        self,
        name: str,
        *,
        role: str | None = None,
        disabled: bool | None = None,
        password_hash: str | None = None,
    ) -> AgentRecord | None:
        """Change an account (what is given); ``None`` when there is no such account. Disabling it or
        setting a new password closes its open sessions in the same transaction (a role is read on every
        call, so a new one holds at once without that)."""

        def work(conn: Connection) -> AgentRecord | None:
            with conn.transaction():
                row = conn.execute(
                    "UPDATE agents SET role = coalesce(%s, role), disabled = coalesce(%s, disabled), "
                    f"password_hash = coalesce(%s, password_hash) WHERE name = %s RETURNING {_AGENT_COLUMNS}",
                    (role, disabled, password_hash, name),
                ).fetchone()
                if row is not None and (disabled or password_hash is not None):
                    conn.execute(
                        "UPDATE agent_sessions SET revoked_at = clock_timestamp() "
                        "WHERE agent = %s AND revoked_at IS NULL",
                        (name,),
                    )
            return _agent(row) if row else None

        return self.db.write("changing an agent", work)

    def enabled_admins(self) -> list[str]:
        rows = self.db.read(
            "reading the agents",
            lambda c: c.execute(
                "SELECT name FROM agents WHERE role = 'admin' AND NOT disabled ORDER BY name"
            ).fetchall(),
        )
        return [str(r[0]) for r in rows]

    # --- login attempts ------------------------------------------------------------------------------

    def reserve_attempt(self, name: str, *, window: timedelta, limit: int) -> int | None:
        """Count an attempt to log in as ``name`` as failed until ``attempt_succeeded`` says otherwise;
        ``None`` (nothing counted) when ``limit`` attempts failed in the last ``window``. The count and
        the reservation hold one lock per name, so instances together let no more than ``limit`` through.
        """

        def work(conn: Connection) -> int | None:
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 16))", (name,))
            row = conn.execute(
                "SELECT count(*) FROM login_attempts WHERE agent = %s AND NOT succeeded "
                "AND at > clock_timestamp() - %s",
                (name, window),
            ).fetchone()
            if row is not None and int(row[0]) >= limit:
                return None
            added = conn.execute(
                "INSERT INTO login_attempts (agent) VALUES (%s) RETURNING id", (name,)
            ).fetchone()
            assert added is not None  # INSERT ... RETURNING gives the row it inserted
            return int(added[0])

        return self.db.write("counting login attempts", work)

    def attempt_succeeded(self, attempt_id: int) -> None:
        self.db.write(
            "counting login attempts",
            lambda c: c.execute("UPDATE login_attempts SET succeeded = true WHERE id = %s", (attempt_id,)),
        )

    # --- sessions ------------------------------------------------------------------------------------

    def add_session(self, token_hash: str, agent: str, expires_at: datetime) -> None:
        self.db.write(
            "opening a session",
            lambda c: c.execute(
                "INSERT INTO agent_sessions (token_hash, agent, expires_at) VALUES (%s, %s, %s)",
                (token_hash, agent, expires_at),
            ),
        )

    def session_agent(self, token_hash: str) -> AgentRecord | None:
        """The agent of a session that is open (not expired by the database's clock, not revoked) and
        whose account is not disabled; else ``None``."""
        row = self.db.read(
            "checking a session",
            lambda c: c.execute(
                "SELECT a.name, a.password_hash, a.role, a.disabled FROM agent_sessions s "
                "JOIN agents a ON a.name = s.agent WHERE s.token_hash = %s AND s.revoked_at IS NULL "
                "AND s.expires_at > clock_timestamp() AND NOT a.disabled",
                (token_hash,),
            ).fetchone(),
        )
        return _agent(row) if row else None

    def revoke_session(self, token_hash: str) -> bool:
        def work(conn: Connection) -> bool:
            cursor = conn.execute(
                "UPDATE agent_sessions SET revoked_at = clock_timestamp() "
                "WHERE token_hash = %s AND revoked_at IS NULL",
                (token_hash,),
            )
            return cursor.rowcount > 0

        return self.db.write("closing a session", work)
