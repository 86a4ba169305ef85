"""The commands of ``epay``, each a coroutine on one client."""

from __future__ import annotations

import argparse
import uuid
from typing import TextIO

from epay_desktop.api import (
    ApiError,
    EPaymentClient,
    MalformedResponseError,
    OutcomeUnknownError,
    new_idempotency_key,
    retry_with_same_key,
)
from epay_desktop.api.parse import parse_payment
from epay_desktop.cli.connection import DEMO_CURRENCY, Connection
from epay_desktop.cli.journal import (
    JournalRefusalError,
    needs_decision,
    open_journal,
    pending_same,
    refusal,
    resume_command,
    resuming,
)
from epay_desktop.cli.output import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNKNOWN,
    EXIT_USAGE,
    Printer,
    event_json,
    events_text,
    exit_code_for,
    payment_json,
    payment_text,
)
from epay_desktop.domain import Action, Currency, Money, Payment, cancel_outcome, check_action
from epay_desktop.services import (
    AlreadyPendingError,
    FinishedMeanwhileError,
    Intent,
    NeedsDecisionError,
    Operation,
    RepeatNotConfirmedError,
    SendResult,
    StandaloneJournal,
)


async def run(args: argparse.Namespace, connection: Connection, printer: Printer, stdin: TextIO) -> int:
    command = args.command
    if command in ("list", "customer"):
        return await _sandbox_command(args, connection, printer)
    async with connection.client() as client:
        try:
            if command == "token":
                await client.fetch_token()
                env = connection.environment
                printer.result(
                    f"Connected to {env.label} ({env.base_url}) for merchant "
                    f"{client.merchant_serial_number}: credentials accepted.",
                    {"ok": True, "environment": env.kind, "baseUrl": env.base_url},
                )
                return EXIT_OK
            if command == "get":
                payment = await client.get_payment(args.reference)
                printer.result(payment_text(payment), payment_json(payment))
                return EXIT_OK
            if command == "events":
                events = await client.get_events(args.reference)
                printer.result(events_text(events), [event_json(e) for e in events])
                return EXIT_OK
            if command == "cancel":
                return await _cancel(args, client, connection, printer, stdin)
            if command in ("capture", "refund"):
                return await _capture_or_refund(args, client, printer)
            if command == "create":
                return await _create(args, client, printer)
            if command == "approve":
                await client.force_approve(args.reference, phone_number=args.phone)
                payment = await client.get_payment(args.reference)
                printer.result(f"Approved.\n{payment_text(payment)}", payment_json(payment))
                return EXIT_OK
        except OutcomeUnknownError as error:
            printer.error(error)
            if command in ("cancel", "capture", "refund"):
                # Kept pending in the CLI journal: the same command resumes it, with this key.
                again = resume_command(args, error.idempotency_key)
                printer.note(
                    f"Idempotency key: {error.idempotency_key}\n"
                    f"Check with: epay events {error.reference}\n"
                    f"Finish it safely with (the same key, so it cannot happen twice):\n  {again}"
                )
            else:
                printer.note(
                    f"Idempotency key: {error.idempotency_key}\nCheck with: epay get {error.reference}"
                )
            return EXIT_UNKNOWN
        except NeedsDecisionError as error:
            printer.error(needs_decision(error, args))
            return EXIT_UNKNOWN
        except RetryLaterError as later:
            printer.error(later.error)
            printer.note(
                f"Nothing was {_DONE[args.command]}. The payment service asks to try again later with the "
                f"same idempotency key ({later.key}), so it cannot happen twice. When you do, run:\n"
                f"  {resume_command(args, later.key)}"
            )
            return exit_code_for(later.error)
        except JournalRefusalError as refused:
            printer.error(str(refused))
            return EXIT_USAGE if refused.usage else EXIT_REFUSED
    raise AssertionError(f"unhandled command {command}")  # argparse only lets known commands through


class RetryLaterError(Exception):
    """The API refused with a request to send the same again later with the same key (6280 "Capture
    failed, please try again later", 6260, 6250, 423); nothing moved. ``key``: the intent's."""

    def __init__(self, error: ApiError, key: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.key = key


_DONE = {"cancel": "cancelled", "capture": "captured", "refund": "refunded"}


def _confirmed(prompt: str, printer: Printer, stdin: TextIO) -> bool:
    printer.prompt(prompt)
    answer = stdin.readline()
    if not answer:
        print(file=printer.err)
    return answer.strip().lower() in ("y", "yes")


async def _cancel(
    args: argparse.Namespace, client: EPaymentClient, connection: Connection, printer: Printer, stdin: TextIO
) -> int:
    reference = args.reference
    async with await open_journal(args, client) as journal:
        resumed = await pending_same(journal, Operation.CANCEL, reference, None, args.key)
        where = "PRODUCTION — real money. " if connection.environment.is_production else ""
        payment = None
        if resumed is None:
            payment = await client.get_payment(reference)
            outcome = cancel_outcome(payment)
            if outcome is None:
                check = check_action(payment, Action.CANCEL)
                printer.error(f"Nothing to cancel on {reference}: {check.reason}")
                return EXIT_REFUSED
            printer.note(f"{where}Cancel {reference}: {outcome.describe()} This cannot be undone.")
        else:
            # Its effect may already be there: no local check, the event log and the API answer for it.
            printer.note(f"{where}Finish the earlier cancel of {reference}. This cannot be undone.")
        if not args.yes and not _confirmed(f"Cancel {reference}? [y/N] ", printer, stdin):
            printer.error("Not confirmed: nothing was cancelled.")
            return EXIT_REFUSED
        done = await _send(args, journal, Operation.CANCEL, resumed, payment, printer)
    data = payment_json(done.payment) | {
        "released": done.moved.to_json(),
        "idempotencyKey": done.intent.idempotency_key,
    }
    printer.result(f"Cancelled: {done.moved.plain()} released.\n{payment_text(done.payment)}", data)
    return EXIT_OK


async def _capture_or_refund(args: argparse.Namespace, client: EPaymentClient, printer: Printer) -> int:
    operation = Operation(args.command)
    async with await open_journal(args, client) as journal:
        # The journal first: a pending one is resumed (its event log read) even when the payment
        # cannot be read now, and says its key and how to finish it when the network is down.
        resumed = await pending_same(journal, operation, args.reference, args.amount, args.key)
        payment = amount = None
        if resumed is None:
            payment = await client.get_payment(args.reference)
            amount = Money.parse(args.amount, payment.currency)  # MoneyError (a ValueError): usage, exit 2
            check = check_action(payment, Action(args.command))
            if not check.allowed or amount > check.amount:
                done_word = "captured" if operation is Operation.CAPTURE else "refunded"
                reason = check.reason or f"at most {check.amount.plain()} can be {done_word} now."
                printer.error(f"Cannot {args.command} {amount.plain()} on {payment.reference}: {reason}")
                return EXIT_REFUSED
        done = await _send(args, journal, operation, resumed, payment, printer, amount=amount)
    verb = "Captured" if operation is Operation.CAPTURE else "Refunded"
    data = payment_json(done.payment) | {"idempotencyKey": done.intent.idempotency_key}
    printer.result(f"{verb} {done.moved.plain()}.\n{payment_text(done.payment)}", data)
    return EXIT_OK


async def _send(
    args: argparse.Namespace,
    journal: StandaloneJournal,
    operation: Operation,
    resumed: Intent | None,
    payment: Payment | None,
    printer: Printer,
    *,
    amount: Money | None = None,
) -> SendResult:
    """Through the engine: resume the pending intent, or begin a new one on the payment just read."""
    engine = journal.engine
    only = bool(getattr(args, "transaction_only", False))
    try:
        if resumed is not None:
            printer.note(resuming(resumed))
            intent = resumed
            done = await engine.resume(intent, None, decided=args.resend, transaction_only=only)
        else:
            assert payment is not None
            if amount is None:  # a cancel: what it releases now (for the audit)
                amount = check_action(payment, Action.CANCEL).amount
            # Begun with --key: a refused intent with that key is begun again (the journal reopens it).
            again = bool(getattr(args, "again", False))
            intent = await engine.begin(operation, payment.reference, amount, key=args.key, again=again)
            done = await engine.send(intent, payment, transaction_only=only)
    except (AlreadyPendingError, FinishedMeanwhileError) as error:
        raise refusal(error, journal) from None
    except RepeatNotConfirmedError as error:
        raise JournalRefusalError(
            f"{error} If it is, run the same command with --again.\n(check it with: epay events "
            f"{error.previous.reference})"
        ) from None
    except ApiError as error:
        if retry_with_same_key(error.error_code, error.status):
            raise RetryLaterError(error, intent.idempotency_key) from error
        raise
    if done.reconciled:
        printer.note(done.message)
    return done


async def _create(args: argparse.Namespace, client: EPaymentClient, printer: Printer) -> int:
    currency = (
        Currency(args.currency)
        if args.currency
        else DEMO_CURRENCY.get(client.merchant_serial_number, Currency.NOK)
    )
    amount = Money.parse(args.amount, currency)
    reference = args.reference or f"epay-{uuid.uuid4().hex[:16]}"
    flow = args.flow or ("PUSH_MESSAGE" if args.phone else "WEB_REDIRECT")
    return_url = args.return_url or ("https://example.com/epay-return" if flow == "WEB_REDIRECT" else None)
    key = args.key or new_idempotency_key()
    created = await client.create_payment(
        reference=reference,
        amount=amount,
        description=args.description,
        user_flow=flow,
        phone_number=args.phone,
        return_url=return_url,
        idempotency_key=key,
    )
    text = f"Created {created.reference} for {amount.plain()}."
    if created.redirect_url:
        text += f"\nSend the customer to: {created.redirect_url}"
    printer.result(
        text,
        {"reference": created.reference, "redirectUrl": created.redirect_url, "idempotencyKey": key},
    )
    return EXIT_OK


async def _sandbox_command(args: argparse.Namespace, connection: Connection, printer: Printer) -> int:
    msn = connection.credentials.merchant_serial_number
    async with connection.controls() as controls:
        if args.command == "list":
            items, total = await controls.list_payments(msn, limit=max(1, min(args.limit, 1000)))
            lines = [f"{total} payment(s) for merchant {msn}:"]
            for item in items:
                try:
                    payment = parse_payment(item)
                except MalformedResponseError as exc:
                    lines.append(f"  {item.get('reference', '?')}: unreadable ({exc})")
                    continue
                lines.append(
                    f"  {payment.reference:<40} {payment.display_state:<11} {payment.amount.plain():>14}"
                    f"  {item.get('paymentDescription', '')}"
                )
            printer.result("\n".join(lines), {"items": items, "total": total})
            return EXIT_OK
        payment = await controls.customer(msn, args.reference, args.action)
        printer.result(f"Customer: {args.action}.\n{payment_text(payment)}", payment_json(payment))
        return EXIT_OK
