"""The refresh flow against the in-process sandbox and a real register: offline marks and status, fast
polling of payments waiting for the customer, and the latest refresh winning.

The network outage is the one part faked: ``Network`` wraps the ASGI transport and, when told, raises
the ``httpx.ConnectError`` a pulled cable gives (the sandbox's played customer stays reachable)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt

from epay_desktop.api import RetryPolicy, SandboxControls
from epay_desktop.domain import Currency, Money, State, TrackedPayment
from epay_desktop.sandbox import SandboxConfig, create_app
from epay_desktop.services import DEMO_PROFILE, DEMO_SECRETS, DemoControls, PaymentDesk, client_for
from epay_desktop.services.changes import PaymentChanged
from epay_desktop.ui.aio import TaskRunner
from epay_desktop.ui.flows.refresh import (
    POLL_DELAY,
    POLL_INTERVAL_MS,
    READ_LIMIT_PER_MINUTE,
    READS_PER_REFRESH,
    RefreshFlow,
)
from epay_desktop.ui.table.changes import ChangesAdapter
from epay_desktop.ui.table.model import Column, PaymentRoles, PaymentsModel
from epay_desktop.ui.table.proxy import PaymentsFilterModel
from tests.support.waiting import wait_until

MSN = DEMO_PROFILE.merchant_serial_number


class Network(httpx.AsyncBaseTransport):
    """The app's network: ``down`` refuses every connection; ``hold`` keeps answers (already read at
    the sandbox) back until the event is set; ``reads`` counts GETs per payment reference."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.down = False
        self.hold: asyncio.Event | None = None
        self.reads: dict[str, int] = {}
        self.answered: dict[str, int] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        path = request.url.path
        if request.method == "GET" and path.startswith("/epayment/v1/payments/"):
            reference = path.split("/")[4]
            self.reads[reference] = self.reads.get(reference, 0) + 1
        hold = self.hold
        response = await self.inner.handle_async_request(request)
        if request.method == "GET" and path.startswith("/epayment/v1/payments/"):
            self.answered[reference] = self.answered.get(reference, 0) + 1
        if hold is not None:
            await response.aread()
            await hold.wait()
        return response


@dataclass
class Rig:
    desk: PaymentDesk
    network: Network
    controls: SandboxControls
    model: PaymentsModel
    changes: ChangesAdapter
    proxy: PaymentsFilterModel
    runner: TaskRunner
    errors: list[tuple[str, BaseException]] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    flows: list[RefreshFlow] = field(default_factory=list)

    def flow(self, **options: Any) -> RefreshFlow:
        flow = RefreshFlow(self.desk, self.changes, self.runner, **options)
        flow.status_changed.connect(self.statuses.append)
        flow.clock_moved.connect(self.model.set_now)  # as the window wires it
        self.flows.append(flow)
        return flow

    async def new_payment(self) -> TrackedPayment:
        assert self.desk.demo is not None
        return await self.desk.demo.new_payment(Money(4_200, Currency.NOK), "Kanelbolle")

    def state(self, reference: str) -> State | None:
        tracked = self.model.tracked(reference)
        assert tracked is not None
        return tracked.payment.state if tracked.payment is not None else None


@contextlib.asynccontextmanager
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    sandbox = create_app(SandboxConfig(data="empty"))
    asgi = httpx.ASGITransport(app=sandbox)
    network = Network(asgi)
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            client_for(DEMO_PROFILE, DEMO_SECRETS, transport=network, retry=RetryPolicy.none())
        )
        controls = await stack.enter_async_context(
            SandboxControls(DEMO_PROFILE.effective_base_url, transport=asgi)
        )
        desk = await PaymentDesk.open(
            DEMO_PROFILE, client, tmp_path / "register.sqlite3", demo=DemoControls(controls)
        )
        stack.push_async_callback(desk.aclose)
        model = PaymentsModel()
        changes = ChangesAdapter(model)
        changes.attach(desk.changes)  # as the window does: the table follows what the desk publishes
        proxy = PaymentsFilterModel()
        proxy.setSourceModel(model)
        errors: list[tuple[str, BaseException]] = []
        runner = TaskRunner(lambda name, error: errors.append((name, error)))
        r = Rig(desk, network, controls, model, changes, proxy, runner, errors)
        try:
            yield r
        finally:
            for flow in r.flows:
                flow.close()
            await runner.shutdown()
            changes.detach()
    assert not errors, errors


@pytest.fixture
def run(qt_loop: asyncio.AbstractEventLoop, tmp_path: Path) -> Callable[..., Any]:
    def runner(scenario: Callable[[Rig], Any]) -> Any:
        async def main() -> Any:
            async with rig(tmp_path) as r:
                return await scenario(r)

        return qt_loop.run_until_complete(main())

    return runner


def stale(r: Rig, reference: str) -> bool:
    row = r.model.row_of(reference)
    assert row is not None
    return bool(r.model.index(row, 0).data(PaymentRoles.STALE))


# --- offline --------------------------------------------------------------------------------------


def test_offline_refresh_marks_rows_and_says_the_list_is_as_of_its_last_fetch(
    run: Callable[..., Any],
) -> None:
    async def scenario(r: Rig) -> None:
        first, second = await r.new_payment(), await r.new_payment()
        flow = r.flow()
        assert not stale(r, first.reference)

        r.network.down = True
        await flow.refresh(r.model.references())
        assert flow.offline
        assert len(r.statuses) == 1
        assert r.statuses[0].startswith("Offline: could not reach the API")
        assert "as of its last fetch (just now)" in r.statuses[0]
        for reference in (first.reference, second.reference):
            assert stale(r, reference)
            tracked = r.model.tracked(reference)
            assert tracked is not None
            assert tracked.payment is not None
            tip = r.model.index(r.model.row_of(reference), Column.UPDATED).data(Qt.ItemDataRole.ToolTipRole)
            assert tip.startswith("Fetched just now; could not refresh: Could not")

        r.network.down = False
        await flow.refresh(r.model.references())
        assert not flow.offline
        assert r.statuses[-1] == "Online again: refreshed 2 payments."
        assert not stale(r, first.reference)
        assert not stale(r, second.reference)

    run(scenario)


def test_a_refused_payment_is_not_called_offline(run: Callable[..., Any]) -> None:
    async def scenario(r: Rig) -> None:
        await r.desk.add_references("no-such-payment-1")
        flow = r.flow()
        await flow.refresh(r.model.references())
        assert not flow.offline
        assert r.statuses
        assert r.statuses[-1].startswith("Could not refresh 1 payment: ")
        assert stale(r, "no-such-payment-1")

    run(scenario)


def test_the_timer_moves_the_models_now(run: Callable[..., Any]) -> None:
    async def scenario(r: Rig) -> None:
        tracked = await r.new_payment()
        later = datetime.now(UTC) + timedelta(hours=1)
        flow = r.flow(clock=lambda: later, auto_interval_ms=20)
        assert not stale(r, tracked.reference)
        r.network.down = True  # the tick's refresh fails; the row must turn stale from the clock alone
        flow.auto_timer.start()
        await wait_until(lambda: r.model.now == later)
        assert stale(r, tracked.reference)

    run(scenario)


# --- payments waiting for the customer ------------------------------------------------------------


def test_a_waiting_payment_updates_as_the_customer_acts(run: Callable[..., Any]) -> None:
    async def scenario(r: Rig) -> None:
        flow = r.flow(poll_interval_ms=30, poll_delay=timedelta(0))  # the auto refresh never runs
        tracked = await r.new_payment()
        assert tracked.payment is not None
        assert tracked.payment.state is State.CREATED
        assert flow.waiting() == [tracked.reference]
        assert flow.poll_timer.isActive()

        await r.controls.customer(MSN, tracked.reference, "approve")  # the customer, on the phone
        await wait_until(lambda: r.state(tracked.reference) is State.AUTHORIZED)
        # It left CREATED: no longer polled.
        await wait_until(lambda: not flow.poll_timer.isActive())
        assert flow.waiting() == []
        reads = r.network.reads[tracked.reference]
        await asyncio.sleep(0.15)
        assert r.network.reads[tracked.reference] == reads

    run(scenario)


def test_polling_starts_after_the_delay_and_stops_at_the_customers_timeout(run: Callable[..., Any]) -> None:
    async def scenario(r: Rig) -> None:
        now = [datetime.now(UTC)]
        flow = r.flow(clock=lambda: now[0], poll_interval_ms=20)  # the real 5 s delay, on a fake clock
        tracked = await r.new_payment()
        assert tracked.created_at is not None
        created = tracked.created_at
        assert flow.due_for_polling(created + POLL_DELAY - timedelta(seconds=1)) == []
        assert flow.due_for_polling(created + POLL_DELAY) == [tracked.reference]

        before = r.network.reads.get(tracked.reference, 0)
        now[0] = created + POLL_DELAY
        await wait_until(lambda: r.network.reads.get(tracked.reference, 0) >= before + 4)  # two polls
        now[0] = created + timedelta(minutes=10)  # the customer's time is up: stop (the sandbox is
        await wait_until(lambda: not flow.poll_timer.isActive())  # not told; the auto refresh will see)
        assert flow.waiting() == []
        assert r.state(tracked.reference) is State.CREATED

    run(scenario)


def test_only_payments_created_in_this_session_wait_before_their_first_fetch(run: Callable[..., Any]) -> None:
    async def scenario(r: Rig) -> None:
        flow = r.flow(poll_interval_ms=3_600_000)
        ours = await r.new_payment()
        unread = replace(ours, payment=None, events=(), fetched_at=None, fetch_error="Created; its details…")
        older = TrackedPayment("added-earlier-1", MSN, created_at=flow.session_started - timedelta(seconds=1))
        # Published as a register row would be (e.g. by another window or a shared register).
        r.desk.changes.publish(*(PaymentChanged(t, datetime.now(UTC), "team") for t in (unread, older)))
        assert flow.waiting() == [ours.reference]

    run(scenario)


def test_a_slow_answer_cannot_undo_a_newer_one(run: Callable[..., Any]) -> None:
    async def scenario(r: Rig) -> None:
        flow = r.flow(poll_interval_ms=3_600_000)
        tracked = await r.new_payment()
        reference = tracked.reference
        answered = r.network.answered.get(reference, 0)
        gate = asyncio.Event()
        r.network.hold = gate
        slow = asyncio.ensure_future(flow.refresh([reference]))  # reads CREATED, answer held back
        await wait_until(lambda: r.network.answered.get(reference, 0) == answered + 2)
        r.network.hold = None
        await r.controls.customer(MSN, reference, "approve")
        await flow.refresh_single(reference)  # started later: AUTHORIZED
        assert r.state(reference) is State.AUTHORIZED
        gate.set()
        await slow
        assert r.state(reference) is State.AUTHORIZED

    run(scenario)


def test_a_poll_never_overlaps_the_previous_one(run: Callable[..., Any]) -> None:
    async def scenario(r: Rig) -> None:
        flow = r.flow(poll_interval_ms=10, poll_delay=timedelta(0))
        assert not flow.poll_timer.isActive()  # nothing waits yet
        gate = asyncio.Event()
        tracked = await r.new_payment()
        before = r.network.reads.get(tracked.reference, 0)
        r.network.hold = gate  # a slow network: the first poll's answers do not come back yet
        await wait_until(lambda: r.network.reads.get(tracked.reference, 0) == before + 2)
        await asyncio.sleep(0.1)  # ten ticks
        assert r.network.reads[tracked.reference] == before + 2
        r.network.hold = None
        gate.set()
        await wait_until(lambda: r.network.reads[tracked.reference] >= before + 4)

    run(scenario)


def test_the_default_polling_stays_within_the_read_rate_limit() -> None:
    auto_refreshes_per_minute = 60_000 / 30_000
    per_minute = READS_PER_REFRESH * (60_000 / POLL_INTERVAL_MS + auto_refreshes_per_minute)
    assert per_minute <= READ_LIMIT_PER_MINUTE
    assert timedelta(seconds=5) == POLL_DELAY  # FACTS.md §12
