"""The commands of ``epay``, each a coroutine on one client."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Awaitable
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
from epay_desktop.cli.journal import CliJournal, JournalRefusalError, journal_profile, resume_command
from epay_desktop.cli.main import (
    DEMO_CURRENCY,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNKNOWN,
    EXIT_USAGE,
    Connection,
    exit_code_for,
)
from epay_desktop.cli.output import Printer, event_json, events_text, payment_json, payment_text
from epay_desktop.domain import Action, Currency, Money, Payment, PaymentEvent, cancel_outcome, check_action
from epay_desktop.store import Operation


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
                return await _capture_or_refund(args, client, connection, printer)
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
        except JournalRefusalError as refusal:
            printer.error(str(refusal))
            return EXIT_USAGE if refusal.usage else EXIT_REFUSED
    raise AssertionError(f"unhandled command {command}")  # argparse only lets known commands through


def _retry_later(args: argparse.Namespace, printer: Printer, error: ApiError, sent: list[str]) -> int | None:
    """A refusal that asks for the same request again later with the same key (6280 "Capture failed,
    please try again later", 6260, 6250, 423): print it and the exact command that repeats it with that
    key. None when ``error`` is another refusal (the caller lets it go on)."""
    if not sent or not retry_with_same_key(error.error_code, error.status):
        return None
    printer.error(error)
    printer.note(
        f"Nothing was {_DONE[args.command]}. The payment service asks to try again later with the same "
        f"idempotency key ({sent[-1]}), so it cannot happen twice. When you do, run:\n"
        f"  {resume_command(args, sent[-1])}"
    )
    return exit_code_for(error)


_DONE = {"cancel": "cancelled", "capture": "captured", "refund": "refunded"}


async def _read_log(client: EPaymentClient, reference: str) -> tuple[Payment, list[PaymentEvent]]:
    return await client.get_payment(reference), await client.get_events(reference)


def _confirmed(prompt: str, printer: Printer, stdin: TextIO) -> bool:
    print(prompt, end="", file=printer.err, flush=True)
    answer = stdin.readline()
    if not answer:
        print(file=printer.err)
    return answer.strip().lower() in ("y", "yes")


async def _cancel(
    args: argparse.Namespace, client: EPaymentClient, connection: Connection, printer: Printer, stdin: TextIO
) -> int:
    payment = await client.get_payment(args.reference)
    journal = await CliJournal.open(journal_profile(args.env, args.base_url))
    try:
        msn = client.merchant_serial_number
        resumed = await journal.pending_same(Operation.CANCEL, msn, payment.reference, None, args.key)
        where = "PRODUCTION — real money. " if connection.environment.is_production else ""
        if resumed is None:
            outcome = cancel_outcome(payment)
            if outcome is None:
                check = check_action(payment, Action.CANCEL)
                printer.error(f"Nothing to cancel on {payment.reference}: {check.reason}")
                return EXIT_REFUSED
            printer.note(f"{where}Cancel {payment.reference}: {outcome.describe()} This cannot be undone.")
        else:
            # Its effect may already be there: no local check, the API answers for the key.
            printer.note(f"{where}Finish the earlier cancel of {payment.reference}. This cannot be undone.")
        if not args.yes and not _confirmed(f"Cancel {payment.reference}? [y/N] ", printer, stdin):
            printer.error("Not confirmed: nothing was cancelled.")
            return EXIT_REFUSED
        sent: list[str] = []

        def send_cancel(key: str) -> Awaitable[Payment]:
            sent.append(key)
            return client.cancel(
                payment.reference, idempotency_key=key, cancel_transaction_only=args.transaction_only
            )

        try:
            after, key = await journal.run(
                operation=Operation.CANCEL,
                msn=msn,
                reference=payment.reference,
                amount=None,
                resumed=resumed,
                key=args.key,
                send=send_cancel,
                read_log=lambda: _read_log(client, payment.reference),
                printer=printer,
            )
        except ApiError as error:
            code = _retry_later(args, printer, error, sent)
            if code is None:
                raise
            return code
    finally:
        await journal.aclose()
    released = after.aggregate.cancelled - payment.aggregate.cancelled
    data = payment_json(after) | {"released": released.to_json(), "idempotencyKey": key}
    printer.result(f"Cancelled: {released.plain()} released.\n{payment_text(after)}", data)
    return EXIT_OK


async def _capture_or_refund(
    args: argparse.Namespace, client: EPaymentClient, connection: Connection, printer: Printer
) -> int:
    payment = await client.get_payment(args.reference)
    amount = Money.parse(args.amount, payment.currency)  # MoneyError (a ValueError): usage, exit 2
    action = Action(args.command)
    operation = Operation(args.command)
    journal = await CliJournal.open(journal_profile(args.env, args.base_url))
    try:
        msn = client.merchant_serial_number
        resumed = await journal.pending_same(operation, msn, payment.reference, amount, args.key)
        if resumed is None:
            # A resumed one is not checked here: its effect may already be in these figures.
            check = check_action(payment, action)
            if not check.allowed or amount > check.amount:
                done = "captured" if action is Action.CAPTURE else "refunded"
                reason = check.reason or f"at most {check.amount.plain()} can be {done} now."
                printer.error(f"Cannot {args.command} {amount.plain()} on {payment.reference}: {reason}")
                return EXIT_REFUSED

        sent: list[str] = []

        def send(key: str) -> Awaitable[Payment]:
            sent.append(key)
            if action is Action.CAPTURE:
                return client.capture(payment.reference, amount, idempotency_key=key)
            return client.refund(payment.reference, amount, idempotency_key=key)

        try:
            after, key = await journal.run(
                operation=operation,
                msn=msn,
                reference=payment.reference,
                amount=amount,
                resumed=resumed,
                key=args.key,
                send=send,
                read_log=lambda: _read_log(client, payment.reference),
                printer=printer,
            )
        except ApiError as error:
            code = _retry_later(args, printer, error, sent)
            if code is None:
                raise
            return code
    finally:
        await journal.aclose()
    verb = "Captured" if action is Action.CAPTURE else "Refunded"
    data = payment_json(after) | {"idempotencyKey": key}
    printer.result(f"{verb} {amount.plain()}.\n{payment_text(after)}", data)
    return EXIT_OK


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
