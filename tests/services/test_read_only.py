"""``PaymentDesk.open(..., read_only=True)``: a damaged or locked register opens read-only; the list
shows, and every call that writes or moves money is refused before anything is sent."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from epay_desktop import i18n
from epay_desktop.services import (
    DEMO_PROFILE,
    PaymentDesk,
    ReadOnlyRegisterError,
    RecoveryOutcome,
    RegisterDamagedError,
)
from epay_desktop.store import NewEntry, Operation, Store
from tests.services.conftest import MSN, Bench, nok
from tests.support.registers import leaf_page

pytestmark = pytest.mark.anyio

PAGE = 4096
CATALOGS = Path(__file__).resolve().parents[2] / "resources" / "translations"


def _big_register(path: Path, rows: int = 2000) -> None:
    with Store(path) as store:
        entries = [NewEntry(f"ref-{i:06d}", description="coffee " * 20) for i in range(rows)]
        store.register.add(MSN, entries)


def _scribble(path: Path, page: int) -> None:
    data = bytearray(path.read_bytes())
    assert len(data) > (page + 2) * PAGE
    data[page * PAGE : page * PAGE + 600] = b"\xa5" * 600
    path.write_bytes(bytes(data))


async def _requests(bench: Bench) -> int:
    return int((await bench.controls.stats())["requests"])


async def _assert_everything_refused(bench: Bench, desk: PaymentDesk, ref: str, path: Path) -> None:
    before = await asyncio.to_thread(path.read_bytes)
    sent = await _requests(bench)
    attempts: list[Callable[[], Awaitable[object]]] = [
        lambda: desk.cancel(ref),
        lambda: desk.capture(ref, nok(100)),
        lambda: desk.refund(ref, nok(100)),
        lambda: desk.create_payment(nok(5000), "Kaffe og bolle", "4791234567"),
        lambda: desk.add_references("another-ref-1"),
    ]
    for attempt in attempts:
        with pytest.raises(ReadOnlyRegisterError, match=r"read-only.*Nothing was sent"):
            await attempt()
    assert await _requests(bench) == sent
    assert await asyncio.to_thread(path.read_bytes) == before


async def test_a_damaged_register_opens_read_only_and_shows_what_can_be_read(
    bench: Bench, tmp_path: Path
) -> None:
    path = tmp_path / "damaged.sqlite3"
    await asyncio.to_thread(_big_register, path)
    # A leaf page of the payments table, and one of the list's packed rows (else the list is read whole
    # from those, see the next test).
    data = await asyncio.to_thread(path.read_bytes)
    for kind in (13, 10):
        await asyncio.to_thread(_scribble, path, leaf_page(data, kind=kind, holding=b"coffee"))
    with pytest.raises(RegisterDamagedError, match="read-only"):
        await PaymentDesk.open(DEMO_PROFILE, bench.client, path)
    desk = await PaymentDesk.open(DEMO_PROFILE, bench.client, path, read_only=True)
    try:
        assert desk.read_only
        rows = await desk.load_register()
        # The rows on the scribbled page are gone; every other row shows, newest first.
        assert 1900 < len(rows) < 2000
        references = [r.reference for r in rows]
        assert references == sorted(references)  # same added_at: by reference, as the query orders
        assert rows[0].description.startswith("coffee")
        assert "malformed" in desk.damage
        assert f"{2000 - len(rows)} rows could not be read" in desk.damage
        await _assert_everything_refused(bench, desk, rows[0].reference, path)
    finally:
        await desk.aclose()


async def test_a_register_damaged_where_the_list_is_intact_shows_all(bench: Bench, tmp_path: Path) -> None:
    path = tmp_path / "damaged.sqlite3"
    await asyncio.to_thread(_big_register, path, 300)
    await asyncio.to_thread(_scribble, path, 3)
    with pytest.raises(RegisterDamagedError):
        await PaymentDesk.open(DEMO_PROFILE, bench.client, path)
    desk = await PaymentDesk.open(DEMO_PROFILE, bench.client, path, read_only=True)
    try:
        assert len(await desk.load_register()) == 300
        assert desk.damage
    finally:
        await desk.aclose()


async def test_a_file_that_is_not_a_register_still_says_so(bench: Bench, tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"not a register at all\n" * 300)
    with pytest.raises(RegisterDamagedError, match="damaged"):
        await PaymentDesk.open(DEMO_PROFILE, bench.client, path, read_only=True)
    assert path.read_bytes() == b"not a register at all\n" * 300


async def test_a_locked_register_opens_read_only_and_refuses_money_moving_calls(bench: Bench) -> None:
    ref = await bench.approved_payment(5000)
    pending_ref = await bench.approved_payment(7000)
    # A cancel whose answer never came: read-only must not finish it.
    await bench.pending_intent(Operation.CANCEL, pending_ref, nok(7000), key="pending-key-1")
    await bench.desk.aclose()
    holder = sqlite3.connect(bench.register, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
    desk = await PaymentDesk.open(DEMO_PROFILE, bench.client, bench.register, read_only=True)
    try:
        rows = {r.reference: r for r in await desk.load_register()}
        assert set(rows) == {ref, pending_ref}
        assert rows[ref].payment is not None
        assert rows[ref].payment.amount == nok(5000)
        assert desk.damage == ""
        await _assert_everything_refused(bench, desk, ref, bench.register)
        (result,) = await desk.recover_pending()
        assert result.outcome is RecoveryOutcome.READ_ONLY
        assert not result.finished
        assert "read-only" in str(result)
        assert "nothing was sent" in str(result)
        # Refreshing still shows the latest state (here: captured elsewhere), without saving it.
        await bench.client.capture(ref, nok(1000))
        fresh = await desk.refresh(ref)
        assert fresh.payment is not None
        assert fresh.payment.aggregate.captured == nok(1000)
        assert fresh.description == rows[ref].description
        kept = await desk.tracked(ref)
        assert kept is not None
        assert kept.payment is not None
        assert kept.payment.aggregate.captured == nok(0)  # not saved
    finally:
        await desk.aclose()
        holder.execute("ROLLBACK")
        holder.close()
    assert (await bench.event_names(ref)).count("CANCELLED") == 0
    assert (await bench.event_names(pending_ref)).count("CANCELLED") == 0
    # Reopened normally, the pending cancel is still there to finish.
    again = await bench.open_desk()
    try:
        assert [i.idempotency_key for i in await again.pending_intents()] == ["pending-key-1"]
    finally:
        await again.aclose()


@pytest.mark.parametrize(
    ("language", "cancel", "capture", "add"),
    [
        ("nb", "Kan ikke kansellere", "Kan ikke trekke", "Kan ikke legge til betalinger."),
        ("da", "Kan ikke annullere", "Kan ikke hæve", "Kan ikke tilføje betalinger."),
        ("fi", "ei voi peruuttaa", "ei voi veloittaa", "Maksuja ei voi lisätä."),
    ],
)
async def test_a_read_only_refusal_is_one_sentence_per_operation_in_the_language(
    bench: Bench, tmp_path: Path, language: str, cancel: str, capture: str, add: str
) -> None:
    path = tmp_path / "damaged.sqlite3"
    await asyncio.to_thread(_big_register, path, 300)
    await asyncio.to_thread(_scribble, path, 3)
    desk = await PaymentDesk.open(DEMO_PROFILE, bench.client, path, read_only=True)
    assert i18n.set_language(language, CATALOGS) == language
    try:
        for attempt, words in [
            (lambda: desk.cancel("ref-000001"), cancel),
            (lambda: desk.capture("ref-000001", nok(100)), capture),
            (lambda: desk.add_references("another-ref-1"), add),
        ]:
            with pytest.raises(ReadOnlyRegisterError) as refused:
                await attempt()
            assert words in str(refused.value)
            assert "Cannot" not in str(refused.value)
            assert "read-only" not in str(refused.value)
    finally:
        i18n.set_language("en", None)
        await desk.aclose()
