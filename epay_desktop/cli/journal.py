"""The command line's own journal: every ``epay cancel/capture/refund`` is an intent written before it
is sent, in ``<data folder>/cli-journal.sqlite3`` (the store's journal, as the app uses it).

When the outcome stays unknown (exit 3) the intent stays pending, and the same command run again (same
operation, reference and amount) resumes it with the SAME idempotency key, with or without ``--key``,
so a re-run cannot move money twice. Another operation on that payment is refused until it is finished.

Intents are scoped by environment (the journal's ``profile`` column, see :func:`journal_profile`): a
pending intent is resumed only against the environment it was made for, so its Idempotency-Key never
goes to another one. The store allows one pending intent per (merchant serial number, reference) across
all profiles, and that is kept on purpose: while one environment has an intent pending on a reference,
an operation on the same merchant and reference in ANOTHER environment is refused, with a message naming
the pending one and the exact command that finishes it where it began (nothing is sent).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from epay_desktop.api import (
    ApiError,
    EPaymentError,
    MalformedResponseError,
    NetworkError,
    NotAllowedError,
    OutcomeUnknownError,
    new_idempotency_key,
    redact,
)
from epay_desktop.cli.output import Printer
from epay_desktop.domain import Money, Payment, PaymentEvent
from epay_desktop.services.outcomes import find_effect, moved_amount, success_message
from epay_desktop.store import (
    Intent,
    IntentFinishedError,
    IntentPendingError,
    IntentStatus,
    KeyAlreadyUsedError,
    Operation,
    RegisterError,
    Store,
)

JOURNAL_FILE = "cli-journal.sqlite3"
OS_USER = "epay-cli"
PROFILE_PREFIX = "epay-cli "


class JournalRefusalError(Exception):
    """The journal says not to send (another operation pending, or a --key that does not match)."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


def journal_path() -> Path:
    from epay_desktop.paths import data_dir

    return data_dir() / JOURNAL_FILE


def journal_profile(env: str, base_url: str | None) -> str:
    """The journal's ``profile`` for one environment: ``epay-cli sandbox`` (the built-in one),
    ``epay-cli sandbox <base URL>`` (a sandbox elsewhere), ``epay-cli test``, ``epay-cli production``."""
    if env == "sandbox" and base_url:
        return f"{PROFILE_PREFIX}sandbox {base_url.rstrip('/')}"
    return f"{PROFILE_PREFIX}{env}"


def _environment_options(profile: str) -> list[str]:
    """The command-line options that select ``profile``'s environment (the inverse of journal_profile)."""
    env, _, base_url = profile.removeprefix(PROFILE_PREFIX).partition(" ")
    options = [] if env == "sandbox" else ["--env", env]
    return options + (["--base-url", base_url] if base_url else [])


def _environment_name(profile: str) -> str:
    env, _, base_url = profile.removeprefix(PROFILE_PREFIX).partition(" ")
    if env == "sandbox":
        return f"the sandbox at {base_url}" if base_url else "the built-in sandbox"
    return {"test": "Test", "production": "Production (real money)"}.get(env, profile)


def _finish_command(intent: Intent, msn: str) -> str:
    """The command that finishes ``intent`` in its own environment, with its key."""
    parts = ["epay", *_environment_options(intent.profile), "--msn", msn, intent.operation.value]
    parts.append(intent.reference)
    if intent.amount is not None and intent.operation is not Operation.CANCEL:
        parts.append(_quoted(intent.amount.plain().rsplit(" ", 1)[0]))
    if intent.operation is Operation.CANCEL:
        parts.append("--yes")
    parts += ["--key", intent.idempotency_key]
    return " ".join(parts)


def resume_command(args: argparse.Namespace, key: str) -> str:
    """The exact command that finishes the same operation with the same key."""
    parts = ["epay"]
    if args.env != "sandbox":
        parts += ["--env", args.env]
    if args.base_url:
        parts += ["--base-url", args.base_url]
    if args.msn:
        parts += ["--msn", args.msn]
    parts += [args.command, args.reference]
    if args.command in ("capture", "refund"):
        parts.append(_quoted(args.amount))
    if args.command == "cancel":
        if args.transaction_only:
            parts.append("--transaction-only")
        parts.append("--yes")
    parts += ["--key", key]
    return " ".join(parts)


def _quoted(text: str) -> str:
    return f"'{text}'" if any(c.isspace() for c in text) else text


class CliJournal:
    """One command's use of the journal (opened per command, closed after it)."""

    def __init__(self, store: Store, profile: str) -> None:
        self.store = store
        self.profile = profile

    @classmethod
    async def open(cls, profile: str) -> CliJournal:
        """``profile``: the environment's, from :func:`journal_profile`."""
        path = journal_path()
        try:
            store = await asyncio.to_thread(Store, path)
        except RegisterError as error:
            raise JournalRefusalError(
                f"The command line's journal {path} cannot be used: {error.__cause__ or error}. Nothing was "
                "sent. Move it aside (keep it: it may hold operations whose outcome is unknown) and run the "
                "command again; a new journal is started."
            ) from None
        return cls(store, profile)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.store.close)

    async def pending_same(
        self, operation: Operation, msn: str, reference: str, amount: Money | None, key: str | None
    ) -> Intent | None:
        """The pending intent this command resumes, None when there is none; ``JournalRefusalError`` when
        another operation on the payment is pending or ``key`` contradicts the pending one."""
        everywhere = await asyncio.to_thread(self.store.journal.pending, msn=msn, reference=reference)
        elsewhere = [i for i in everywhere if i.profile != self.profile]
        if elsewhere:
            raise JournalRefusalError(self._elsewhere(elsewhere[0], msn))
        pending = [i for i in everywhere if i.profile == self.profile]
        for intent in pending:
            if intent.operation is operation and (operation is Operation.CANCEL or intent.amount == amount):
                if key is not None and key != intent.idempotency_key:
                    raise JournalRefusalError(
                        f"A {operation.value} of {reference} with idempotency key {intent.idempotency_key} "
                        f"has no known outcome yet; repeat it with that key (or without --key), not {key}.",
                        usage=True,
                    )
                return intent
        if pending:
            other = pending[0]
            what = f"{other.amount.plain()} " if other.amount is not None else ""
            raise JournalRefusalError(
                f"A {other.operation.value} {what}of {reference} started "
                f"{other.created_at:%Y-%m-%d %H:%M} UTC (idempotency key {other.idempotency_key}) has no "
                f"known outcome yet. Check it with: epay events {reference}, and finish it by running that "
                f"{other.operation.value} again (it reuses the key) before starting another operation."
            )
        return None

    def _elsewhere(self, other: Intent, msn: str) -> str:
        """Why nothing is sent here: ``other`` is pending in another environment (its key belongs there)."""
        what = f"{other.amount.plain()} " if other.amount is not None else ""
        options = " ".join(_environment_options(other.profile))
        return (
            f"A {other.operation.value} {what}of {other.reference} for merchant {msn} in "
            f"{_environment_name(other.profile)} (not this environment) started "
            f"{other.created_at:%Y-%m-%d %H:%M} UTC (idempotency key {other.idempotency_key}) has no known "
            "outcome yet. Nothing was sent. The journal keeps one unfinished operation per merchant and "
            "reference, and its key is never sent to another environment: finish it where it began first, "
            f"with:\n  {_finish_command(other, msn)}\n(check it with: epay "
            f"{options + ' ' if options else ''}--msn {msn} events {other.reference})"
        )

    async def run(
        self,
        *,
        operation: Operation,
        msn: str,
        reference: str,
        amount: Money | None,
        resumed: Intent | None,
        key: str | None,
        send: Callable[[str], Awaitable[Payment]],
        read_log: Callable[[], Awaitable[tuple[Payment, list[PaymentEvent]]]],
        printer: Printer,
    ) -> tuple[Payment, str]:
        """Write the intent (or take the pending one), send it with its key, record the outcome. An
        unknown outcome leaves the intent pending (the caller prints how to resume)."""
        if resumed is not None:
            intent = resumed
            printer.note(
                f"Resuming the {operation.value} of {reference} started {intent.created_at:%Y-%m-%d %H:%M} "
                f"UTC with its idempotency key {intent.idempotency_key} (it cannot move money twice)."
            )
        else:
            try:
                intent = await asyncio.to_thread(
                    self.store.journal.begin,
                    operation=operation,
                    profile=self.profile,
                    msn=msn,
                    reference=reference,
                    amount=amount,
                    idempotency_key=key or new_idempotency_key(),
                    os_user=OS_USER,
                )
            except KeyAlreadyUsedError as error:
                raise JournalRefusalError(
                    f"{error} A key belongs to one request: nothing was sent. Run the command without --key "
                    "for a new operation (--key only repeats a call whose outcome was unknown).",
                    usage=True,
                ) from None
            except IntentPendingError as error:  # another epay started one meanwhile
                if error.intent.profile != self.profile:
                    raise JournalRefusalError(self._elsewhere(error.intent, msn)) from None
                raise JournalRefusalError(
                    f"{error} Nothing was sent; try again when it is finished."
                ) from None
        try:
            attempts = await asyncio.to_thread(self.store.journal.note_attempt, intent.id)
        except IntentFinishedError as error:  # another epay finished it since it was read
            raise JournalRefusalError(
                f"{error} Nothing was sent; check it with: epay events {reference}"
            ) from None
        try:
            answer = await send(intent.idempotency_key)
        except (ApiError, NotAllowedError) as error:
            if attempts > 1 and isinstance(error, ApiError):
                # A resend: an earlier attempt may have moved the money and the replay be refused all
                # the same. The event log decides, not the refusal.
                return await self._after_refused_resend(intent, error, attempts, read_log, printer)
            await self._finish(intent, IntentStatus.FAILED, f"Refused: {error}")
            raise
        except (NetworkError, MalformedResponseError) as error:
            if attempts <= 1:  # nothing of it was ever sent
                await self._finish(intent, IntentStatus.FAILED, f"Not sent: {error}")
            raise
        await self._finish(intent, IntentStatus.SUCCEEDED, "confirmed by the API")
        return answer, intent.idempotency_key

    async def _after_refused_resend(
        self,
        intent: Intent,
        error: ApiError,
        attempts: int,
        read_log: Callable[[], Awaitable[tuple[Payment, list[PaymentEvent]]]],
        printer: Printer,
    ) -> tuple[Payment, str]:
        """The API refused a resend: the event log shows the effect (RECONCILED, returned), shows
        nothing (FAILED saying so, ``error`` raised) or cannot be read (left pending,
        ``OutcomeUnknownError`` raised: nothing is claimed)."""
        try:
            payment, events = await read_log()
        except EPaymentError:
            raise OutcomeUnknownError(
                operation=intent.operation.value,
                reference=intent.reference,
                idempotency_key=intent.idempotency_key,
                last_error=error,
                attempts=attempts,
            ) from error
        effect = find_effect(intent, payment, events)
        if effect is None:
            await self._finish(
                intent,
                IntentStatus.FAILED,
                f"The API refused the resend ({error}); the event log shows no {intent.operation.value}, so "
                "nothing moved.",
            )
            raise error
        moved = moved_amount(intent, None, payment, effect)
        message = success_message(intent, moved, payment, reconciled=True, effect=effect)
        await self._finish(intent, IntentStatus.RECONCILED, message)
        printer.note(message)
        return payment, intent.idempotency_key

    async def _finish(self, intent: Intent, status: IntentStatus, outcome: str) -> None:
        await asyncio.to_thread(
            self.store.journal.finish, intent.id, status, redact(outcome), os_user=OS_USER
        )
