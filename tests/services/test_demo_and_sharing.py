"""Demo mode seeding and customer controls; two desks (and two processes) on one register."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import httpx
import pytest

from epay_desktop.api import Environment, EPaymentClient, SandboxControls
from epay_desktop.domain import State
from epay_desktop.sandbox import SandboxConfig, create_app
from epay_desktop.services import (
    DEMO_PROFILE,
    ActionNotPossibleError,
    DemoControls,
    PaymentDesk,
    RegisterLockedError,
    register_path,
)
from epay_desktop.store import Store
from tests.services.conftest import BASE_URL, CREDENTIALS, MSN, Bench, nok

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]


async def test_the_demo_register_is_seeded_once_from_the_sandbox(app_home: Path) -> None:
    transport = httpx.ASGITransport(app=create_app(SandboxConfig(data="demo", rate_limits=False)))
    async with (
        EPaymentClient(Environment.sandbox(BASE_URL), CREDENTIALS, transport=transport) as client,
        SandboxControls(BASE_URL, transport=transport) as controls,
    ):
        listed, total = await controls.list_payments(MSN, limit=100)
        demo = DemoControls(controls)
        desk = await PaymentDesk.open(DEMO_PROFILE, client, register_path(DEMO_PROFILE), demo=demo)
        try:
            rows = await desk.load_register()
            assert len(rows) == total > 0
            assert [r.reference for r in rows] == [item["reference"] for item in listed]  # newest first
            assert all(r.description and r.created_at and r.payment for r in rows)
            waiting = next(r for r in rows if r.payment and r.payment.state is State.CREATED)
            approved = await demo.customer(waiting.reference, "approve")
            assert approved.payment is not None
            assert approved.payment.state is State.AUTHORIZED
            fresh = await demo.new_payment(nok(4200), "1x Kanelbolle")
            assert fresh.payment is not None
            assert fresh.payment.state is State.CREATED
        finally:
            await desk.aclose()
        # Opening again does not seed again (the register remembers).
        desk = await PaymentDesk.open(
            DEMO_PROFILE, client, register_path(DEMO_PROFILE), demo=DemoControls(controls)
        )
        try:
            assert len(await desk.load_register()) == total + 1
        finally:
            await desk.aclose()


async def test_two_desks_on_one_register_see_each_others_work(bench: Bench) -> None:
    ref = await bench.approved_payment(9900)
    second_client = bench.new_client()
    other = await bench.open_desk(second_client)
    try:
        assert [t.reference for t in await other.load_register()] == [ref]
        await other.add_references("added-by-other-1")
        result = await bench.desk.cancel(ref)
        assert result.released == nok(9900)
        # The other desk reads the snapshot the first one saved, and refuses a second cancel.
        with pytest.raises(ActionNotPossibleError, match="Already cancelled"):
            await other.cancel(ref)
        assert {t.reference for t in await bench.desk.load_register()} == {ref, "added-by-other-1"}
        assert len(await other.journal()) == 1
        assert await other.recover_pending() == []
    finally:
        await other.aclose()
        await second_client.aclose()
    assert (await bench.event_names(ref)).count("CANCELLED") == 1


WRITER = """
import sys
from pathlib import Path
from epay_desktop.store import NewEntry, Store
with Store(Path(sys.argv[1])) as store:
    for i in range(int(sys.argv[2])):
        store.register.add("123456", [NewEntry(f"proc-b-{i:06d}")])
"""


async def test_two_processes_writing_one_register_lose_nothing(bench: Bench) -> None:
    count = 150
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(bench.register), str(count), env=env, stderr=asyncio.subprocess.PIPE
    )
    for i in range(count):
        await bench.desk.add_references(f"proc-a-{i:06d}")
    _out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    refs = {t.reference for t in await bench.desk.load_register()}
    assert {f"proc-a-{i:06d}" for i in range(count)} <= refs
    assert {f"proc-b-{i:06d}" for i in range(count)} <= refs


async def test_a_locked_register_gives_a_clear_error_and_loses_nothing(bench: Bench) -> None:
    ref = await bench.approved_payment(5000)
    holder = await asyncio.to_thread(Store, bench.register)
    try:
        await asyncio.to_thread(holder.db.conn.execute, "BEGIN EXCLUSIVE")
        # A short wait so the test stays quick; the app waits 5 s before giving up.
        bench.desk.store.db.conn.execute("PRAGMA busy_timeout = 50")
        with pytest.raises(RegisterLockedError, match="busy"):
            await bench.desk.add_references("late-arrival-1")
        # A cancel is refused before anything is sent: the payment is read (fresh figures), but
        # neither they nor the intent can be saved, so no cancel goes out (checked below).
        with pytest.raises(RegisterLockedError):
            await bench.desk.cancel(ref)
        await asyncio.to_thread(holder.db.conn.execute, "ROLLBACK")
    finally:
        await asyncio.to_thread(holder.close)
    assert {t.reference for t in await bench.desk.load_register()} == {ref}
    assert (await bench.event_names(ref)).count("CANCELLED") == 0
    result = await bench.desk.cancel(ref)  # and once free, it works
    assert result.released == nok(5000)
