"""The command line's words about its journal: every ``epay cancel/capture/refund`` is an intent written
before it is sent, in ``<data folder>/cli-journal.sqlite3``, and sent through the same journaled-send
engine as the window (``services.StandaloneJournal``); this module only says what the engine decided.

When the outcome stays unknown (exit 3) the intent stays pending, and the same command run again (same
operation, reference and amount) resumes it by the desk's rules: the event log is read first (it may
show the operation happened), else it is sent again with the SAME idempotency key, with or without
``--key``; one that may have reached the server more than 24 hours ago is sent again only with
``--resend``. Another operation on that payment is refused until it is finished.

Intents are scoped by environment (the journal's ``profile`` column, see :func:`journal_profile`): a
pending intent is resumed only against the environment it was made for, so its Idempotency-Key never
goes to another one. The store allows one pending intent per (merchant serial number, reference) across
all profiles, and that is kept on purpose: while one environment has an intent pending on a reference,
an operation on the same merchant and reference in ANOTHER environment is refused, with a message naming
the pending one and the exact command that finishes it where it began (nothing is sent).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from epay_desktop.api import EPaymentClient
from epay_desktop.domain import Money, MoneyError
from epay_desktop.i18n import _, ngettext
from epay_desktop.services import (
    REPEAT_WINDOW,
    RESEND_WINDOW,
    AlreadyPendingError,
    FinishedMeanwhileError,
    Intent,
    NeedsDecisionError,
    Operation,
    PendingElsewhereError,
    RegisterError,
    StandaloneJournal,
)
from epay_desktop.services.elsewhere import (
    CLI_PROFILE_PREFIX,
    cli_environment,
    cli_journal_path,
    pending_elsewhere,
    repeated_elsewhere,
)

OS_USER = "epay-cli"


class JournalRefusalError(Exception):
    """The journal says not to send (another operation pending, or a --key that does not match);
    nothing was sent."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


def journal_profile(env: str, base_url: str | None) -> str:
    """The journal's ``profile`` for one environment: ``epay-cli sandbox`` (the built-in one),
    ``epay-cli sandbox <base URL>`` (a sandbox elsewhere), ``epay-cli test``, ``epay-cli production``."""
    if env == "sandbox" and base_url:
        return f"{CLI_PROFILE_PREFIX}sandbox {base_url.rstrip('/')}"
    return f"{CLI_PROFILE_PREFIX}{env}"


def _environment_options(profile: str) -> list[str]:
    """The command-line options that select ``profile``'s environment (the inverse of journal_profile)."""
    env, _space, base_url = profile.removeprefix(CLI_PROFILE_PREFIX).partition(" ")
    options = [] if env == "sandbox" else ["--env", env]
    return options + (["--base-url", base_url] if base_url else [])


def _environment_name(profile: str) -> str:
    env, _space, base_url = profile.removeprefix(CLI_PROFILE_PREFIX).partition(" ")
    if env == "sandbox":
        return _("the sandbox at {url}").format(url=base_url) if base_url else _("the built-in sandbox")
    if env == "test":
        return _("Test")
    if env == "production":
        return _("Production (real money)")
    return profile


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


def resume_command(args: argparse.Namespace, key: str, *, resend: bool = False) -> str:
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
    if resend:
        parts.append("--resend")
    return " ".join(parts)


def _quoted(text: str) -> str:
    return f"'{text}'" if any(c.isspace() for c in text) else text


async def open_journal(args: argparse.Namespace, client: EPaymentClient) -> StandaloneJournal:
    """The command line's journal, for the environment ``args`` select."""
    path = cli_journal_path()
    try:
        return await StandaloneJournal.open(
            path, client, profile=journal_profile(args.env, args.base_url), operator=OS_USER
        )
    except RegisterError as error:
        raise JournalRefusalError(
            _(
                "The command line's journal {path} cannot be used: {reason}. Nothing was sent. Move it "
                "aside (keep it: it may hold operations whose outcome is unknown) and run the command "
                "again; a new journal is started."
            ).format(path=path, reason=error.__cause__ or error)
        ) from None


async def pending_same(
    journal: StandaloneJournal, operation: Operation, reference: str, amount: str | None, key: str | None
) -> Intent | None:
    """The pending intent this command resumes (same operation, reference and amount as typed), None
    when there is none; ``JournalRefusalError`` when another operation on the payment is pending (here
    or in another environment) or ``key`` contradicts the pending one."""
    everywhere = await journal.pending_everywhere(reference)
    msn = journal.engine.msn
    elsewhere = [i for i in everywhere if i.profile != journal.profile]
    if elsewhere:
        raise JournalRefusalError(_elsewhere(elsewhere[0], msn))
    for intent in everywhere:
        if intent.operation is operation and (operation is Operation.CANCEL or _same(intent, amount)):
            if key is not None and key != intent.idempotency_key:
                raise JournalRefusalError(
                    _(
                        "{operation} with idempotency key {key} has no known outcome yet; repeat it with "
                        "that key (or without --key), not {typed}."
                    ).format(operation=_an_operation(intent), key=intent.idempotency_key, typed=key),
                    usage=True,
                )
            return intent
    if everywhere:
        other = everywhere[0]
        raise JournalRefusalError(
            _(
                "{operation} started {started} UTC (idempotency key {key}) has no known outcome yet. "
                "Check it with: epay events {reference}, and finish it by running the same command "
                "again (it reuses the key) before starting another operation."
            ).format(
                operation=_an_operation(other),
                started=_started(other),
                key=other.idempotency_key,
                reference=reference,
            )
        )
    # A window profile's register for this merchant and environment may hold one without an outcome.
    found = await pending_elsewhere(
        base_url=cli_environment(journal.profile), msn=msn, reference=reference, here=cli_journal_path()
    )
    if found:
        raise JournalRefusalError(str(PendingElsewhereError(found[0])))
    return None


async def repeated_in_other_journal(
    journal: StandaloneJournal, operation: Operation, reference: str, amount: Money | None
) -> Intent | None:
    """The same capture or refund (same amount) confirmed minutes ago through a window profile for this
    merchant and environment: the command asks for --again, as for one in its own journal."""
    return await repeated_elsewhere(
        base_url=cli_environment(journal.profile),
        msn=journal.engine.msn,
        reference=reference,
        operation=operation,
        amount=amount,
        since=datetime.now(UTC) - REPEAT_WINDOW,
        here=cli_journal_path(),
    )


def _same(intent: Intent, amount: str | None) -> bool:
    """Whether ``amount`` as typed is the intent's amount, read in the intent's currency."""
    if intent.amount is None or amount is None:
        return intent.amount is None and amount is None
    try:
        return Money.parse(amount, intent.amount.currency) == intent.amount
    except MoneyError:
        return False


def resuming(intent: Intent) -> str:
    if intent.operation is Operation.CANCEL:
        text = _("Resuming the cancel of {reference} started {started} UTC with its idempotency key {key}:")
    elif intent.operation is Operation.CAPTURE:
        text = _("Resuming the capture of {reference} started {started} UTC with its idempotency key {key}:")
    else:
        text = _("Resuming the refund of {reference} started {started} UTC with its idempotency key {key}:")
    return _(
        "{resuming} its event log is read first, and a resend with the same key cannot move money twice."
    ).format(
        resuming=text.format(reference=intent.reference, started=_started(intent), key=intent.idempotency_key)
    )


def refusal(
    error: AlreadyPendingError | FinishedMeanwhileError, journal: StandaloneJournal
) -> JournalRefusalError:
    """The engine would not send: in the command line's words (nothing was sent)."""
    intent = error.intent
    if isinstance(error, AlreadyPendingError):
        if intent.profile != journal.profile:
            return JournalRefusalError(_elsewhere(intent, journal.engine.msn))
        return JournalRefusalError(
            _(
                "{operation} (intent {number}) has no known outcome yet. Nothing was sent; try again "
                "when it is finished."
            ).format(operation=_an_operation(intent, with_amount=False), number=intent.id)
        )
    return JournalRefusalError(_finished(intent).format(reference=intent.reference, number=intent.id))


def needs_decision(error: NeedsDecisionError, args: argparse.Namespace) -> str:
    intent = error.intent
    hours = int(RESEND_WINDOW.total_seconds() // 3600)
    return ngettext(
        "{operation} started {started} UTC (idempotency key {key}) has no known outcome, and the "
        "payment's event log does not show it. It may have reached the server more than {hours} hour "
        "ago, and the API may no longer know its key, so it is not sent again by itself. Nothing was "
        "sent.\nCheck with: epay events {reference}\nSend it again with the same key anyway with:\n"
        "  {command}",
        "{operation} started {started} UTC (idempotency key {key}) has no known outcome, and the "
        "payment's event log does not show it. It may have reached the server more than {hours} hours "
        "ago, and the API may no longer know its key, so it is not sent again by itself. Nothing was "
        "sent.\nCheck with: epay events {reference}\nSend it again with the same key anyway with:\n"
        "  {command}",
        hours,
    ).format(
        operation=_an_operation(intent, with_amount=False),
        started=_started(intent),
        key=intent.idempotency_key,
        hours=hours,
        reference=intent.reference,
        command=resume_command(args, intent.idempotency_key, resend=True),
    )


def _elsewhere(other: Intent, msn: str) -> str:
    """Why nothing is sent here: ``other`` is pending in another environment (its key belongs there)."""
    options = " ".join(_environment_options(other.profile))
    return _(
        "{operation} for merchant {msn} in {environment} (not this environment) started {started} UTC "
        "(idempotency key {key}) has no known outcome yet. Nothing was sent. The journal keeps one "
        "unfinished operation per merchant and reference, and its key is never sent to another "
        "environment: finish it where it began first, with:\n  {command}\n(check it with: {check})"
    ).format(
        operation=_an_operation(other),
        msn=msn,
        environment=_environment_name(other.profile),
        started=_started(other),
        key=other.idempotency_key,
        command=_finish_command(other, msn),
        check=f"epay {options + ' ' if options else ''}--msn {msn} events {other.reference}",
    )


def _finished(intent: Intent) -> str:
    if intent.operation is Operation.CANCEL:
        return _(
            "The cancel of {reference} (intent {number}) is already finished. Nothing was sent; check it "
            "with: epay events {reference}"
        )
    if intent.operation is Operation.CAPTURE:
        return _(
            "The capture of {reference} (intent {number}) is already finished. Nothing was sent; check it "
            "with: epay events {reference}"
        )
    return _(
        "The refund of {reference} (intent {number}) is already finished. Nothing was sent; check it "
        "with: epay events {reference}"
    )


def _started(intent: Intent) -> str:
    return f"{intent.created_at:%Y-%m-%d %H:%M}"


def _an_operation(intent: Intent, *, with_amount: bool = True) -> str:
    """The intent as the subject of a sentence: "A capture 10.00 NOK of ABC123" (the amount when
    known and wanted), one whole phrase per operation for the translators."""
    amount = intent.amount.plain() if with_amount and intent.amount is not None else None
    reference = intent.reference
    if intent.operation is Operation.CANCEL:
        if amount is None:
            return _("A cancel of {reference}").format(reference=reference)
        return _("A cancel {amount} of {reference}").format(amount=amount, reference=reference)
    if intent.operation is Operation.CAPTURE:
        if amount is None:
            return _("A capture of {reference}").format(reference=reference)
        return _("A capture {amount} of {reference}").format(amount=amount, reference=reference)
    if amount is None:
        return _("A refund of {reference}").format(reference=reference)
    return _("A refund {amount} of {reference}").format(amount=amount, reference=reference)
