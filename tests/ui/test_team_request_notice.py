"""Whoever asked for a held refund is told how their request ended, in their own window, with real parts
(PostgreSQL, the sandbox and two ``epay-team`` instances under uvicorn on 127.0.0.1, two desktops
offscreen): Siri asks (on the first instance); Tove decides on her desktop (on the second instance);
Siri's status bar says sent / failed and why / rejected and why / expired, through the live stream,
never in a dialog; Tove's desktop is not told Siri's news."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import psycopg
import pytest
from PySide6.QtWidgets import QDialog, QMessageBox

from epay_desktop.services.team_inbox import ApprovalRequest
from tests.support.waiting import wait_until
from tests.team.conftest import MSN, bearer, token
from tests.team.test_approvals import _move_expiry
from tests.team.test_team_service import event_names
from tests.ui.test_team_window import SHOTS, World, close, desktop, held_refund, team_profile
from tests.ui.test_team_window import world as world

pytestmark = pytest.mark.slow


def ask_refund(world: World, reference: str, value: int, reason: str) -> int:
    """Siri asks to refund ``value`` of what was captured already: above the threshold, held."""
    siri = token(world.rig.first, "siri")
    asked = httpx.post(
        f"{world.rig.first}/api/v1/merchants/{MSN}/payments/{reference}/refund",
        json={"amount": {"value": value, "currency": "NOK"}, "reason": reason},
        headers=bearer(siri),
        timeout=30,
    )
    assert asked.status_code == 202, asked.text
    return int(asked.json()["approval"]["id"])


def said(controller: Any) -> list[str]:
    """What the window's status bar said, oldest first (Recent messages keeps it)."""
    return [text for _at, text in controller.window.status_line.history]


def told(controller: Any, request_id: int) -> list[str]:
    return [text for text in said(controller) if f"Your approval request #{request_id} " in text]


def test_the_asker_is_told_how_each_held_request_ended_without_a_dialog(
    ui_loop: asyncio.AbstractEventLoop, qapp: Any, world: World
) -> None:
    sent_ref, failed_ref, other_ref = world.references
    sent_id = held_refund(world, sent_ref, 10_000, "Returned")
    failed_id = held_refund(world, failed_ref, 25_000, "Damaged")
    # Meanwhile 30.00 NOK of it is refunded (below the threshold: sent at once), so 250.00 no longer fits.
    direct = httpx.post(
        f"{world.rig.first}/api/v1/merchants/{MSN}/payments/{failed_ref}/refund",
        json={"amount": {"value": 3_000, "currency": "NOK"}},
        headers=bearer(token(world.rig.first, "siri")),
        timeout=30,
    )
    assert direct.status_code == 200, direct.text
    rejected_id = held_refund(world, other_ref, 4_900, "Goodwill")
    expired_id = ask_refund(world, other_ref, 4_500, "Goodwill, smaller")

    async def main() -> None:
        siri = await desktop(qapp, team_profile(world.rig.first, "siri"))
        tove = await desktop(qapp, team_profile(world.rig.second, "tove"))
        try:
            inbox = tove.window.desk.approvals
            pending = {r.id: r for r in await inbox.requests()}
            assert set(pending) == {sent_id, failed_id, rejected_id, expired_id}

            await inbox.approve(pending[sent_id])
            await wait_until(lambda: told(siri, sent_id), limit=20, what=lambda: said(siri))
            assert told(siri, sent_id) == [
                f"Your approval request #{sent_id} was approved by tove and sent "
                f"({sent_ref}, 100.00\u00a0NOK)."
            ]

            await inbox.approve(pending[failed_id])
            await wait_until(lambda: told(siri, failed_id), limit=20, what=lambda: said(siri))
            (failed,) = told(siri, failed_id)
            assert (
                f"#{failed_id} was approved by tove but could not be sent ({failed_ref}, 250.00\u00a0NOK): "
                in failed
            )
            why = failed.split("NOK): ", 1)[1]
            assert why.startswith(f"{failed_ref}: ")  # which payment did not move,
            assert "refund at most" in why  # and why

            await inbox.reject(pending[rejected_id], "Not our policy.")
            await wait_until(lambda: told(siri, rejected_id), limit=20, what=lambda: said(siri))
            assert told(siri, rejected_id) == [
                f"Your approval request #{rejected_id} was rejected by tove: Not our policy. "
                f"Nothing was sent ({other_ref}, 49.00\u00a0NOK)."
            ]

            # Its time runs out (the clock moved for this request); the next look at the inbox expires it.
            def expire() -> None:
                with psycopg.connect(world.rig.config.database) as conn:
                    _move_expiry(conn, expired_id)

            await asyncio.to_thread(expire)
            await inbox.requests()
            await wait_until(lambda: told(siri, expired_id), limit=20, what=lambda: said(siri))
            assert told(siri, expired_id) == [
                f"Your approval request #{expired_id} expired without a decision: nothing was sent "
                f"({other_ref}, 45.00\u00a0NOK)."
            ]

            # A notice, not a dialog: nothing opened in Siri's window; each told once.
            assert not [w for w in siri.window.findChildren(QDialog) if w.isVisible()]
            assert not [w for w in siri.window.findChildren(QMessageBox) if w.isVisible()]
            assert len([t for t in said(siri) if t.startswith("Your approval request #")]) == 4
            # Tove decided; the news is Siri's: her desktop is not told.
            await asyncio.sleep(0.5)
            assert not [t for t in said(tove) if t.startswith("Your approval request #")]
            SHOTS.mkdir(parents=True, exist_ok=True)
            siri.window.resize(1200, 700)
            siri.window.show_status(told(siri, rejected_id)[0])
            assert siri.window.grab().save(str(SHOTS / "team-request-ended.png"))
        finally:
            await close(tove)
            await close(siri)

    ui_loop.run_until_complete(main())
    assert event_names(world.rig, sent_ref).count("REFUNDED") == 1
    assert event_names(world.rig, failed_ref).count("REFUNDED") == 1  # the 30.00 sent at once only
    assert "REFUNDED" not in event_names(world.rig, other_ref)


def test_a_request_that_cannot_be_read_is_still_told_by_how_it_ended() -> None:
    from epay_desktop.services.team_inbox import ended_text

    assert ended_text(7, "expired", None) == "Your approval request #7 expired: nothing was sent."
    approved_late = ApprovalRequest(
        7, "refund", (), None, "why", "siri", None, None, "expired", decided_by="tove"
    )
    assert "approved by tove but its time ran out" in ended_text(7, "expired", approved_late)
