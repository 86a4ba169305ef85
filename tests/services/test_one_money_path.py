"""One money path: the same fault scenarios through the window's desk and through ``epay`` end in the
same journal outcome, because both send through the one journaled-send engine.

Real parts: the sandbox (in-process behind a fault-injecting transport, or under uvicorn for the kill),
the real client, real SQLite journals (the desk's register; the command line's journal in the app home).
"""

from __future__ import annotations

import asyncio
import importlib
import io
import os
import signal
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from epay_desktop.api import (
    Credentials,
    Environment,
    EPaymentClient,
    NotSentError,
    OutcomeUnknownError,
    RefusedError,
    SandboxControls,
    new_idempotency_key,
)
from epay_desktop.cli import main as epay
from epay_desktop.domain import Currency, Money
from epay_desktop.sandbox import SandboxConfig, create_app
from epay_desktop.services import NeedsDecisionError, PaymentDesk, Profile, ProfileKind
from epay_desktop.services.elsewhere import cli_journal_path
from epay_desktop.store import Intent, IntentStatus, Operation, Store
from tests.services.conftest import fast_retry
from tests.support.sandbox_server import running_sandbox

pytestmark = pytest.mark.anyio

MSN = "123456"
BASE_URL = "http://sandbox.epay.local"
CREDENTIALS = Credentials("demo-client", "demo-secret", "demo-subscription-key", MSN)
AMOUNT = "30.00"
NOK_30 = Money(3000, Currency.NOK)
MOVE_SUFFIXES = ("/cancel", "/capture", "/refund")


class Faulty(httpx.AsyncBaseTransport):
    """In front of the sandbox, faults on demand for the money-moving calls (the sandbox's own
    controls and the reads pass unless the network is ``down``)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.drop_next = 0  # commit, then lose the answer
        self.fail_next: list[int] = []  # answer with these statuses first (the sandbox never sees them)
        self.refuse = False  # every move refused with a 400 (the sandbox never sees it)
        self.down = False  # nothing connects
        self.moves = 0  # money-moving requests that reached this transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("network is down", request=request)
        moving = request.method == "POST" and request.url.path.endswith(MOVE_SUFFIXES)
        if not moving:
            return await self.inner.handle_async_request(request)
        self.moves += 1
        if self.fail_next:
            status = self.fail_next.pop(0)
            return _problem(status, "Injected", "3010")
        if self.refuse:
            return _problem(400, "Payment is in a state that does not allow this", "6190")
        response = await self.inner.handle_async_request(request)
        if self.drop_next:
            self.drop_next -= 1
            await response.aread()
            await response.aclose()
            raise httpx.ReadError("connection reset after the server committed")
        return response


def _problem(status: int, title: str, code: str) -> httpx.Response:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": title,
        "extraDetails": [{"name": "ErrorCode", "reason": code}],
    }
    return httpx.Response(status, json=body, headers={"Content-Type": "application/problem+json"})


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the person was told: ``kind`` is ok, refused, not sent, unknown or needs decision."""

    kind: str
    text: str


class Driver:
    """One way a person moves money: the window's desk, or the ``epay`` command."""

    name = ""
    profile = ""

    def __init__(self, transport: Faulty, register: Path) -> None:
        self.transport = transport
        self.register = register

    async def capture(self, reference: str, amount: str, *, decided: bool = False) -> Outcome:
        raise NotImplementedError

    def journal_file(self) -> Path:
        raise NotImplementedError

    async def intents(self) -> list[Intent]:
        def read() -> list[Intent]:
            with Store(self.journal_file()) as store:
                return store.journal.all()

        return await asyncio.to_thread(read)

    async def pending_intent(self, reference: str, *, attempts: int, age: timedelta) -> Intent:
        """An intent in this driver's journal as if its call was interrupted ``age`` ago."""

        def write() -> Intent:
            with Store(self.journal_file()) as store:
                intent = store.journal.begin(
                    operation=Operation.CAPTURE,
                    profile=self.profile,
                    msn=MSN,
                    reference=reference,
                    amount=NOK_30,
                    idempotency_key=new_idempotency_key(),
                    os_user="interrupted",
                    now=datetime.now(UTC) - age,
                )
                for _ in range(attempts):
                    store.journal.note_attempt(intent.id)
                found = store.journal.get(intent.id)
                assert found is not None
                return found

        return await asyncio.to_thread(write)


class DeskDriver(Driver):
    """The window's desk: opened for each operation (as after a restart), closed after it."""

    name = "desk"
    profile = "Demo"

    def journal_file(self) -> Path:
        return self.register

    async def capture(self, reference: str, amount: str, *, decided: bool = False) -> Outcome:
        profile = Profile(self.profile, ProfileKind.CUSTOM, MSN, "demo-client", BASE_URL)
        client = EPaymentClient(
            Environment.sandbox(BASE_URL), CREDENTIALS, transport=self.transport, retry=fast_retry()
        )
        desk = await PaymentDesk.open(profile, client, self.register, operator="tester")
        try:
            await desk.add_references(reference)
            if decided:
                (intent,) = await desk.pending_intents()
                result = await desk.resume_intent(intent.id)
            else:
                result = await desk.capture(reference, Money.parse(amount, Currency.NOK))
            return Outcome("ok", result.message)
        except OutcomeUnknownError as error:
            return Outcome("unknown", str(error))
        except NeedsDecisionError as error:
            return Outcome("needs decision", str(error))
        except RefusedError as error:
            return Outcome("refused", str(error))
        except NotSentError as error:
            return Outcome("not sent", str(error))
        finally:
            await desk.aclose()
            await client.aclose()


class CliDriver(Driver):
    """``epay capture REF AMOUNT`` (its in-process sandbox is the test's, behind the faults)."""

    name = "cli"
    profile = "epay-cli sandbox"

    def journal_file(self) -> Path:
        return cli_journal_path()

    async def capture(self, reference: str, amount: str, *, decided: bool = False) -> Outcome:
        argv = ["capture", reference, amount] + (["--resend"] if decided else [])
        out, err = io.StringIO(), io.StringIO()

        def run() -> int:
            with redirect_stdout(out), redirect_stderr(err):
                return epay(argv, stdin=io.StringIO(""))

        code = await asyncio.to_thread(run)
        text = out.getvalue() + err.getvalue()
        kinds = {0: "ok", 1: "refused", 3: "unknown", 4: "not sent"}
        kind = kinds.get(code, f"exit {code}")
        if code == 3 and "not sent again by itself" in text:
            kind = "needs decision"
        return Outcome(kind, text)


@dataclass
class Stage:
    transport: Faulty
    driver: Driver
    reference: str

    async def captured(self) -> list[str | None]:
        """The idempotency keys of the payment's CAPTURED events (read past the faults)."""
        async with EPaymentClient(
            Environment.sandbox(BASE_URL), CREDENTIALS, transport=self.transport.inner
        ) as client:
            events = await client.get_events(self.reference)
        return [e.idempotency_key for e in events if e.name.value == "CAPTURED"]

    async def only_intent(self) -> Intent:
        (intent,) = await self.driver.intents()
        return intent


DRIVERS: dict[str, Callable[[Faulty, Path], Driver]] = {"desk": DeskDriver, "cli": CliDriver}


@pytest.fixture(params=sorted(DRIVERS))
async def stage(request: pytest.FixtureRequest, app_home: Path, monkeypatch: pytest.MonkeyPatch) -> Stage:
    inner = httpx.ASGITransport(app=create_app(SandboxConfig(data="empty", rate_limits=False)))
    transport = Faulty(inner)
    connection = importlib.import_module("epay_desktop.cli.connection")
    monkeypatch.setattr(connection, "in_process_sandbox", lambda: transport)
    reference = f"one-path-{request.param}-0001"
    async with (
        EPaymentClient(Environment.sandbox(BASE_URL), CREDENTIALS, transport=inner) as client,
        SandboxControls(BASE_URL, transport=inner) as controls,
    ):
        await client.create_payment(
            reference=reference,
            amount=Money(10000, Currency.NOK),
            description="One money path",
            phone_number="4791234567",
        )
        await controls.customer(MSN, reference, "approve")
    return Stage(transport, DRIVERS[request.param](transport, app_home / "register.sqlite3"), reference)


async def test_an_answer_dropped_after_commit_is_settled_from_the_event_log(stage: Stage) -> None:
    stage.transport.drop_next = 10  # every attempt's answer is lost: the client's retries end unknown
    outcome = await stage.driver.capture(stage.reference, AMOUNT)
    assert outcome.kind == "ok", outcome.text
    assert "event log shows it went through" in outcome.text
    intent = await stage.only_intent()
    assert intent.status is IntentStatus.RECONCILED
    assert await stage.captured() == [intent.idempotency_key]


async def test_a_5xx_then_success_is_one_capture_with_one_key(stage: Stage) -> None:
    stage.transport.fail_next = [503]
    outcome = await stage.driver.capture(stage.reference, AMOUNT)
    assert outcome.kind == "ok", outcome.text
    intent = await stage.only_intent()
    assert intent.status is IntentStatus.SUCCEEDED
    assert intent.attempts == 1  # the client's retry is the same attempt of the intent
    assert stage.transport.moves == 2
    assert await stage.captured() == [intent.idempotency_key]


async def test_a_refused_resend_with_nothing_in_the_log_fails_saying_the_log_was_read(stage: Stage) -> None:
    interrupted = await stage.driver.pending_intent(stage.reference, attempts=1, age=timedelta(minutes=5))
    stage.transport.refuse = True
    outcome = await stage.driver.capture(stage.reference, AMOUNT)
    assert outcome.kind == "refused", outcome.text
    assert "6190" in outcome.text
    intent = await stage.only_intent()
    assert intent.id == interrupted.id
    assert intent.status is IntentStatus.FAILED
    assert intent.outcome.startswith("The API refused the resend (")
    assert intent.outcome.endswith("the event log shows no capture, so nothing moved.")
    assert await stage.captured() == []


async def test_network_down_on_resume_keeps_the_intent_and_says_its_key(stage: Stage) -> None:
    interrupted = await stage.driver.pending_intent(stage.reference, attempts=1, age=timedelta(minutes=5))
    stage.transport.down = True
    outcome = await stage.driver.capture(stage.reference, AMOUNT)
    assert outcome.kind == "unknown", outcome.text
    assert interrupted.idempotency_key in outcome.text
    if stage.driver.name == "cli":
        assert f"epay capture {stage.reference} {AMOUNT} --key {interrupted.idempotency_key}" in outcome.text
    intent = await stage.only_intent()
    assert intent.status is IntentStatus.PENDING
    assert intent.attempts == 2
    stage.transport.down = False
    assert await stage.captured() == []


async def test_a_resume_reads_the_event_log_before_sending(stage: Stage) -> None:
    """Issue 10 item 3 (first half): the capture went through before the interruption; the resume
    finds it in the event log and sends nothing."""
    interrupted = await stage.driver.pending_intent(stage.reference, attempts=1, age=timedelta(minutes=5))
    async with EPaymentClient(
        Environment.sandbox(BASE_URL), CREDENTIALS, transport=stage.transport.inner
    ) as client:
        await client.capture(stage.reference, NOK_30, idempotency_key=interrupted.idempotency_key)
    outcome = await stage.driver.capture(stage.reference, AMOUNT)
    assert outcome.kind == "ok", outcome.text
    assert stage.transport.moves == 0
    assert (await stage.only_intent()).status is IntentStatus.RECONCILED
    assert await stage.captured() == [interrupted.idempotency_key]


async def test_an_attempt_older_than_a_day_is_not_resent_without_a_decision(stage: Stage) -> None:
    """Issue 10 item 3: the API may have forgotten a key after 24 hours, so a resend could capture
    twice. The command line follows the desk's rule: nothing is sent until the person decides."""
    interrupted = await stage.driver.pending_intent(stage.reference, attempts=1, age=timedelta(hours=25))
    outcome = await stage.driver.capture(stage.reference, AMOUNT)
    assert outcome.kind == "needs decision", outcome.text
    assert stage.transport.moves == 0
    intent = await stage.only_intent()
    assert (intent.status, intent.attempts) == (IntentStatus.PENDING, 1)

    decided = await stage.driver.capture(stage.reference, AMOUNT, decided=True)
    assert decided.kind == "ok", decided.text
    intent = await stage.only_intent()
    assert intent.status is IntentStatus.SUCCEEDED
    assert await stage.captured() == [interrupted.idempotency_key]


SCRIPT = Path(__file__).with_name("kill_midway.py")
ROOT = Path(__file__).resolve().parents[2]


def _wait_for_marker(path: Path, running: Callable[[], bool], timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if not running() or time.monotonic() > deadline:
            return ""
        time.sleep(0.01)
    return path.read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("mode", sorted(DRIVERS))
async def test_killed_between_commit_and_answer_then_resumed_once(
    mode: str, tmp_path: Path, app_home: Path
) -> None:
    register = tmp_path / "register.sqlite3"
    marker = tmp_path / "intent-committed"
    reference = f"one-path-kill-{mode}-01"
    with running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as url:
        async with (
            EPaymentClient(Environment.sandbox(url), CREDENTIALS, retry=fast_retry()) as client,
            SandboxControls(url) as controls,
        ):
            await client.create_payment(
                reference=reference,
                amount=Money(10000, Currency.NOK),
                description="Killed midway",
                phone_number="4791234567",
            )
            await controls.customer(MSN, reference, "approve")
            if mode == "desk":
                profile = Profile("Demo", ProfileKind.CUSTOM, MSN, "demo-client", url)
                desk = await PaymentDesk.open(profile, client, register, operator="tester")
                await desk.add_references(reference)
                await desk.aclose()
            # Every ePayment answer now takes 3 s: the kill lands while the capture is in flight.
            await controls.set_faults(latency_ms=3000)
            env = dict(os.environ, PYTHONPATH=str(ROOT), EPAY_DESKTOP_HOME=str(app_home))
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(SCRIPT),
                mode,
                url,
                str(register),
                reference,
                AMOUNT,
                str(marker),
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                key = await asyncio.to_thread(_wait_for_marker, marker, lambda: process.returncode is None)
                if not key:
                    _out, err = await process.communicate()
                    pytest.fail(f"the script never committed its intent: {err.decode()[-2000:]}")
                process.send_signal(signal.SIGKILL)
                await process.communicate()
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.communicate()
            assert process.returncode == -signal.SIGKILL
            await controls.set_faults()
            # Whether the killed request still reached the sandbox depends on where the kill landed; past
            # its delay, the event log says which. Either way the resume must capture exactly once.
            await asyncio.sleep(3.5)
            reached = [e for e in await client.get_events(reference) if e.name.value == "CAPTURED"]
            expected = IntentStatus.RECONCILED if reached else IntentStatus.SUCCEEDED

            driver = DRIVERS[mode](Faulty(httpx.AsyncHTTPTransport()), register)  # for its journal
            outcome = await _resume_over_http(driver, url, reference)
            assert outcome.kind == "ok", outcome.text
            (intent,) = await driver.intents()
            assert intent.idempotency_key == key
            assert intent.status is expected
            events = await client.get_events(reference)
            assert [e.idempotency_key for e in events if e.name.value == "CAPTURED"] == [key]


async def _resume_over_http(driver: Driver, url: str, reference: str) -> Outcome:
    """The same capture again, against the sandbox under uvicorn."""
    if isinstance(driver, CliDriver):
        out, err = io.StringIO(), io.StringIO()

        def run() -> int:
            with redirect_stdout(out), redirect_stderr(err):
                return epay(["--base-url", url, "capture", reference, AMOUNT], stdin=io.StringIO(""))

        code = await asyncio.to_thread(run)
        return Outcome("ok" if code == 0 else f"exit {code}", out.getvalue() + err.getvalue())
    profile = Profile("Demo", ProfileKind.CUSTOM, MSN, "demo-client", url)
    async with EPaymentClient(Environment.sandbox(url), CREDENTIALS, retry=fast_retry()) as client:
        desk = await PaymentDesk.open(profile, client, driver.register, operator="tester")
        try:
            result = await desk.capture(reference, NOK_30)
        finally:
            await desk.aclose()
    return Outcome("ok", result.message)
