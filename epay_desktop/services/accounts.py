"""Team mode's agents: roles and what each may do, passwords (argon2), sessions and login limits.

- Passwords are hashed with argon2id (argon2-cffi's defaults); the password itself is never kept.
- A login gives a random session token. The database keeps its SHA-256 (a token is 256 random bits, so
  a fast hash is enough; it is a key, not a password), so any instance can check it and revoke it.
- Login attempts are counted per name in the database (``PgAccounts.reserve_attempt``): after
  ``LOGIN_LIMIT`` failures within ``LOGIN_WINDOW`` a login is refused without looking at the password.
- Every login, refusal and account change is written to the audit with the agent's name.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from epay_desktop.store import Operation
from epay_desktop.store.postgres import AgentRecord, PgStore

__all__ = [
    "LOGIN_LIMIT",
    "LOGIN_WINDOW",
    "SESSION_LIFETIME",
    "Agent",
    "LastAdminError",
    "LoginLimitedError",
    "LoginRefusedError",
    "Role",
    "TeamAccounts",
    "may_move",
]

LOGIN_LIMIT = 5
LOGIN_WINDOW = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
MIN_PASSWORD_LENGTH = 10
TEAM_PROFILE = "team"


class Role(StrEnum):
    VIEWER = "viewer"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


# Each role may do what the roles before it may, and more.
_RANK = {Role.VIEWER: 0, Role.AGENT: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}
_NEEDED_TO_MOVE = {
    Operation.CANCEL: Role.AGENT,
    Operation.CAPTURE: Role.AGENT,
    Operation.REFUND: Role.SUPERVISOR,
}


def at_least(role: Role, needed: Role) -> bool:
    return _RANK[role] >= _RANK[needed]


def may_move(role: Role, operation: Operation) -> bool:
    return at_least(role, _NEEDED_TO_MOVE[operation])


def needed_to_move(operation: Operation) -> Role:
    return _NEEDED_TO_MOVE[operation]


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    role: Role


class LoginRefusedError(Exception):
    """Wrong name or password, or a disabled account (the message does not say which)."""


class LastAdminError(ValueError):
    """The change would leave the team without an enabled admin."""


class LoginLimitedError(LoginRefusedError):
    """Too many failed attempts for this name lately."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TeamAccounts:
    """Agents, sessions and login limits on the team's PostgreSQL store (sync store, async here)."""

    def __init__(self, store: PgStore, *, hasher: PasswordHasher | None = None) -> None:
        self._store = store
        self._hasher = hasher or PasswordHasher()

    async def add_agent(self, name: str, password: str, role: Role, *, by: str) -> Agent:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
        if not name or len(name) > 64 or name != name.strip():
            raise ValueError("A name is 1 to 64 characters, without spaces around it.")
        hashed = await asyncio.to_thread(self._hasher.hash, password)
        record = await asyncio.to_thread(self._store.accounts.add, name, hashed, role.value)
        await self.audit(by, "add agent", "succeeded", detail=f"{name} as {role.value}")
        return Agent(record.name, Role(record.role))

    async def agents(self) -> list[AgentRecord]:
        return await asyncio.to_thread(self._store.accounts.all)

    async def change_agent(
        self,
        name: str,
        *,
        by: str,
        role: Role | None = None,
        disabled: bool | None = None,
        password: str | None = None,
    ) -> AgentRecord:
        """An admin changes an account: its role, disabled or not (disabled: its sessions end at once),
        a new password (its sessions end too). ``LookupError`` when there is no such account,
        ``LastAdminError`` when it would leave the team without an enabled admin, ``ValueError`` for a
        password too short. Audited with the admin's name."""
        if password is not None and len(password) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
        before = await asyncio.to_thread(self._store.accounts.get, name)
        if before is None:
            raise LookupError(f"There is no agent called {name!r}.")
        leaves_admins = (role is not None and role is not Role.ADMIN) or disabled is True
        if leaves_admins and before.role == Role.ADMIN.value and not before.disabled:
            admins = await asyncio.to_thread(self._store.accounts.enabled_admins)
            if admins == [name]:
                raise LastAdminError(f"{name} is the team's only admin; make another admin first.")
        hashed = None if password is None else await asyncio.to_thread(self._hasher.hash, password)
        changed = await asyncio.to_thread(
            self._store.accounts.change,
            name,
            role=None if role is None else role.value,
            disabled=disabled,
            password_hash=hashed,
        )
        if changed is None:
            raise LookupError(f"There is no agent called {name!r}.")
        what = [
            *([f"role {before.role} -> {changed.role}"] if role is not None else []),
            *([f"{'disabled' if disabled else 'enabled'}"] if disabled is not None else []),
            *(["new password"] if password is not None else []),
        ]
        await self.audit(by, "change agent", "succeeded", detail=f"{name}: {', '.join(what) or 'nothing'}")
        return changed

    async def has_agents(self) -> bool:
        return await asyncio.to_thread(self._store.accounts.count) > 0

    async def login(self, name: str, password: str) -> tuple[Agent, str]:
        """A new session token for ``name``; ``LoginRefusedError`` (or ``LoginLimitedError``)."""
        attempt = await asyncio.to_thread(
            self._store.accounts.reserve_attempt, name, window=LOGIN_WINDOW, limit=LOGIN_LIMIT
        )
        if attempt is None:
            await self.audit(name, "login", "refused", detail="too many failed attempts")
            raise LoginLimitedError("Too many failed logins for this name; try again later.")
        record = await asyncio.to_thread(self._store.accounts.get, name)
        if record is None or record.disabled or not await asyncio.to_thread(self._verify, record, password):
            await self.audit(name, "login", "refused", detail="wrong name or password")
            raise LoginRefusedError("Wrong name or password.")
        await asyncio.to_thread(self._store.accounts.attempt_succeeded, attempt)
        token = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + SESSION_LIFETIME
        await asyncio.to_thread(self._store.accounts.add_session, token_hash(token), name, expires)
        await self.audit(name, "login", "succeeded")
        return Agent(record.name, Role(record.role)), token

    def _verify(self, record: AgentRecord, password: str) -> bool:
        try:
            self._hasher.verify(record.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if self._hasher.check_needs_rehash(record.password_hash):
            self._store.accounts.set_password_hash(record.name, self._hasher.hash(password))
        return True

    async def agent_of(self, token: str) -> Agent | None:
        record = await asyncio.to_thread(self._store.accounts.session_agent, token_hash(token))
        return Agent(record.name, Role(record.role)) if record else None

    async def logout(self, agent: Agent, token: str) -> None:
        await asyncio.to_thread(self._store.accounts.revoke_session, token_hash(token))
        await self.audit(agent.name, "logout", "succeeded")

    async def audit(
        self, who: str, action: str, result: str, *, msn: str = "", reference: str = "", detail: str = ""
    ) -> None:
        await asyncio.to_thread(
            self._store.audit.record,
            os_user=who,
            profile=TEAM_PROFILE,
            msn=msn,
            action=action,
            result=result,
            reference=reference,
            detail=detail,
        )
