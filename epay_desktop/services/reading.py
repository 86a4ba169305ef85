"""Reading a payment together with its event log (what a refresh and a settle both need)."""

from __future__ import annotations

import asyncio

from epay_desktop.api import EPaymentClient
from epay_desktop.domain import Payment, PaymentEvent

__all__ = ["read_with_events"]


async def read_with_events(client: EPaymentClient, reference: str) -> tuple[Payment, list[PaymentEvent]]:
    """The payment and its event log, read together; the first error of either is raised."""
    try:
        async with asyncio.TaskGroup() as group:
            payment = group.create_task(client.get_payment(reference))
            events = group.create_task(client.get_events(reference))
    except BaseExceptionGroup as errors:
        raise _first(errors) from None
    return payment.result(), events.result()


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    leaves: list[BaseException] = []

    def walk(error: BaseException) -> None:
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                walk(inner)
        else:
            leaves.append(error)

    walk(group)
    for leaf in leaves:
        if not isinstance(leaf, asyncio.CancelledError):
            return leaf
    return leaves[0]
