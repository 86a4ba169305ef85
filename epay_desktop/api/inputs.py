"""What the client refuses before anything is sent (``InvalidInputError``): references, idempotency
keys, user flows, QR formats and amounts; and the new idempotency key of an operation."""

from __future__ import annotations

import re
import uuid
from typing import Any, Final

from epay_desktop.api.errors import InvalidInputError
from epay_desktop.domain import REFERENCE_PATTERN, Money
from epay_desktop.i18n import _

USER_FLOWS: Final = ("PUSH_MESSAGE", "NATIVE_REDIRECT", "WEB_REDIRECT", "QR")
QR_TARGET_URL: Final = "TEXT/TARGETURL"
QR_FORMATS: Final = (QR_TARGET_URL, "IMAGE/SVG+XML", "IMAGE/PNG")
IDEMPOTENCY_KEY_PATTERN: Final = re.compile(r"^[\x21-\x7e]{1,50}$")


def new_idempotency_key() -> str:
    """A fresh key for one operation (36 characters; the API allows 50)."""
    return str(uuid.uuid4())


def check_reference(reference: str) -> str:
    if not isinstance(reference, str) or not REFERENCE_PATTERN.fullmatch(reference):
        raise InvalidInputError(
            _("{reference} is not a payment reference (8 to 64 letters, digits or dashes)").format(
                reference=repr(reference)
            )
        )
    return reference


def check_key(key: str | None) -> str:
    if key is None:
        return new_idempotency_key()
    if not IDEMPOTENCY_KEY_PATTERN.fullmatch(key):
        raise InvalidInputError(
            _("{key} is not an idempotency key (1 to 50 visible ASCII characters, no spaces)").format(
                key=repr(key)
            )
        )
    return key


def qr_format_body(user_flow: str, qr_format: str | None, qr_size: int | None) -> dict[str, Any] | None:
    """The ``qrFormat`` object to send (FACTS.md §3), or None when it must be absent."""
    if user_flow != "QR":
        if qr_format is not None or qr_size is not None:
            raise InvalidInputError(
                _("a QR format applies only to user flow QR, not {flow}").format(flow=user_flow)
            )
        return None
    kind = qr_format if qr_format is not None else QR_TARGET_URL
    if kind not in QR_FORMATS:
        raise InvalidInputError(
            _("unknown QR format {format}; use one of {formats}").format(
                format=repr(kind), formats=", ".join(QR_FORMATS)
            )
        )
    qr: dict[str, Any] = {"format": kind}
    if qr_size is not None:
        if kind != "IMAGE/PNG":
            raise InvalidInputError(
                _("a QR size applies only to IMAGE/PNG, not {format}").format(format=kind)
            )
        if isinstance(qr_size, bool) or not isinstance(qr_size, int) or not 100 <= qr_size <= 2000:
            raise InvalidInputError(
                _("the QR size must be 100 to 2000 pixels, got {size}").format(size=repr(qr_size))
            )
        qr["size"] = qr_size
    return qr


def check_positive(amount: Money, what: str) -> None:
    if not isinstance(amount, Money):
        raise InvalidInputError(f"the {what} amount must be Money, got {type(amount).__name__}")
    if amount.value <= 0:
        raise InvalidInputError(f"the {what} amount must be more than zero, got {amount.plain()}")
