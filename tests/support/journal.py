"""An intent begun in a register's journal for the store's tests: a capture of 40.00 NOK on one
payment of merchant 123456, counted as attempted (as the desk begins one right before sending it)."""

from __future__ import annotations

from typing import Any

from epay_desktop.domain import Currency, Money
from epay_desktop.store import Operation, Store


def begin(
    store: Store, key: str, reference: str = "order-12345678", *, attempting: bool = True, **more: Any
) -> int:
    """The new intent's id; ``more``: further arguments of ``Journal.begin`` (``now``, ``repeat_since``)."""
    return store.journal.begin(
        operation=Operation.CAPTURE,
        profile="Shop",
        msn="123456",
        reference=reference,
        amount=Money(4000, Currency.NOK),
        idempotency_key=key,
        os_user="u",
        attempting=attempting,
        **more,
    ).id
