"""Builders of domain records for UI tests (plain values; no Qt)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from epay_desktop.domain import (
    Aggregate,
    Currency,
    EventName,
    Money,
    Payment,
    PaymentEvent,
    State,
    TrackedPayment,
)

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def payment(
    reference: str = "order-000001",
    amount: int = 100_000,
    state: State = State.AUTHORIZED,
    *,
    authorized: int | None = None,
    captured: int = 0,
    cancelled: int = 0,
    refunded: int = 0,
    currency: Currency = Currency.NOK,
    raw_state: str = "",
) -> Payment:
    if authorized is None:
        authorized = amount if state is State.AUTHORIZED else 0
    m = lambda v: Money(v, currency)  # noqa: E731
    return Payment(
        reference=reference,
        amount=m(amount),
        state=state,
        aggregate=Aggregate(m(authorized), m(captured), m(cancelled), m(refunded)),
        psp_reference=f"psp-{reference}",
        raw_state=raw_state or state.value,
    )


def tracked(
    reference: str = "order-000001",
    description: str = "Coffee beans",
    *,
    fetched: bool = True,
    minutes: int = 0,
    **kwargs: object,
) -> TrackedPayment:
    p = payment(reference, **kwargs) if fetched else None  # type: ignore[arg-type]
    events: tuple[PaymentEvent, ...] = ()
    if p is not None:
        events = (
            PaymentEvent(
                reference,
                p.psp_reference,
                EventName.CREATED,
                p.amount,
                T0 + timedelta(minutes=minutes),
                None,
                True,
            ),
        )
        if p.state is State.AUTHORIZED:
            events += (
                PaymentEvent(
                    reference,
                    p.psp_reference,
                    EventName.AUTHORIZED,
                    p.amount,
                    T0 + timedelta(minutes=minutes + 1),
                    None,
                    True,
                ),
            )
    return TrackedPayment(
        reference=reference,
        merchant_serial_number="123456",
        payment=p,
        events=events,
        description=description,
        created_at=T0 + timedelta(minutes=minutes),
        fetched_at=T0 + timedelta(minutes=minutes + 2) if fetched else None,
    )
