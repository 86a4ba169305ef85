"""Issue 6, item 5: kill the app with SIGKILL after the intent is committed and before the answer is
recorded; a new desk on the same register finishes the intent; the sandbox (real HTTP, uvicorn) shows
exactly one CANCELLED event."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from epay_desktop.api import Credentials, Environment, EPaymentClient, SandboxControls
from epay_desktop.sandbox import SandboxConfig
from epay_desktop.services import IntentStatus, PaymentDesk, Profile, ProfileKind
from tests.services.conftest import fast_retry, nok
from tests.support.sandbox_server import running_sandbox

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SCRIPT = Path(__file__).with_name("crash_cancel.py")
ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = Credentials("demo-client", "demo-secret", "demo-subscription-key", "123456")


def _wait_for_marker(path: Path, running: Callable[[], bool], timeout: float = 30.0) -> str:
    """Wait (in a worker thread) until the script says its intent is committed."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if not running():
            return ""
        if time.monotonic() > deadline:
            return ""
        time.sleep(0.01)
    return path.read_text(encoding="utf-8")


async def test_sigkill_after_the_intent_is_committed_then_recovery_cancels_exactly_once(
    tmp_path: Path, app_home: Path
) -> None:
    register = tmp_path / "register.sqlite3"
    marker = tmp_path / "intent-committed"
    with running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as base_url:
        profile = Profile("Training room", ProfileKind.CUSTOM, "123456", "demo-client", base_url)
        async with (
            EPaymentClient(Environment.sandbox(base_url), CREDENTIALS, retry=fast_retry()) as client,
            SandboxControls(base_url) as controls,
        ):
            desk = await PaymentDesk.open(profile, client, register, operator="tester")
            tracked = await desk.create_payment(nok(15600), "3x Caffè latte", "4791234567")
            ref = tracked.reference
            await controls.customer("123456", ref, "approve")
            await desk.refresh(ref)
            await desk.aclose()

            # Every ePayment answer now takes 3 s: the kill lands while the cancel is in flight.
            await controls.set_faults(latency_ms=3000)
            env = dict(os.environ, PYTHONPATH=str(ROOT), EPAY_DESKTOP_HOME=str(app_home))
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(SCRIPT),
                base_url,
                str(register),
                ref,
                str(marker),
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                key = await asyncio.to_thread(_wait_for_marker, marker, lambda: process.returncode is None)
                if not key:
                    _out, err = await process.communicate()
                    pytest.fail(f"the crash script never committed its intent: {err.decode()[-2000:]}")
                process.send_signal(signal.SIGKILL)
                await process.communicate()
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.communicate()
            assert process.returncode == -signal.SIGKILL
            await controls.set_faults()

            desk = await PaymentDesk.open(profile, client, register, operator="tester")
            try:
                (pending,) = await desk.pending_intents()
                assert pending.idempotency_key == key
                assert pending.os_user == "crash-script"
                (result,) = await desk.recover_pending()
                # Attempted, minutes old: sent again with the same key by itself.
                assert result.finished
                assert "Cancelled" in str(result)
                assert "156.00\u00a0NOK" in str(result)
                assert await desk.pending_intents() == []
                (intent,) = await desk.journal()
                assert intent.status in (IntentStatus.SUCCEEDED, IntentStatus.RECONCILED)
                row = await desk.tracked(ref)
                assert row is not None
                assert row.payment is not None
                assert row.payment.aggregate.cancelled == nok(15600)
            finally:
                await desk.aclose()

            # The killed request may still complete on the server after its delay: wait it out, then
            # the log must still hold exactly one CANCELLED, carrying the journaled key.
            await asyncio.sleep(3.5)
            events = await client.get_events(ref)
            cancels = [e for e in events if e.name.value == "CANCELLED"]
            assert len(cancels) == 1
            assert cancels[0].idempotency_key == key
