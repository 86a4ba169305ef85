"""What a crash left unfinished, on the next start through the composition root, against the in-process
Demo sandbox and a real register with pending intents: a finished one gets a status line, the ones
that need the person a non-modal notice; "Send again" cancels with the intent's own key, "Abandon"
reads the event log and closes it as failed, "Later" leaves it open."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from epay_desktop import paths
from epay_desktop.api import new_idempotency_key
from epay_desktop.app import Controller, open_demo
from epay_desktop.domain import Currency, Money
from epay_desktop.services import DEMO_PROFILE, IntentStatus, PaymentDesk, register_path
from epay_desktop.store import Operation
from epay_desktop.ui.dialogs.recovery_notice import LATER, RecoveryNotice
from tests.support.waiting import wait_until
from tests.ui.test_app_sessions import app_run, secrets  # noqa: F401  (fixtures)


async def pending(desk: PaymentDesk, reference: str, *, attempts: int, age_hours: float = 0) -> int:
    started = datetime.now(UTC) - timedelta(hours=age_hours)
    intent = await asyncio.to_thread(
        desk.store.journal.begin,
        operation=Operation.CANCEL,
        profile="Demo",
        msn=desk.profile.merchant_serial_number,
        reference=reference,
        amount=None,
        idempotency_key=new_idempotency_key(),
        os_user="tester",
        now=started,
    )
    for _ in range(attempts):  # sent when it started (then the app crashed)
        await asyncio.to_thread(desk.store.journal.note_attempt, intent.id, now=started)
    return int(intent.id)


async def crashed_world() -> dict[str, Any]:
    """The Demo register and sandbox as a crash left them: four approved payments, each with a cancel
    intent without outcome: never sent; sent once an hour ago; sent once two days ago (two of these)."""
    session = await open_demo(
        register_path(DEMO_PROFILE), state_file=paths.data_dir() / "demo-sandbox.sqlite3"
    )
    try:
        desk = session.desk
        assert desk.demo is not None
        refs = []
        for n in range(4):
            tracked = await desk.demo.new_payment(Money(1_000 + n, Currency.NOK), f"Bun {n}")
            await desk.demo.customer(tracked.reference, "approve")
            refs.append(tracked.reference)
        ids = {
            "never_sent": await pending(desk, refs[0], attempts=0),
            "recent": await pending(desk, refs[1], attempts=1, age_hours=1),  # sent again by itself
            "old": await pending(desk, refs[2], attempts=1, age_hours=48),
            "elsewhere": await pending(desk, refs[3], attempts=1, age_hours=48),  # another window settles it
        }
    finally:
        await session.aclose()
    return {"refs": refs, "ids": ids}


def test_the_recovery_notice_offers_send_again_abandon_and_later(
    app_run: Callable[..., Any],  # noqa: F811
    ui_loop: asyncio.AbstractEventLoop,
) -> None:
    async def scenario(c: Controller) -> None:
        window = c.window
        await wait_until(lambda: window.recovery_flow.notice is not None, limit=10)
        notice = window.recovery_flow.notice
        assert isinstance(notice, RecoveryNotice)
        assert notice.isVisible()
        assert not notice.isModal()
        assert notice.windowModality().name == "NonModal"
        ids = world["ids"]
        refs = world["refs"]
        # The finished one is not asked about.
        assert set(notice.rows) == {ids["never_sent"], ids["old"], ids["elsewhere"]}
        assert "never sent" in notice.rows[ids["never_sent"]].text.text()
        assert "24 hours" in notice.rows[ids["old"]].text.text()
        assert all(r.send_again.isVisible() and r.abandon.isVisible() for r in notice.rows.values())
        # The recent one was sent again with its key by itself: one status line, nothing to decide.
        # (The status bar may already show the refresh that followed; the flow keeps what it said.)
        assert any("From last time" in said for said in window.recovery_flow.reported)
        desk = window.desk
        assert desk is not None
        await wait_until(lambda: not window.runner.is_running("load"), limit=10)

        def cancelled(reference: str) -> int | None:
            tracked = window.model.tracked(reference)
            payment = tracked.payment if tracked is not None else None
            return payment.aggregate.cancelled.value if payment is not None else None

        # Send again: the never-sent cancel goes now, with its own key.
        notice.rows[ids["never_sent"]].send_again.click()
        await wait_until(lambda: notice.rows[ids["never_sent"]].settled, limit=10)
        assert "released" in notice.outcome_text(ids["never_sent"])
        await wait_until(lambda: cancelled(refs[0]) == 1_000)
        intent = await asyncio.to_thread(desk.store.journal.get, ids["never_sent"])
        assert intent is not None
        assert intent.status is IntentStatus.SUCCEEDED

        # Abandon: the event log shows no cancel, so it is closed as failed; nothing is sent.
        notice.rows[ids["old"]].abandon.click()
        await wait_until(lambda: notice.rows[ids["old"]].settled, limit=10)
        assert "abandoned" in notice.outcome_text(ids["old"])
        intent = await asyncio.to_thread(desk.store.journal.get, ids["old"])
        assert intent is not None
        assert intent.status is IntentStatus.FAILED
        events = (await desk.refresh(refs[2])).events
        assert all(e.name.value != "CANCELLED" for e in events)

        # Another window abandons one while the notice still offers it: "Send again" then sends nothing
        # and the row settles, saying it is already finished, with no choice left to offer.
        await desk.abandon_intent(ids["elsewhere"])
        notice.rows[ids["elsewhere"]].send_again.click()
        await wait_until(lambda: notice.rows[ids["elsewhere"]].settled, limit=10)
        assert "already finished" in notice.outcome_text(ids["elsewhere"])
        assert not notice.rows[ids["elsewhere"]].send_again.isVisible()
        events = (await desk.refresh(refs[3])).events
        assert all(e.name.value != "CANCELLED" for e in events)
        assert await desk.pending_intents() == []
        notice.close()

    world = ui_loop.run_until_complete(crashed_world())  # before the app starts on that register
    app_run(scenario)


def test_later_leaves_the_intent_open(qtbot: Any) -> None:
    from epay_desktop.services import RecoveryOutcome, RecoveryResult

    result = RecoveryResult(7, "order-7", Operation.CANCEL, RecoveryOutcome.NEEDS_DECISION, "Never sent.")
    notice = RecoveryNotice([result])
    qtbot.addWidget(notice)
    notice.show()
    notice.rows[7].later.click()
    assert notice.rows[7].settled
    assert notice.outcome_text(7) == LATER
    assert not notice.rows[7].send_again.isVisible()
