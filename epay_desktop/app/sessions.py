"""Opening a profile: the Demo's in-process sandbox or the profile's client and secrets, and its desk.

Heavy imports (httpx, the sandbox, the services' desk) are inside the functions, on purpose: the
window paints before any of them is loaded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import contextlib

    from epay_desktop.app.listing import EarlyList
    from epay_desktop.services import PaymentDesk, Profile, SecretStore
    from epay_desktop.services.surface import DeskSurface

log = logging.getLogger(__name__)


@dataclass
class Session:
    """What one open profile holds; ``aclose`` closes it in reverse order of opening."""

    desk: DeskSurface  # a PaymentDesk, or a TeamDesk for a Team profile
    stack: contextlib.AsyncExitStack
    read_only: bool = False
    transport: Any = field(default=None)  # the Demo's in-process sandbox (Test connection uses it)
    webhooks: Any = field(default=None)  # the profile's WebhookFeed (app/live.py)
    team_live: Any = field(default=None)  # a Team profile's TeamLive stream

    async def aclose(self) -> None:
        await self.stack.aclose()


async def _open_desk(
    profile: Profile,
    client: Any,
    register: Path,
    *,
    demo: Any = None,
    read_only: bool = False,
    early: EarlyList | None = None,
) -> PaymentDesk:
    from epay_desktop.services import PaymentDesk

    store = early.store if early is not None else None
    if store is not None and not store.db.checked:
        # Listed before its check (``app.listing``): nothing is written, nothing sent, until it passed;
        # a damaged register raises here as it would on a plain open.
        import asyncio

        await asyncio.to_thread(store.db.check_integrity)
    return await PaymentDesk.open(profile, client, register, demo=demo, read_only=read_only, store=store)


async def _offer_early_list(desk: PaymentDesk, early: EarlyList | None) -> None:
    """The rows listed first become the desk's first load, unless another program wrote to the
    register since they were read (then the load reads it again)."""
    import asyncio

    from epay_desktop.app.listing import still_current

    if early is not None and await asyncio.to_thread(still_current, early, desk.store):
        desk.offer_list(early.payments)


async def open_demo(
    register: Path,
    *,
    state_file: Path | None = None,
    read_only: bool = False,
    early: EarlyList | None = None,
) -> Session:
    """The in-process sandbox with its demo data, the client and controls over it, the desk."""
    import contextlib

    import httpx

    from epay_desktop.api import SandboxControls
    from epay_desktop.app.live import demo_webhooks
    from epay_desktop.i18n import _
    from epay_desktop.sandbox import SandboxConfig, create_app
    from epay_desktop.sandbox.persistence import StateFileError
    from epay_desktop.services import DEMO_PROFILE, DEMO_SECRETS, DemoControls, ProfileError, client_for

    stack = contextlib.AsyncExitStack()
    if early is not None:
        stack.callback(early.close)  # the desk closes it first; closing twice is nothing
    try:
        sandbox = create_app(SandboxConfig(data="demo", state_file=state_file))
    except StateFileError as error:
        await stack.aclose()
        raise ProfileError(_("The Demo sandbox cannot start: {reason}").format(reason=error)) from None
    try:
        transport = httpx.ASGITransport(app=sandbox)
        base_url = DEMO_PROFILE.effective_base_url
        client = await stack.enter_async_context(client_for(DEMO_PROFILE, DEMO_SECRETS, transport=transport))
        controls = await stack.enter_async_context(SandboxControls(base_url, transport=transport))
        # Opening a Demo register for the first time seeds it from the sandbox's demo payments.
        demo = None if read_only else DemoControls(controls)
        desk = await _open_desk(DEMO_PROFILE, client, register, demo=demo, read_only=read_only, early=early)
        stack.push_async_callback(desk.aclose)
        webhooks = None if read_only else await demo_webhooks(stack, sandbox, transport, desk)
        await _offer_early_list(desk, early)
    except BaseException:
        await stack.aclose()
        raise
    return Session(desk, stack, read_only=read_only, transport=transport, webhooks=webhooks)


async def open_profile(
    profile: Profile, secrets: SecretStore, *, read_only: bool = False, early: EarlyList | None = None
) -> Session:
    """The profile's client (secrets from ``secrets``; ``MissingSecretsError`` says what to do) and desk.
    ``early``: the profile's register as ``listing`` opened it and the rows it listed first (the
    session takes it over, also when opening fails: it is closed then)."""
    import asyncio
    import contextlib

    from epay_desktop import paths
    from epay_desktop.app.live import register_watch
    from epay_desktop.services import client_for, register_path

    if early is not None and (read_only or profile.is_team or early.path != register_path(profile)):
        await asyncio.to_thread(early.close)
        early = None
    if profile.is_team:
        return await open_team(profile)
    if profile.is_demo:
        data = paths.data_dir()
        return await open_demo(
            register_path(profile),
            state_file=data / "demo-sandbox.sqlite3",
            read_only=read_only,
            early=early,
        )
    stack = contextlib.AsyncExitStack()
    if early is not None:
        stack.callback(early.close)  # the desk closes it first; closing twice is nothing
    try:
        # Saved before a rule existed (e.g. plain http:// to another machine, unconfirmed): not connected.
        profile.validate()
        # A keyring may wait for an unlock prompt: never on the GUI thread.
        stored = await asyncio.to_thread(secrets.get, profile)
        client = await stack.enter_async_context(client_for(profile, stored))
        desk = await _open_desk(profile, client, register_path(profile), read_only=read_only, early=early)
        stack.push_async_callback(desk.aclose)
        # A register opened read-only (damaged or locked) is not watched: only what it shows now counts.
        webhooks = None if read_only else await register_watch(desk)
        await _offer_early_list(desk, early)
    except BaseException:
        await stack.aclose()
        raise
    return Session(desk, stack, read_only=read_only, webhooks=webhooks)


async def open_team(profile: Profile, *, tokens: Any = None, transport: Any = None) -> Session:
    """A Team profile: its agent's session token from the keyring (``LoginNeededError`` when there is
    none or the server says it ended: the controller shows the login dialog), the team desk over the
    server's API and its live stream. Nothing of the merchant's credentials is on this computer.

    When the server cannot be reached (so the login cannot be checked either), the desk opens on the
    list it was last shown, kept on disk, read-only; the live stream keeps trying, and the first answer
    checks the session and makes the list live again."""
    import asyncio
    import contextlib

    from epay_desktop.api.errors import NotSentError
    from epay_desktop.api.team_client import TeamClient, TeamLoginNeededError
    from epay_desktop.services.team_cache import TeamListCache
    from epay_desktop.services.team_desk import TeamDesk
    from epay_desktop.services.team_live import TeamLive
    from epay_desktop.services.team_login import LoginNeededError, TeamTokens

    profile.validate()
    tokens = tokens if tokens is not None else TeamTokens()
    token = await asyncio.to_thread(tokens.get, profile)
    if not token:
        raise LoginNeededError(profile)
    stack = contextlib.AsyncExitStack()
    try:
        client = TeamClient(profile.base_url or "", token=token, transport=transport)
        stack.push_async_callback(client.aclose)
        cache = TeamListCache.of(profile)
        try:
            me = await client.me()
        except TeamLoginNeededError as error:
            await asyncio.to_thread(tokens.delete, profile)
            raise LoginNeededError(profile, str(error)) from None
        except NotSentError as error:  # out of reach, or no answer that could be read
            log.warning(
                "%s: the team server cannot be reached, opening the list kept on disk: %s",
                profile.name,
                error,
            )
            cached = await asyncio.to_thread(cache.load)
            desk = TeamDesk(
                profile,
                client,
                agent=cached.agent if cached and cached.agent else profile.agent,
                role=cached.role if cached else "",
                cache=cache,
            )
            desk.start_offline(cached, str(error))
        else:
            desk = TeamDesk(
                profile,
                client,
                agent=str(me.get("name") or profile.agent),
                role=str(me.get("role") or ""),
                cache=cache,
            )
        stack.push_async_callback(desk.aclose)
        live = TeamLive(desk)
        stack.push_async_callback(live.aclose)
        live.start()
    except BaseException:
        await stack.aclose()
        raise
    return Session(desk, stack, team_live=live)


async def remember_profile(profile: Profile) -> None:
    """Open this profile next time (a failure to write is logged, never raised)."""
    import asyncio

    from epay_desktop.services import ProfileStore, ProfileStoreError

    try:
        await asyncio.to_thread(ProfileStore().set_last_used, profile.name)
    except (ProfileStoreError, OSError) as error:
        log.warning("could not remember the last used profile: %s", error)
