"""Secrets never reach logs: a ``logging.Filter`` that rewrites every record it sees.

It removes the values registered with :func:`register_secret` (the client registers the client secret,
the subscription key and every access token it gets) and anything that looks like one: ``Bearer``
tokens, JWTs, and ``client_secret`` / ``Ocp-Apim-Subscription-Key`` / ``Authorization`` values in
header dumps, JSON or query strings. Exception texts and tracebacks are redacted too.

The client's own loggers (``epay_desktop.api``, ``httpx``, ``httpcore``) get the filter when this
module is imported; :func:`install_redaction` puts it on the handlers of a logger (the root by
default) so records from any library pass through it before they are written anywhere.
"""

from __future__ import annotations

import json
import logging
import re
import threading

__all__ = [
    "REDACTED",
    "SecretRedactingFilter",
    "install_redaction",
    "redact",
    "register_secret",
]

REDACTED = "[REDACTED]"
_MIN_SECRET = 4  # shorter values would redact ordinary words

_lock = threading.Lock()
_secrets: set[str] = set()

_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*"),
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
    re.compile(
        r"(?i)((?:client[_-]?secret|ocp-apim-subscription-key|subscription[_-]?key|access[_-]?token"
        r"|authorization)['\"]?\s*[:=]\s*['\"]?)(?:bearer\s+)?[^\s'\",&;)}\]]+"
    ),
]


def _forms(value: str) -> set[str]:
    """The ways a value shows up in text: as is, without surrounding whitespace, and escaped as
    ``repr`` of the str or of its bytes (``b'...\\n'``, what httpx and h11 print) and as JSON."""
    forms = {value, value.strip()}
    forms.add(value.encode("unicode_escape").decode("ascii"))
    forms.add(repr(value)[1:-1])
    forms.add(repr(value.encode("utf-8", "backslashreplace"))[2:-1])
    forms.add(json.dumps(value)[1:-1])
    forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
    return {form for form in forms if len(form) >= _MIN_SECRET}


def register_secret(value: str | None) -> None:
    """Never log this value (process-wide), nor its escaped forms."""
    if value and len(value) >= _MIN_SECRET:
        with _lock:
            _secrets.update(_forms(value))


def redact(text: str) -> str:
    """``text`` with every registered secret (and its escaped forms) and every secret-looking value
    replaced by ``[REDACTED]``. Pass any error text through it before showing or writing it."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + REDACTED, text)
    return text


class SecretRedactingFilter(logging.Filter):
    """Rewrites the record's message (and exception text) with secrets removed; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = SecretRedactingFilter()


def install_redaction(logger: logging.Logger | None = None) -> SecretRedactingFilter:
    """Put the filter on ``logger`` (root by default) and on each of its handlers."""
    target = logger if logger is not None else logging.getLogger()
    if _FILTER not in target.filters:
        target.addFilter(_FILTER)
    for handler in target.handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    return _FILTER


# Logger filters see only records made at that very logger (not its children): name each one.
for _name in (
    "epay_desktop.api",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
):
    install_redaction(logging.getLogger(_name))
