"""PaymentDesk: the use cases of one profile's register (track, refresh, cancel with journal, recovery).

Every SQLite call goes through ``asyncio.to_thread`` (the GUI thread never blocks on the disk). Every
cancel, capture and refund is journaled before it is sent, with its own Idempotency-Key; the same key is
reused by every retry, also after a crash (``recover_pending``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from epay_desktop.domain import Money, TrackedPayment
from epay_desktop.services.profiles import Profile
from epay_desktop.services.results import AddReport, CancelResult, ImportReport, OperationResult

if TYPE_CHECKING:
    from epay_desktop.api import EPaymentClient
    from epay_desktop.services.demo import DemoControls
    from epay_desktop.store import AuditEntry


class PaymentDesk:
    """One profile's desk. Open it with ``await PaymentDesk.open(...)``; close it with ``aclose()``."""

    def __init__(self) -> None:
        raise TypeError("use `await PaymentDesk.open(...)`")

    @classmethod
    async def open(
        cls,
        profile: Profile,
        client: EPaymentClient,
        register_path: Path,
        demo: DemoControls | None = None,
        operator: str | None = None,
    ) -> PaymentDesk:
        raise NotImplementedError

    @property
    def profile(self) -> Profile:
        raise NotImplementedError

    @property
    def demo(self) -> DemoControls | None:
        raise NotImplementedError

    async def load_register(self) -> list[TrackedPayment]:
        """Every tracked payment with its last snapshot, from SQLite only (instant, works offline)."""
        raise NotImplementedError

    async def refresh(self, reference: str) -> TrackedPayment:
        """GET the payment and its events; the snapshot is saved. On failure the old snapshot is kept,
        ``fetch_error`` is recorded, and the client's error is raised."""
        raise NotImplementedError

    def refresh_all(self, references: Iterable[str], concurrency: int = 8) -> AsyncIterator[TrackedPayment]:
        """Yield each payment as its refresh finishes (a failed one comes back with ``fetch_error``)."""
        raise NotImplementedError

    async def cancel(self, reference: str) -> CancelResult:
        raise NotImplementedError

    async def capture(self, reference: str, amount: Money) -> OperationResult:
        raise NotImplementedError

    async def refund(self, reference: str, amount: Money) -> OperationResult:
        raise NotImplementedError

    async def recover_pending(self) -> list[str]:
        raise NotImplementedError

    async def add_references(self, text_or_list: str | Iterable[str]) -> AddReport:
        raise NotImplementedError

    async def import_csv(self, path: Path) -> ImportReport:
        raise NotImplementedError

    async def create_payment(
        self,
        amount: Money,
        description: str,
        phone_number: str | None = None,
        user_flow: str = "PUSH_MESSAGE",
    ) -> TrackedPayment:
        """Create a payment with a reference made here. For ``user_flow="QR"`` (or WEB_REDIRECT) the
        returned ``tracked.payment.redirect_url`` is the link to render as a QR code."""
        raise NotImplementedError

    async def audit(self, limit: int = 1000) -> list[AuditEntry]:
        raise NotImplementedError

    async def export_audit_csv(self, path: Path) -> int:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError
