"""Demo mode: the customer's part played through the sandbox controls, seen through the register."""

from __future__ import annotations

from typing import TYPE_CHECKING

from epay_desktop.domain import Money, TrackedPayment

if TYPE_CHECKING:
    from epay_desktop.api import SandboxControls
    from epay_desktop.services.desk import PaymentDesk

CUSTOMER_ACTIONS = ("approve", "reject", "start-authorizing", "finish-authorizing", "expire")


class DemoControls:
    """Wraps ``api.SandboxControls`` for one desk: every action returns the refreshed TrackedPayment."""

    def __init__(self, controls: SandboxControls) -> None:
        self.controls = controls
        self._desk: PaymentDesk | None = None

    async def customer(self, reference: str, action: str) -> TrackedPayment:
        raise NotImplementedError

    async def new_payment(self, amount: Money, description: str) -> TrackedPayment:
        raise NotImplementedError
