"""ProblemError JSON (RFC 7807) answers with the documented ePayment error codes (FACTS.md §9, §10)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

# code -> (HTTP status, title). Titles are the 2026 error list's (agent-toolkit
# epayment_references_errors.md); payment errors are 400 (FACTS.md §10 [INF]; "HTTP 400 with the
# relevant error details", payment-lifecycle_SKILL.md), 6160 is the 423 "Locked" of a concurrent
# operation (errors.md "HTTP statuses worth handling explicitly"), 5090 the 404 of an unknown reference.
CATALOG: dict[str, tuple[int, str]] = {
    "3010": (500, "Internal error"),
    "4010": (409, "Capture idempotency conflict"),
    "4020": (409, "Idempotency error"),
    "4040": (400, "Invalid amount"),
    "4050": (400, "Invalid CustomerToken"),
    "4060": (400, "Invalid PersonalQr"),
    "4070": (400, "Invalid phone number"),
    "4080": (400, "Invalid scope"),
    "4090": (400, "Invalid URL"),
    "4100": (400, "Metadata capacity exceeded"),
    "4110": (400, "Metadata duplicate keys not allowed"),
    "4120": (400, "Metadata key length exceeded"),
    "4130": (400, "Metadata value length exceeded"),
    "4140": (400, "Missing required parameter"),
    "4150": (409, "Reference exists"),
    "4151": (409, "Refund idempotency conflict"),  # reported as ErrorCode 4150, see reason()
    "4160": (400, "Invalid payment method type"),
    "5010": (400, "Blocking sources not applicable"),
    "5030": (400, "Illegal scope"),
    "5040": (400, "Invalid currency for merchant"),
    "5090": (404, "Reference not found"),
    "5100": (400, "Refund not possible"),
    "6010": (400, "Amount too small"),
    "6020": (400, "Attempted refund before reservation"),
    "6030": (400, "Cancel period expired"),
    "6040": (400, "Cannot cancel a captured payment"),
    "6060": (400, "Cannot cancel authorized payment"),
    "6070": (400, "Cannot capture a cancelled payment"),
    "6080": (400, "Cannot capture before reservation"),
    "6090": (400, "Capture amount too high"),
    "6100": (400, "Capture period expired"),
    "6110": (400, "Expiration date is too late"),
    "6120": (400, "Expiration date is too soon"),
    "6130": (400, "Long living payments require a receipt"),
    "6150": (400, "Not enough refundable"),
    "6160": (423, "Order processing"),
    "6190": (400, "Payment cannot be cancelled"),
    "6200": (400, "Payment cannot be captured"),
    "6210": (400, "Payment cannot be refunded"),
    "6220": (400, "Refund period expired"),
    "6250": (400, "Cannot cancel processing payment"),
    "6260": (400, "Funds unavailable"),
    "6280": (400, "Capture failed, please try again later"),
    "10010": (400, "Approve failed"),
    "10020": (400, "Approve not allowed"),
}

# Refusals that say "retry with the same idempotency key" (errors.md 6160, 6250, 6260, 6280): they
# are not kept for their key, unlike other 4xx ("a 4xx response stays 4xx for that key",
# best-practices_SKILL.md), so the documented retry can succeed.
RETRY_LATER = frozenset({"6160", "6250", "6260", "6280"})


@dataclass
class ProblemError(Exception):
    """An error answer. ``code`` is a catalog key, or empty for validation/auth errors."""

    status: int
    title: str
    detail: str
    code: str = ""
    extra: list[dict[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, code: str, detail: str) -> ProblemError:
        status, title = CATALOG[code]
        return cls(status, title, detail, code)

    @classmethod
    def invalid(cls, name: str, reason: str) -> ProblemError:
        """A validation error: 400 with ``extraDetails`` naming the field and no ErrorCode."""
        return cls(400, "Bad Request", f"{name}: {reason}", "", [{"name": name, "reason": reason}])

    def reason(self) -> str:
        return "4150" if self.code == "4151" else self.code

    def body(self, instance: str) -> dict[str, Any]:
        extra = list(self.extra)
        if self.code:
            extra.append({"name": "ErrorCode", "reason": self.reason()})
        return {
            "type": f"https://httpstatuses.io/{self.status}",
            "title": self.title,
            "detail": self.detail,
            "instance": instance,
            "status": self.status,
            "traceId": new_trace_id(),
            "extraDetails": extra or None,
        }


def new_trace_id() -> str:
    """W3C traceparent-shaped, like the real API's ``traceId``."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
