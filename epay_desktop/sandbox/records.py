"""The sandbox's own mutable payment records and their JSON shapes (the API's field names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from epay_desktop.domain import Currency
from epay_desktop.sandbox.clock import iso, parse_iso

CREATED, AUTHORIZED, ABORTED, EXPIRED, TERMINATED = (
    "CREATED",
    "AUTHORIZED",
    "ABORTED",
    "EXPIRED",
    "TERMINATED",
)
FINAL_STATES = frozenset({AUTHORIZED, ABORTED, EXPIRED, TERMINATED})


def amount_json(currency: Currency, value: int) -> dict[str, Any]:
    return {"currency": currency.value, "value": value}


@dataclass
class EventRecord:
    name: str
    amount: int
    timestamp: datetime
    psp_reference: str
    idempotency_key: str | None
    success: bool = True

    def to_state(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "amount": self.amount,
            "timestamp": iso(self.timestamp),
            "pspReference": self.psp_reference,
            "idempotencyKey": self.idempotency_key,
            "success": self.success,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> EventRecord:
        return cls(
            data["name"],
            int(data["amount"]),
            parse_iso(data["timestamp"]),
            data["pspReference"],
            data["idempotencyKey"],
            bool(data["success"]),
        )


@dataclass
class PaymentRecord:
    msn: str
    reference: str
    currency: Currency
    amount: int
    user_flow: str
    description: str
    created_at: datetime
    expires_at: datetime
    psp_reference: str
    payment_method: str = "WALLET"
    state: str = CREATED
    authorizing: bool = False
    authorized: int = 0
    captured: int = 0
    cancelled: int = 0
    refunded: int = 0
    redirect_url: str | None = None
    phone_number: str | None = None
    profile_scope: str | None = None
    metadata: dict[str, str] | None = None
    events: list[EventRecord] = field(default_factory=list)
    qr_format: str | None = None  # userFlow QR: what redirectUrl points at (target URL or an image)
    qr_size: int | None = None  # IMAGE/PNG: pixels
    landing_url: str | None = None  # the target URL a phone opens (also for QR images)

    @property
    def updated_at(self) -> datetime:
        return self.events[-1].timestamp if self.events else self.created_at

    def aggregate_json(self) -> dict[str, Any]:
        c = self.currency
        return {
            "authorizedAmount": amount_json(c, self.authorized),
            "cancelledAmount": amount_json(c, self.cancelled),
            "capturedAmount": amount_json(c, self.captured),
            "refundedAmount": amount_json(c, self.refunded),
        }

    def get_json(self) -> dict[str, Any]:
        """The GetPaymentResponse shape."""
        body: dict[str, Any] = {
            "aggregate": self.aggregate_json(),
            "amount": amount_json(self.currency, self.amount),
            "state": self.state,
            "paymentMethod": {"type": self.payment_method},
            "profile": {},
            "pspReference": self.psp_reference,
            "reference": self.reference,
        }
        if self.profile_scope and self.state == AUTHORIZED:
            body["profile"] = {"sub": f"sandbox-sub-{self.psp_reference[:8]}"}
        if self.redirect_url:
            body["redirectUrl"] = self.redirect_url
        if self.metadata:
            body["metadata"] = dict(self.metadata)
        return body

    def modification_json(self) -> dict[str, Any]:
        """The ModificationResponse shape (cancel, capture, refund)."""
        return {
            "amount": amount_json(self.currency, self.amount),
            "state": self.state,
            "aggregate": self.aggregate_json(),
            "pspReference": self.psp_reference,
            "reference": self.reference,
        }

    def events_json(self) -> list[dict[str, Any]]:
        return [
            {
                "reference": self.reference,
                "pspReference": e.psp_reference,
                "name": e.name,
                "amount": amount_json(self.currency, e.amount),
                "timestamp": iso(e.timestamp),
                "idempotencyKey": e.idempotency_key,
                "success": e.success,
            }
            for e in self.events
        ]

    def listing_json(self) -> dict[str, Any]:
        body = self.get_json()
        body["merchantSerialNumber"] = self.msn
        body["paymentDescription"] = self.description
        body["createdAt"] = iso(self.created_at)
        body["updatedAt"] = iso(self.updated_at)
        body["authorizing"] = self.authorizing
        return body

    def to_state(self) -> dict[str, Any]:
        return {
            "msn": self.msn,
            "reference": self.reference,
            "currency": self.currency.value,
            "amount": self.amount,
            "userFlow": self.user_flow,
            "description": self.description,
            "createdAt": iso(self.created_at),
            "expiresAt": iso(self.expires_at),
            "pspReference": self.psp_reference,
            "paymentMethod": self.payment_method,
            "state": self.state,
            "authorizing": self.authorizing,
            "authorized": self.authorized,
            "captured": self.captured,
            "cancelled": self.cancelled,
            "refunded": self.refunded,
            "redirectUrl": self.redirect_url,
            "phoneNumber": self.phone_number,
            "profileScope": self.profile_scope,
            "metadata": self.metadata,
            "events": [e.to_state() for e in self.events],
            "qrFormat": self.qr_format,
            "qrSize": self.qr_size,
            "landingUrl": self.landing_url,
        }

    @classmethod
    def from_state(cls, d: dict[str, Any]) -> PaymentRecord:
        return cls(
            msn=d["msn"],
            reference=d["reference"],
            currency=Currency(d["currency"]),
            amount=int(d["amount"]),
            user_flow=d["userFlow"],
            description=d["description"],
            created_at=parse_iso(d["createdAt"]),
            expires_at=parse_iso(d["expiresAt"]),
            psp_reference=d["pspReference"],
            payment_method=d["paymentMethod"],
            state=d["state"],
            authorizing=bool(d["authorizing"]),
            authorized=int(d["authorized"]),
            captured=int(d["captured"]),
            cancelled=int(d["cancelled"]),
            refunded=int(d["refunded"]),
            redirect_url=d["redirectUrl"],
            phone_number=d["phoneNumber"],
            profile_scope=d["profileScope"],
            metadata=d["metadata"],
            events=[EventRecord.from_state(e) for e in d["events"]],
            # Absent in state files written before QR formats existed.
            qr_format=d.get("qrFormat"),
            qr_size=d.get("qrSize"),
            landing_url=d.get("landingUrl"),
        )
