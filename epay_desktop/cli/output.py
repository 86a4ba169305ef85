"""What ``epay`` prints: plain text for people, JSON for scripts. Money is shown exactly
(``1234.50 NOK``), never through a float."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC
from typing import Any, TextIO

from epay_desktop.api import (
    ApiError,
    EPaymentError,
    InvalidInputError,
    NotAllowedError,
    NotSentError,
    OutcomeUnknownError,
    redact,
)
from epay_desktop.domain import Action, Money, Payment, PaymentEvent, check_action
from epay_desktop.i18n import _, formats

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNKNOWN, EXIT_NETWORK = 0, 1, 2, 3, 4


class ConfigError(Exception):
    """The command line or the environment variables do not make a usable connection."""


def exit_code_for(error: BaseException) -> int:
    if isinstance(error, OutcomeUnknownError):
        return EXIT_UNKNOWN
    if isinstance(error, InvalidInputError):
        return EXIT_USAGE
    if isinstance(error, NotAllowedError):
        return EXIT_REFUSED  # refused by the client itself
    if isinstance(error, NotSentError | ConfigError):
        return EXIT_NETWORK
    return EXIT_REFUSED


def error_json(error: BaseException) -> dict[str, Any]:
    data: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, ApiError):
        data.update(
            status=error.status,
            title=error.title,
            detail=error.detail,
            errorCode=error.error_code,
            traceId=error.trace_id,
            advice=error.advice,
        )
    if isinstance(error, OutcomeUnknownError):
        data.update(
            operation=error.operation, reference=error.reference, idempotencyKey=error.idempotency_key
        )
    return data


def money_text(money: Money) -> str:
    """Money for people in the language in use ("1 234,50 kr"); ``--json`` keeps minor units."""
    return formats.money_text(money.value, money.currency.value, money.currency.minor_digits)


def _table(rows: list[tuple[str, str]]) -> list[str]:
    """Labels padded to the longest one (translations differ in length)."""
    width = max(len(label) for label, _value in rows) + 2
    return [f"  {(label + ':').ljust(width)}{value}" for label, value in rows]


def payment_text(payment: Payment) -> str:
    agg = payment.aggregate
    rows = [
        (_("State"), payment.display_state),
        (_("Amount"), money_text(payment.amount)),
        (_("Authorized"), money_text(agg.authorized)),
        (_("Captured"), money_text(agg.captured)),
        (_("Cancelled"), money_text(agg.cancelled)),
        (_("Refunded"), money_text(agg.refunded)),
    ]
    if payment.psp_reference:
        rows.append((_("PSP reference"), payment.psp_reference))
    if payment.redirect_url:
        rows.append((_("Redirect"), payment.redirect_url))
    can = {Action.CANCEL: _("Can cancel"), Action.CAPTURE: _("Can capture"), Action.REFUND: _("Can refund")}
    for action in Action:
        check = check_action(payment, action)
        answer = (
            _("yes, {amount}").format(amount=money_text(check.amount))
            if check.allowed
            else _("no: {reason}").format(reason=check.reason)
        )
        rows.append((can[action], answer))
    title = _("Payment {reference}").format(reference=payment.reference)
    return "\n".join([title, *_table(rows)])


def events_text(events: list[PaymentEvent]) -> str:
    if not events:
        return _("No events.")
    rows = [(_("When (UTC)"), _("Event"), _("Amount"), _("OK"), _("Idempotency key"))]
    for e in events:
        stamp = e.timestamp.astimezone(UTC) if e.timestamp and e.timestamp.tzinfo else e.timestamp
        when = stamp.strftime("%Y-%m-%d %H:%M:%S") if stamp else "?"
        success = _("yes") if e.success else _("NO")
        rows.append((when, e.display_name, money_text(e.amount), success, e.idempotency_key or ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def redacted(data: object) -> object:
    """``data`` (JSON-ready) with every string, keys too, passed through ``redact``: a secret a server
    echoes back never reaches the output, and the output stays valid JSON."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {redacted(k) if isinstance(k, str) else k: redacted(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [redacted(item) for item in data]
    return data


class Printer:
    """Writes results on ``out`` and words for people on ``err`` (also ``out`` in plain mode). Every
    line goes through ``redact`` on its way out (JSON value by value, so it stays parseable).

    A reader that stops reading (``epay --json get REF | head -c1``) is not an error of ours: the rest of
    the output is dropped quietly, the command still finishes and exits with its own code."""

    def __init__(self, *, as_json: bool, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.as_json = as_json
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def result(self, text: str, data: object) -> None:
        if self.as_json:
            self._write(json.dumps(redacted(data), ensure_ascii=False, indent=2), self.out)
        else:
            self._write(redact(text), self.out)

    def reveal(self, text: str, data: object) -> None:
        """A result that must show a secret, on purpose and once (a new webhook registration's): as
        ``result``, but not redacted. Nothing else may use it."""
        if self.as_json:
            self._write(json.dumps(data, ensure_ascii=False, indent=2), self.out)
        else:
            self._write(text, self.out)

    def note(self, text: str) -> None:
        """For people only: on stderr in JSON mode so stdout stays parseable."""
        self._write(redact(text), self.err if self.as_json else self.out)

    def prompt(self, text: str) -> None:
        """A question for the person (on stderr, without a line break)."""
        try:
            print(redact(text), end="", file=self.err, flush=True)
        except BrokenPipeError:
            _drop_the_rest(self.err)

    def error(self, error: BaseException | str) -> None:
        message = error if isinstance(error, str) else _error_text(error)
        self._write(f"epay: {redact(message)}", self.err)
        if self.as_json:
            data = {"type": "UsageError", "message": error} if isinstance(error, str) else error_json(error)
            self._write(json.dumps(redacted({"error": data}), ensure_ascii=False, indent=2), self.out)

    @staticmethod
    def _write(text: str, stream: TextIO) -> None:
        try:
            print(text, file=stream, flush=True)
        except BrokenPipeError:
            _drop_the_rest(stream)


def _drop_the_rest(stream: TextIO) -> None:
    """The reader of ``stream`` went away: point its descriptor at the null device, so the text still
    buffered (and the interpreter's flush at exit) goes nowhere instead of raising again."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError):  # not a real file (a test's StringIO): nothing buffered below it
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _error_text(error: BaseException) -> str:
    if isinstance(error, EPaymentError | ConfigError):
        return str(error)
    return f"{type(error).__name__}: {error}"
