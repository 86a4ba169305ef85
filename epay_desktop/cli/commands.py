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
    repeated_in_other_journal,
    resume_command,
    resuming,
)
from epay_desktop.cli.output import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNKNOWN,
    EXIT_USAGE,
    Printer,
    events_text,
    exit_code_for,
    money_text,
    payment_text,
)
from epay_desktop.domain import Action, Currency, Money, Payment, cancel_outcome, check_action
from epay_desktop.i18n import _, ngettext
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
from epay_desktop.services.wire import event_json, payment_json


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
                    _(
                        "Connected to {environment} ({base_url}) for merchant {msn}: credentials accepted."
                    ).format(environment=env.label, base_url=env.base_url, msn=client.merchant_serial_number),
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
                printer.result(
                    _("Approved.\n{payment}").format(payment=payment_text(payment)), payment_json(payment)
                )
                return EXIT_OK
        except OutcomeUnknownError as error:
            printer.error(error)
            if command in ("cancel", "capture", "refund"):
                # Kept pending in the CLI journal: the same command resumes it, with this key.
                again = resume_command(args, error.idempotency_key)
                printer.note(
                    _(
                        "Idempotency key: {key}\nCheck with: epay events {reference}\n"
                        "Finish it safely with (the same key, so it cannot happen twice):\n  {command}"
                    ).format(key=error.idempotency_key, reference=error.reference, command=again)
                )
            else:
                printer.note(
                    _("Idempotency key: {key}\nCheck with: epay get {reference}").format(
                        key=error.idempotency_key, reference=error.reference
                    )
                )
            return EXIT_UNKNOWN
        except NeedsDecisionError as error:
            printer.error(needs_decision(error, args))
            return EXIT_UNKNOWN
        except RetryLaterError as later:
            printer.error(later.error)
            printer.note(
                _(
                    "Nothing moved. The payment service asks to try again later with the same idempotency "
                    "key ({key}), so it cannot happen twice. When you do, run:\n  {command}"
                ).format(key=later.key, command=resume_command(args, later.key))
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
        production = connection.environment.is_production
        payment = None
        if resumed is None:
            payment = await client.get_payment(reference)
            outcome = cancel_outcome(payment)
            if outcome is None:
                check = check_action(payment, Action.CANCEL)
                printer.error(
                    _("Nothing to cancel on {reference}: {reason}").format(
                        reference=reference, reason=check.reason
                    )
                )
                return EXIT_REFUSED
            if production:
                text = _("PRODUCTION — real money. Cancel {reference}: {outcome} This cannot be undone.")
            else:
                text = _("Cancel {reference}: {outcome} This cannot be undone.")
            printer.note(text.format(reference=reference, outcome=outcome.describe()))
        else:
            # Its effect may already be there: no local check, the event log and the API answer for it.
            if production:
                text = _(
                    "PRODUCTION — real money. Finish the earlier cancel of {reference}. "
                    "This cannot be undone."
                )
            else:
                text = _("Finish the earlier cancel of {reference}. This cannot be undone.")
            printer.note(text.format(reference=reference))
        if not args.yes and not _confirmed(
            _("Cancel {reference}? [y/N] ").format(reference=reference), printer, stdin
        ):
            printer.error(_("Not confirmed: nothing was cancelled."))
            return EXIT_REFUSED
        done = await _send(args, journal, Operation.CANCEL, resumed, payment, printer)
    data = payment_json(done.payment) | {
        "released": done.moved.to_json(),
        "idempotencyKey": done.intent.idempotency_key,
    }
    printer.result(
        _("Cancelled: {amount} released.\n{payment}").format(
            amount=money_text(done.moved), payment=payment_text(done.payment)
        ),
        data,
    )
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
                most = money_text(check.amount)
                if operation is Operation.CAPTURE:
                    reason = check.reason or _("at most {amount} can be captured now.").format(amount=most)
                    text = _("Cannot capture {amount} on {reference}: {reason}")
                else:
                    reason = check.reason or _("at most {amount} can be refunded now.").format(amount=most)
                    text = _("Cannot refund {amount} on {reference}: {reason}")
                printer.error(
                    text.format(amount=money_text(amount), reference=payment.reference, reason=reason)
                )
                return EXIT_REFUSED
        done = await _send(args, journal, operation, resumed, payment, printer, amount=amount)
    moved = _("Captured {amount}.") if operation is Operation.CAPTURE else _("Refunded {amount}.")
    data = payment_json(done.payment) | {"idempotencyKey": done.intent.idempotency_key}
    printer.result(f"{moved.format(amount=money_text(done.moved))}\n{payment_text(done.payment)}", data)
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
            if not again:
                earlier = await repeated_in_other_journal(journal, operation, payment.reference, amount)
                if earlier is not None:
                    raise RepeatNotConfirmedError(earlier)
            intent = await engine.begin(operation, payment.reference, amount, key=args.key, again=again)
            done = await engine.send(intent, payment, transaction_only=only)
    except (AlreadyPendingError, FinishedMeanwhileError) as error:
        raise refusal(error, journal) from None
    except RepeatNotConfirmedError as error:
        raise JournalRefusalError(
            _("{question} If it is, run the same command with --again.\n(check it with: {command})").format(
                question=error, command=f"epay events {error.previous.reference}"
            )
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
    text = _("Created {reference} for {amount}.").format(
        reference=created.reference, amount=money_text(amount)
    )
    if created.redirect_url:
        link = _("Send the customer to: {url}").format(url=created.redirect_url)
        text = f"{text}\n{link}"
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
            lines = [
                ngettext(
                    "{count} payment for merchant {msn}:", "{count} payments for merchant {msn}:", total
                ).format(count=total, msn=msn)
            ]
            for item in items:
                try:
                    payment = parse_payment(item)
                except MalformedResponseError as exc:
                    lines.append(
                        _("  {reference}: unreadable ({problem})").format(
                            reference=item.get("reference", "?"), problem=exc
                        )
                    )
                    continue
                lines.append(
                    f"  {payment.reference:<40} {payment.display_state:<11} {money_text(payment.amount):>14}"
                    f"  {item.get('paymentDescription', '')}"
                )
            printer.result("\n".join(lines), {"items": items, "total": total})
            return EXIT_OK
        payment = await controls.customer(msn, args.reference, args.action)
        printer.result(
            _("Customer: {action}.\n{payment}").format(action=args.action, payment=payment_text(payment)),
            payment_json(payment),
        )
        return EXIT_OK
