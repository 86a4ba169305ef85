from __future__ import annotations

import asyncio
import itertools

import pytest

from epay_desktop.api import NotFoundError
from epay_desktop.domain import State
from epay_desktop.services import DeskInputError
from tests.services.conftest import MSN, Bench, nok

pytestmark = pytest.mark.anyio


async def test_a_created_payment_is_tracked_and_follows_the_customer(bench: Bench) -> None:
    tracked = await bench.desk.create_payment(nok(12900), "2x Caffè latte", "+47 91 23 45 67")
    assert tracked.reference.startswith("epd-")
    assert tracked.payment is not None
    assert tracked.payment.state is State.CREATED
    assert tracked.description == "2x Caffè latte"
    register = await bench.desk.load_register()
    assert [t.reference for t in register] == [tracked.reference]

    await bench.controls.customer(MSN, tracked.reference, "approve")
    fresh = await bench.desk.refresh(tracked.reference)
    assert fresh.payment is not None
    assert fresh.payment.state is State.AUTHORIZED
    assert [e.name.value for e in fresh.events] == ["CREATED", "AUTHORIZED"]
    assert fresh.fetched_at is not None
    assert fresh.description == "2x Caffè latte"  # kept from the register, not from the API

    audit = await bench.desk.audit()
    assert [(a.action, a.result) for a in audit] == [("create", "ok")]
    assert audit[0].os_user == "tester"


async def test_a_qr_payment_returns_the_link_to_show(bench: Bench) -> None:
    tracked = await bench.desk.create_payment(nok(5000), "Bolle og kaffe", user_flow="QR")
    assert tracked.payment is not None
    assert tracked.payment.redirect_url
    # The target URL a phone opens (the app draws the QR code), not a link to a QR image.
    assert "/sandbox/v1/landing?token=" in tracked.payment.redirect_url


@pytest.mark.parametrize(
    ("description", "phone", "flow", "match"),
    [
        ("ok", "4791234567", "PUSH_MESSAGE", "3 to 100"),
        ("Kaffe", None, "PUSH_MESSAGE", "phone number"),
        ("Kaffe", "12345", "PUSH_MESSAGE", "phone number"),
        ("Kaffe", None, "SMOKE_SIGNAL", "Unknown way"),
    ],
)
async def test_bad_input_for_a_new_payment_is_refused_before_anything_is_sent(
    bench: Bench, description: str, phone: str | None, flow: str, match: str
) -> None:
    with pytest.raises(DeskInputError, match=match):
        await bench.desk.create_payment(nok(100), description, phone, flow)
    assert await bench.desk.load_register() == []
    assert (await bench.controls.stats())["requests"] == 0


async def test_a_refused_create_leaves_nothing_behind(bench: Bench) -> None:
    with pytest.raises(Exception, match=r"(?i)amount|minimum|small"):
        await bench.desk.create_payment(nok(1), "Too cheap", "4791234567")
    assert await bench.desk.load_register() == []
    assert [(a.action, a.result) for a in await bench.desk.audit()] == [("create", "failed")]


async def test_refreshing_an_unknown_payment_keeps_the_row_and_says_why(bench: Bench) -> None:
    report = await bench.desk.add_references("nobody-knows-me-1")
    assert report.added == ("nobody-knows-me-1",)
    with pytest.raises(NotFoundError):
        await bench.desk.refresh("nobody-knows-me-1")
    (row,) = await bench.desk.load_register()
    assert row.payment is None
    assert row.fetch_error


async def test_refresh_all_yields_every_payment_and_failures_come_back_marked(bench: Bench) -> None:
    refs = [await bench.approved_payment(1000 + i) for i in range(5)]
    await bench.desk.add_references("missing-payment-1")
    seen = [t async for t in bench.desk.refresh_all([*refs, "missing-payment-1"], concurrency=3)]
    assert sorted(t.reference for t in seen) == sorted([*refs, "missing-payment-1"])
    by_ref = {t.reference: t for t in seen}
    assert by_ref["missing-payment-1"].fetch_error
    assert all(by_ref[r].payment is not None and by_ref[r].fetch_error == "" for r in refs)


async def test_stopping_refresh_all_early_cancels_the_rest(bench: Bench) -> None:
    refs = [await bench.approved_payment(1000 + i) for i in range(6)]
    stream = bench.desk.refresh_all(refs, concurrency=1)
    first = await anext(stream)
    await stream.aclose()
    assert first.reference in refs
    # Nothing is left running that could write after we stopped: the loop is clean (conftest checks
    # stray errors) and a new full refresh works.
    assert len([t async for t in bench.desk.refresh_all(refs)]) == 6


async def test_refresh_all_keeps_only_as_many_tasks_as_its_concurrency(bench: Bench) -> None:
    """A task per payment up front stalls the loop with a large register; at most ``concurrency``
    refreshes exist at a time, the next starting as one finishes."""
    refs = [await bench.approved_payment(1000 + i) for i in range(12)]
    most = 0
    async for _tracked in bench.desk.refresh_all(refs, concurrency=3):
        most = max(most, len(refreshes()))
    assert 0 < most <= 3


def refreshes() -> list[asyncio.Task[object]]:
    """The tasks of ``refresh_all`` that each refresh one payment (not the reads they start)."""
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "").endswith("refresh_all.<locals>.one")
    ]


async def test_the_register_loads_offline_from_sqlite(bench: Bench) -> None:
    ref = await bench.approved_payment()
    await bench.client.aclose()
    # The client is gone (as if offline): the list still loads, with the last snapshot.
    (row,) = await bench.desk.load_register()
    assert row.reference == ref
    assert row.payment is not None
    assert row.payment.state is State.AUTHORIZED


async def test_refresh_all_starts_one_refresh_per_pass_of_the_loop(bench: Bench) -> None:
    """Starting a refresh builds and sends its first request (about a millisecond): eight started in
    one pass of the loop kept the GUI thread's timers waiting for a frame. Each pass starts one."""
    refs = [await bench.approved_payment(1000 + i) for i in range(8)]
    counts: list[int] = []
    refreshing = True

    async def each_pass() -> None:
        while refreshing:
            counts.append(len(refreshes()))
            await asyncio.sleep(0)

    ticker = asyncio.ensure_future(each_pass())
    await asyncio.sleep(0)  # the ticker counts before the refresh starts
    try:
        assert len([t async for t in bench.desk.refresh_all(refs, concurrency=8)]) == 8
    finally:
        refreshing = False
        await ticker
    grown = [b - a for a, b in itertools.pairwise(counts)]
    assert max(counts) > 1  # several ran at once (how many depends on how fast the first answers come)
    assert counts[0] == 0
    assert max(grown) == 1, grown[:20]
