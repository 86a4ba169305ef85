"""The demo data set: deterministic (seeded) payments for the three demo merchants.

Covers every state and aggregate shape the app must show (waiting, authorizing, authorized, partly
and fully captured, partly and fully refunded, cancelled after authorization and after a partial
capture, terminated, aborted, expired, and a reservation whose capture guarantee ends soon).
Timestamps are relative to the sandbox clock's start, so the list always looks recent. Waiting
payments carry a long expiry so a demo does not decay under you.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from epay_desktop.domain import Currency
from epay_desktop.sandbox.engine import Engine
from epay_desktop.sandbox.records import (
    ABORTED,
    AUTHORIZED,
    CREATED,
    EXPIRED,
    TERMINATED,
    EventRecord,
    PaymentRecord,
)

NOK_MENU = [
    ("Espresso", 3800),
    ("Dobbel espresso", 4500),
    ("Cappuccino", 4900),
    ("Caffè latte", 5200),
    ("Flat white", 5400),
    ("Filterkaffe", 3500),
    ("Chai latte", 5500),
    ("Varm sjokolade", 4800),
    ("Kanelbolle", 4200),
    ("Skolebolle", 4500),
    ("Croissant", 3900),
    ("Rundstykke med ost", 5900),
    ("Gulrotkake", 6500),
    ("Vaffel med brunost", 4900),
    ("Kaffebønner 250 g", 16900),
    ("Termokopp", 24900),
]
DKK_MENU = [
    ("Rundstykke", 800),
    ("Wienerbrød", 2200),
    ("Rugbrød", 3500),
    ("Kanelsnegl", 2000),
    ("Kaffe", 3000),
    ("Tebirkes", 1800),
]
EUR_MENU = [
    ("Saunavihta", 1290),
    ("Kiulu", 4900),
    ("Löylykauha", 2490),
    ("Saunatuoksu", 990),
    ("Saunahattu", 1990),
    ("Kiuaskivet 20 kg", 3490),
]

# (shape, how many) for the Norwegian merchant: 43 payments.
NOK_SHAPES = [
    ("waiting", 3),
    ("authorizing", 1),
    ("authorized", 6),
    ("partly-captured", 5),
    ("fully-captured", 6),
    ("partly-refunded", 4),
    ("fully-refunded", 3),
    ("cancelled", 3),
    ("cancelled-after-capture", 3),
    ("terminated", 3),
    ("aborted", 3),
    ("expired", 3),
]
SMALL_SHAPES = ["authorized", "fully-captured", "partly-refunded", "waiting", "cancelled-after-capture"]

MERCHANTS = [
    ("123456", Currency.NOK, "fjordkaffe-ord-", 100201, NOK_MENU, NOK_SHAPES, "479"),
    ("223344", Currency.DKK, "hygge-ord-", 50011, DKK_MENU, [(s, 1) for s in SMALL_SHAPES], "452"),
    ("334455", Currency.EUR, "sauna-tilaus-", 70021, EUR_MENU, [(s, 1) for s in SMALL_SHAPES], "35840"),
]


def load_demo(engine: Engine, now: datetime, *, seed: int = 0) -> None:
    rng = random.Random(seed)
    with engine.lock:
        for msn, currency, prefix, first, menu, shapes, phone_prefix in MERCHANTS:
            flat = [shape for shape, count in shapes for _ in range(count)]
            rng.shuffle(flat)
            for index, shape in enumerate(flat):
                description, amount = _order(rng, menu)
                payment = _build(engine, rng, now, msn, currency, f"{prefix}{first + index}", amount, shape)
                payment.description = description
                payment.phone_number = phone_prefix + "".join(rng.choice("0123456789") for _ in range(7))
                engine.payments[(msn, payment.reference)] = payment
        _add_lapsing(engine, now, seed)
        engine.version += 1


def _add_lapsing(engine: Engine, now: datetime, seed: int) -> None:
    """One more Fjordkaffe payment, authorized five and a half days ago and untouched: its capture
    guarantee (captureGuaranteedUntil, 7 days after authorization) ends within two days, so the list
    warns about it.
    Its own random source, so every other demo payment stays as it was."""
    msn, currency, prefix, first, menu, shapes, phone_prefix = MERCHANTS[0]
    rng = random.Random(seed + 1)
    description, amount = _order(rng, menu)
    reference = f"{prefix}{first + sum(count for _, count in shapes)}"
    payment = _build(engine, rng, now, msn, currency, reference, amount, "lapsing")
    payment.description = description
    payment.phone_number = phone_prefix + "".join(rng.choice("0123456789") for _ in range(7))
    engine.payments[(msn, reference)] = payment


def _order(rng: random.Random, menu: list[tuple[str, int]]) -> tuple[str, int]:
    lines = rng.sample(menu, rng.randint(1, 3))
    counts = [rng.choice((1, 1, 1, 2, 2, 3)) for _ in lines]
    description = ", ".join(f"{count}x {name}" for (name, _), count in zip(lines, counts, strict=True))
    return description, sum(price * count for (_, price), count in zip(lines, counts, strict=True))


def _build(
    engine: Engine,
    rng: random.Random,
    now: datetime,
    msn: str,
    currency: Currency,
    reference: str,
    amount: int,
    shape: str,
) -> PaymentRecord:
    waiting = shape in ("waiting", "authorizing")
    age = timedelta(minutes=rng.randint(1, 8)) if waiting else timedelta(minutes=rng.randint(15, 4 * 24 * 60))
    if shape == "lapsing":
        age = timedelta(days=6, hours=3)  # authorized 5.4 to 5.8 days ago (see ``step`` below)
    created = now - age
    key = f"demo-{engine.new_uuid()}"
    payment = PaymentRecord(
        msn=msn,
        reference=reference,
        currency=currency,
        amount=amount,
        user_flow="PUSH_MESSAGE",
        description="",
        created_at=created,
        expires_at=created + (timedelta(days=2) if waiting else timedelta(minutes=10)),
        psp_reference=engine.new_uuid(),
    )
    step = age / 8  # events spread over the payment's life, all before "now"
    moment = created

    def event(name: str, value: int, event_key: str | None) -> None:
        nonlocal moment
        psp = payment.psp_reference if name == "CREATED" else engine.new_event_psp()
        payment.events.append(EventRecord(name, value, moment, psp, event_key))
        moment += step * rng.uniform(0.5, 1.0)

    event("CREATED", amount, key)
    if shape == "authorizing":
        payment.authorizing = True
    if waiting:
        return payment
    if shape in ("aborted", "expired", "terminated"):
        name = {"aborted": ABORTED, "expired": EXPIRED, "terminated": TERMINATED}[shape]
        if shape == "expired":
            moment = created + timedelta(minutes=10)
        payment.state = name
        if shape == "terminated":
            payment.cancelled = amount
        event(name, amount, f"demo-{engine.new_uuid()}" if shape == "terminated" else None)
        return payment
    payment.state = AUTHORIZED
    payment.authorized = amount
    event(AUTHORIZED, amount, key)
    part = max(1, amount * rng.choice((30, 40, 50, 60)) // 100)
    if shape in ("partly-captured", "partly-refunded", "cancelled-after-capture"):
        _modify(payment, "CAPTURED", part, engine, event)
    if shape in ("fully-captured", "fully-refunded"):
        _modify(payment, "CAPTURED", amount, engine, event)
    if shape == "partly-refunded":
        _modify(payment, "REFUNDED", max(1, part // 2), engine, event)
    if shape == "fully-refunded":
        _modify(payment, "REFUNDED", amount, engine, event)
    if shape in ("cancelled", "cancelled-after-capture"):
        _modify(payment, "CANCELLED", amount - payment.captured, engine, event)
    assert payment.state != CREATED
    return payment


def _modify(payment: PaymentRecord, name: str, value: int, engine: Engine, event: object) -> None:
    if name == "CAPTURED":
        payment.captured += value
    elif name == "REFUNDED":
        payment.refunded += value
    else:
        payment.cancelled += value
    assert callable(event)
    event(name, value, f"demo-{engine.new_uuid()}")
