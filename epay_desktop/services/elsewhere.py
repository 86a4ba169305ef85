"""What the other journals on this computer hold on the same payment: intents without an outcome, and
captures or refunds the API confirmed minutes ago.

Each profile of the window has its own register (with its journal), and ``epay`` keeps a journal of its
own; each journal's one-pending-intent rule cannot see the others. So before a new intent is begun, the
other journals that reach the same merchant (serial number) in the same environment (base URL) are
looked into: a capture that ``epay`` left without an outcome blocks a capture of that payment from the
window until it is finished, and the other way round; a capture of 40.00 ``epay`` made a minute ago makes
the window ask "the same again?" before a second capture of 40.00, as its own journal would. The
built-in sandboxes are left out (each has payments of its own), and so are Team profiles (their journal
is the team server's).

A file that cannot be read (locked for longer than the look waits, damaged) is logged and passed over:
this is a second line of defence beside each journal's own rule and the fresh read of the payment, and
an unrelated damaged file must not stop the person's work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from epay_desktop import paths
from epay_desktop.domain import Money
from epay_desktop.i18n import _
from epay_desktop.services.profile_store import ProfileStore, ProfileStoreError
from epay_desktop.services.profiles import (
    PRODUCTION_BASE_URL,
    TEST_BASE_URL,
    Profile,
    register_path,
)
from epay_desktop.store.journal import Intent, Operation
from epay_desktop.store.peek import PeekError, PendingIntent, confirmed_since, on_payment, pending_in

log = logging.getLogger(__name__)

CLI_JOURNAL_FILE = "cli-journal.sqlite3"
CLI_PROFILE_PREFIX = "epay-cli "


def cli_journal_path() -> Path:
    """``epay``'s journal: ``<data folder>/cli-journal.sqlite3``."""
    return paths.data_dir() / CLI_JOURNAL_FILE


def cli_environment(journal_profile: str) -> str | None:
    """The base URL an ``epay`` journal profile (``epay-cli test``, ``epay-cli sandbox <URL>``) reaches;
    None for ``epay``'s own built-in sandbox."""
    env, _space, base_url = journal_profile.removeprefix(CLI_PROFILE_PREFIX).partition(" ")
    if env == "test":
        return TEST_BASE_URL
    if env == "production":
        return PRODUCTION_BASE_URL
    if env == "sandbox" and base_url:
        return base_url.rstrip("/")
    return None


def profile_environment(profile: Profile) -> str | None:
    """The base URL a window profile reaches; None for the built-in sandbox and for Team profiles."""
    if profile.is_demo or profile.is_team:
        return None
    return profile.effective_base_url


@dataclass(frozen=True, slots=True)
class PendingElsewhere:
    """An intent without an outcome in another journal: ``where`` names it for people."""

    intent: PendingIntent
    where: str


@dataclass(frozen=True, slots=True)
class ConfirmedElsewhere:
    """An operation another journal holds as confirmed by the API: ``where`` names it for people."""

    intent: Intent
    where: str


async def pending_elsewhere(
    *,
    base_url: str | None,
    msn: str,
    reference: str,
    here: Path | None,
    profiles: Iterable[Profile] | None = None,
    cli_journal: Path | None = None,
) -> list[PendingElsewhere]:
    """The intents on payment (``msn``, ``reference``) in ``base_url``'s environment that the other
    journals hold without an outcome. ``here``: the caller's own file (not looked into). ``profiles``:
    the window's saved profiles (read from the profiles file when None). ``cli_journal``: ``epay``'s
    journal (its default place when None). Nothing is looked into for the built-in sandbox
    (``base_url`` None)."""
    if base_url is None:
        return []
    found = await _each_journal(
        base_url.rstrip("/"),
        msn,
        here,
        profiles,
        cli_journal,
        lambda path: pending_in(path, msn=msn, reference=reference),
        reference,
    )
    return [PendingElsewhere(intent, where) for intent, where in found]


async def confirmed_elsewhere(
    *,
    base_url: str | None,
    msn: str,
    reference: str,
    operation: Operation,
    since: datetime,
    here: Path | None,
    profiles: Iterable[Profile] | None = None,
    cli_journal: Path | None = None,
) -> list[ConfirmedElsewhere]:
    """The ``operation``s on payment (``msn``, ``reference``) in ``base_url``'s environment that the
    other journals hold as confirmed at or after ``since``, newest first; arguments as for
    :func:`pending_elsewhere`."""
    if base_url is None:
        return []
    found = await _each_journal(
        base_url.rstrip("/"),
        msn,
        here,
        profiles,
        cli_journal,
        lambda path: confirmed_since(path, msn=msn, reference=reference, operation=operation, since=since),
        reference,
    )
    return _newest_first(found)


def _newest_first(found: list[tuple[Intent, str]]) -> list[ConfirmedElsewhere]:
    newest_first = sorted(found, key=lambda seen: seen[0].finished_at or seen[0].created_at, reverse=True)
    return [ConfirmedElsewhere(intent, where) for intent, where in newest_first]


@dataclass(frozen=True, slots=True)
class BeforeMoving:
    """What the other journals hold on a payment before a money call on it: ``pending`` as
    :func:`pending_elsewhere` finds it, ``repeated`` as :func:`repeated_elsewhere` does."""

    pending: list[PendingElsewhere]
    repeated: Intent | None


async def before_moving(
    *,
    base_url: str | None,
    msn: str,
    reference: str,
    operation: Operation,
    amount: Money | None,
    since: datetime,
    here: Path | None,
) -> BeforeMoving:
    """:func:`pending_elsewhere` and :func:`repeated_elsewhere` in one look: each other journal is
    opened once, on one worker thread, for both."""
    if base_url is None:
        return BeforeMoving([], None)
    found = await _each_journal(
        base_url.rstrip("/"),
        msn,
        here,
        None,
        None,
        lambda path: _both(on_payment(path, msn=msn, reference=reference, operation=operation, since=since)),
        reference,
    )
    pending = [PendingElsewhere(kept, where) for kept, where in found if isinstance(kept, PendingIntent)]
    confirmed = _newest_first([(kept, where) for kept, where in found if isinstance(kept, Intent)])
    return BeforeMoving(pending, _same_amount(operation, amount, confirmed))


def _both(found: tuple[list[PendingIntent], list[Intent]]) -> list[PendingIntent | Intent]:
    pending, confirmed = found
    return [*pending, *confirmed]


def _same_amount(
    operation: Operation, amount: Money | None, confirmed: list[ConfirmedElsewhere]
) -> Intent | None:
    """The newest of ``confirmed`` that a second capture or refund of ``amount`` would repeat."""
    if operation is Operation.CANCEL or amount is None:
        return None
    return next((seen.intent for seen in confirmed if seen.intent.amount == amount), None)


K = TypeVar("K", bound=PendingIntent | Intent)


async def _each_journal(
    base_url: str,
    msn: str,
    here: Path | None,
    profiles: Iterable[Profile] | None,
    cli_journal: Path | None,
    read: Callable[[Path], list[K]],
    reference: str,
) -> list[tuple[K, str]]:
    return await asyncio.to_thread(
        _look,
        base_url,
        msn,
        here,
        None if profiles is None else list(profiles),
        cli_journal,
        read,
        reference,
    )


def _look(
    base_url: str,
    msn: str,
    here: Path | None,
    profiles: list[Profile] | None,
    cli_journal: Path | None,
    read: Callable[[Path], list[K]],
    reference: str,
) -> list[tuple[K, str]]:
    """``read`` on every other journal that reaches ``msn`` in ``base_url``'s environment, each found
    row with the name of where it was found."""
    mine = here.resolve() if here is not None else None
    found: list[tuple[K, str]] = []
    journal = cli_journal or cli_journal_path()
    if journal.resolve() != mine:
        where = _("the command line (epay)")
        found += [
            (kept, where)
            for kept in _read(read, journal, reference)
            if cli_environment(kept.profile) == base_url
        ]
    if profiles is None:
        try:
            profiles = ProfileStore().list()
        except (OSError, ProfileStoreError) as error:
            log.warning("the saved profiles could not be read to look into their journals: %s", error)
            profiles = []
    for profile in profiles:
        if profile_environment(profile) != base_url or profile.merchant_serial_number != msn:
            continue
        path = register_path(profile)
        if path.resolve() == mine:
            continue
        where = _("the profile {name}").format(name=profile.name)
        found += [(kept, where) for kept in _read(read, path, reference)]
    return found


def _read(read: Callable[[Path], list[K]], path: Path, reference: str) -> list[K]:
    try:
        return read(path)
    except PeekError as error:
        log.warning("could not look into %s for intents on %s: %s", path, reference, error)
        return []


async def repeated_elsewhere(
    *,
    base_url: str | None,
    msn: str,
    reference: str,
    operation: Operation,
    amount: Money | None,
    since: datetime,
    here: Path | None,
) -> Intent | None:
    """The newest capture or refund of the same ``amount`` on the payment that another journal holds as
    confirmed at or after ``since``: what the repeat check of the caller's own journal would name, had
    it been made there. None for a cancel (nothing is left to release a second time)."""
    if operation is Operation.CANCEL or amount is None:
        return None
    earlier = await confirmed_elsewhere(
        base_url=base_url,
        msn=msn,
        reference=reference,
        operation=operation,
        since=since,
        here=here,
    )
    return _same_amount(operation, amount, earlier)
