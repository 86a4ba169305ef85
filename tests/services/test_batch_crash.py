"""A batch capture killed (SIGKILL) mid-way in a subprocess: the next desk's recovery finishes what was
sent (with its keys) and says so; what was never sent has no intent; every payment is captured at most
once and none is lost. The sandbox runs under uvicorn (real HTTP)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from epay_desktop.api import Environment, EPaymentClient, SandboxControls
from epay_desktop.sandbox import SandboxConfig
from epay_desktop.services import PaymentDesk, Profile, ProfileKind
from tests.services.conftest import fast_retry, nok
from tests.services.test_crash import CREDENTIALS, ROOT, _wait_for_marker
from tests.support.sandbox_server import running_sandbox

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SCRIPT = Path(__file__).with_name("crash_batch.py")


async def test_a_batch_killed_mid_way_is_finished_by_recovery_each_payment_once(
    tmp_path: Path, app_home: Path
) -> None:
    register = tmp_path / "register.sqlite3"
    marker = tmp_path / "batch-started"
    with running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as base_url:
        profile = Profile("Training room", ProfileKind.CUSTOM, "123456", "demo-client", base_url)
        async with (
            EPaymentClient(Environment.sandbox(base_url), CREDENTIALS, retry=fast_retry()) as client,
            SandboxControls(base_url) as controls,
        ):
            desk = await PaymentDesk.open(profile, client, register, operator="tester")
            refs = []
            for i in range(6):
                tracked = await desk.create_payment(nok(10_000 + i), f"Batch {i}", "4791234567")
                await controls.customer("123456", tracked.reference, "approve")
                await desk.refresh(tracked.reference)
                refs.append(tracked.reference)
            await desk.aclose()

            await controls.set_faults(latency_ms=2000)  # the kill lands while captures are on the wire
            env = dict(os.environ, PYTHONPATH=str(ROOT), EPAY_DESKTOP_HOME=str(app_home))
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(SCRIPT),
                base_url,
                str(register),
                str(marker),
                *refs,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                started = await asyncio.to_thread(
                    _wait_for_marker, marker, lambda: process.returncode is None
                )
                if not started:
                    _out, err = await process.communicate()
                    pytest.fail(f"the batch script never sent: {err.decode()[-2000:]}")
                process.send_signal(signal.SIGKILL)
                await process.communicate()
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.communicate()
            await controls.set_faults()
            await asyncio.sleep(2.5)  # the killed requests may still complete on the server

            desk = await PaymentDesk.open(profile, client, register, operator="tester")
            try:
                pending = await desk.pending_intents()
                assert pending  # what was on the wire when the process died
                sent = {intent.reference for intent in pending}
                results = await desk.recover_pending()
                assert {r.reference for r in results} == sent  # recovery lists what was sent
                assert all(r.finished for r in results)
                assert await desk.pending_intents() == []
                journaled = {intent.reference for intent in await desk.journal()}
                never_sent = [r for r in refs if r not in journaled]
                for ref in refs:
                    events = [e.name.value for e in await client.get_events(ref)]
                    assert events.count("CAPTURED") == (1 if ref in journaled else 0), ref
                for ref in never_sent:  # none lost: still reserved, can be captured now
                    row = await desk.refresh(ref)
                    assert row.payment is not None
                    assert row.payment.aggregate.captured == nok(0)
            finally:
                await desk.aclose()
