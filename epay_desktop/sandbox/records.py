"""The sandbox's own mutable payment records and their JSON shapes (the API's field names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
# Every event the engine writes into a payment's log: the states above and the money moves.
EVENT_NAMES = (CREATED, ABORTED, EXPIRED, "CANCELLED", "CAPTURED", "REFUNDED", AUTHORIZED, TERMINATED)

# Capture attempt deadlines (payment-lifecycle_SKILL.md "Capture attempt deadlines"): 180 days in
# Norway; 14 days in Denmark and Finland unless the sales unit has late capture (then 180). Cancel has
# the same deadline; refund is possible within 365 days of the reservation (errors.md 6220).
DEADLINE_NORWAY = DEADLINE_LATE_CAPTURE = timedelta(days=180)
DEADLINE_DENMARK_FINLAND = timedelta(days=14)
REFUND_PERIOD = timedelta(days=365)
# How long the sandbox guarantees a capture (``captureGuaranteedUntil``): Visa's "capture within 7
# days and Visa guarantees the capture succeeds" (payment-lifecycle_SKILL.md), never past the deadline.
CAPTURE_GUARANTEE = timedelta(days=7)
# The test user's profile, shared as ``userDetails`` when a scope was asked (features.md "Profile
# sharing"; 1.8.1 UserDetails: email, firstName, lastName, mobileNumber required).
TEST_USER = {"email": "ada.lovelace@example.com", "firstName": "Ada", "lastName": "Lovelace"}
TEST_USER_BIRTH_DATE = "1985-12-10"
TEST_USER_ADDRESS = {
    "addressLine1": "Robert Levins gate 5",
    "city": "Oslo",
    "country": "NO",
    "postCode": "0154",
}


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
    late_capture: bool = False  # the sales unit has late capture (DK/FI deadline 180 days, not 14)
    result_pending_until: datetime | None = None  # test amount 201: "unknown result for 1 hour"

    @property
    def updated_at(self) -> datetime:
        return self.events[-1].timestamp if self.events else self.created_at

    @property
    def authorized_at(self) -> datetime | None:
        """When the customer approved (the AUTHORIZED event), or None before that."""
        return next((e.timestamp for e in self.events if e.name == AUTHORIZED), None)

    @property
    def capture_deadline(self) -> datetime | None:
        """The last moment a capture or cancel is possible (None before authorization)."""
        at = self.authorized_at
        if at is None:
            return None
        if self.currency is Currency.NOK:
            return at + DEADLINE_NORWAY
        return at + (DEADLINE_LATE_CAPTURE if self.late_capture else DEADLINE_DENMARK_FINLAND)

    @property
    def refund_deadline(self) -> datetime | None:
        at = self.authorized_at
        return None if at is None else at + REFUND_PERIOD

    @property
    def capture_guaranteed_until(self) -> datetime | None:
        at, deadline = self.authorized_at, self.capture_deadline
        return None if at is None or deadline is None else min(at + CAPTURE_GUARANTEE, deadline)

    def user_details_json(self) -> dict[str, Any]:
        """What the test user shares for ``profile_scope`` (1.8.1 UserDetails)."""
        names = (self.profile_scope or "").split()
        details: dict[str, Any] = dict(TEST_USER, mobileNumber=self.phone_number or "4712345678")
        if "birthDate" in names:
            details["dateOfBirth"] = TEST_USER_BIRTH_DATE
        if "address" in names:
            details["addresses"] = [dict(TEST_USER_ADDRESS)]
        return details

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
            # "populated once state is AUTHORIZED" (1.8.1 ProfileResponse.sub; features.md)
            body["profile"] = {"sub": f"sandbox-sub-{self.psp_reference[:8]}"}
            body["userDetails"] = self.user_details_json()
        guaranteed = self.capture_guaranteed_until
        if guaranteed is not None:
            # operations.md "Get payment": the date a successful capture is guaranteed.
            body["captureGuaranteedUntil"] = iso(guaranteed)
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
            "lateCapture": self.late_capture,
            "resultPendingUntil": None
            if self.result_pending_until is None
            else iso(self.result_pending_until),
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
            late_capture=bool(d.get("lateCapture", False)),
            result_pending_until=parse_iso(d["resultPendingUntil"]) if d.get("resultPendingUntil") else None,
        )
