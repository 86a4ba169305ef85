"""ProblemError JSON (RFC 7807) answers with the documented ePayment error codes (FACTS.md §9, §10)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

# code -> (HTTP status, title). Titles follow FACTS.md / the knowledge base where it names them.
CATALOG: dict[str, tuple[int, str]] = {
    "4010": (409, "Capture idempotency conflict"),
    "4020": (409, "Idempotency-Key already exists"),
    "4040": (400, "Invalid amount"),
    "4070": (400, "Invalid phone number"),
    "4090": (400, "Invalid URL"),
    "4100": (400, "Invalid metadata"),
    "4140": (400, "Missing parameter"),
    "4150": (409, "Reference already exists"),
    "4151": (409, "Refund idempotency conflict"),  # reported as ErrorCode 4150, see reason()
    "5040": (400, "Invalid currency"),
    "5090": (404, "Reference not found"),
    "6010": (400, "Amount too small"),
    "6020": (400, "Cannot refund before reservation"),
    "6040": (400, "Cannot cancel a captured payment"),
    "6060": (400, "Cannot cancel authorized payment"),
    "6070": (400, "Cannot capture cancelled payment"),
    "6080": (400, "Cannot capture before reservation"),
    "6090": (400, "Captured amount exceeds reserved amount"),
    "6150": (400, "Not enough refundable"),
    "6190": (400, "Payment cannot be cancelled"),
    "6200": (400, "Payment cannot be captured"),
    "6210": (400, "Payment cannot be refunded"),
    "6250": (400, "Cannot cancel processing payment"),
    "10020": (400, "Approve not allowed"),
}


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
