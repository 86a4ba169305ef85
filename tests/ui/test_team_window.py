"""The window in Team mode, end to end with real parts: a throwaway PostgreSQL, the sandbox and two
``epay-team`` instances under uvicorn on 127.0.0.1, the app's controller and windows offscreen, the
session token in an in-memory keyring (the one thing faked: there is no OS keyring here).

Login → list → cancel through the server; a change made through one desktop reaching a second desktop
(on the other instance) through the live stream, with "… is cancelling…" while it runs; a role the
server refuses shown as a sentence; the server gone → the last list, read-only, with a banner."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from epay_desktop.api import SandboxControls
from epay_desktop.app import Controller, open_profile, remember_profile
from epay_desktop.domain import Currency, Money, State
from epay_desktop.sandbox import SandboxConfig
from epay_desktop.services import Profile, ProfileKind, ProfileStore
from epay_desktop.team.config import Merchant, TeamConfig
from epay_desktop.ui.dialogs.feedback import Tone
from epay_desktop.ui.dialogs.team_login import LoginDialog
from epay_desktop.ui.window.main_window import MainWindow
from tests.services.keyrings import MemoryKeyring
from tests.support.postgres import Cluster
from tests.support.sandbox_server import running_sandbox
from tests.support.waiting import wait_until
from tests.team.conftest import CREDENTIALS, MSN, PASSWORD, TeamRig, bearer, running_team, token
from tests.team.test_team_service import add_agents, approved_payment, create_admin, event_names

# Where the tests leave pictures of the window (looked at by a person; docs/ has copies).
SHOTS = Path(os.environ.get("EPAY_TEST_SHOTS") or tempfile.gettempdir()) / "epay-team-shots"


@dataclass
class World:
    rig: TeamRig
    stop_first: Callable[[], None]
    start_first_again: Callable[[], None]
    references: list[str]


@pytest.fixture
def world(
    postgres_cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> Iterator[World]:
    """The sandbox, two team instances on one schema, agents, and three approved payments the team
    tracks. ``stop_first`` stops the first instance (the one the first desktop talks to)."""
    conninfo = postgres_cluster.new_schema("desk")
    with ExitStack() as stack:
        from epay_desktop.api import Environment

        sandbox = stack.enter_context(running_sandbox(SandboxConfig(data="empty", rate_limits=False)))
        # A refund above 40.00 NOK waits for a second supervisor (four eyes).
        merchant = Merchant(
            Environment.sandbox(sandbox), CREDENTIALS, approval_threshold=Money(4_000, Currency.NOK)
        )
        config = TeamConfig(conninfo, (merchant,))
        first_cm = running_team(config, migrate=True)
        first = first_cm.__enter__()
        second = stack.enter_context(running_team(config))
        stopped = False

        def stop_first() -> None:
            nonlocal stopped
            if not stopped:
                stopped = True
                first_cm.__exit__(None, None, None)

        def start_first_again() -> None:
            nonlocal first_cm, stopped
            port = int(first.rsplit(":", 1)[1])
            first_cm = running_team(config, port=port)
            first_cm.__enter__()
            stopped = False

        stack.callback(stop_first)
        rig = TeamRig(sandbox, config, first, second)
        assert create_admin(rig, tmp_path, monkeypatch) == 0
        admin = token(first, "admin")
        add_agents(rig, admin, kari="agent", ola="agent", vera="viewer", siri="supervisor", tove="supervisor")
        references = [approved_payment(rig, value) for value in (10_000, 25_000, 4_900)]
        added = httpx.post(
            f"{first}/api/v1/merchants/{MSN}/payments",
            json={"references": references},
            headers=bearer(admin),
            timeout=30,
        )
        assert added.status_code == 201, added.text
        for reference in references:
            read = httpx.post(
                f"{first}/api/v1/merchants/{MSN}/payments/{reference}/refresh",
                headers=bearer(admin),
                timeout=30,
            )
            assert read.status_code == 200, read.text
        yield World(rig, stop_first, start_first_again, references)


def team_profile(url: str, agent: str) -> Profile:
    profile = Profile(f"Desk {agent}", ProfileKind.TEAM, MSN, base_url=url, agent=agent)
    return ProfileStore().save(profile)


async def desktop(qapp: Any, profile: Profile) -> Controller:
    """A desktop as the app starts it on a Team profile without a session: the login dialog opens;
    the agent types the password; the window opens on the team's list."""
    window = MainWindow(show_error_dialogs=False, auto_refresh_ms=3_600_000)
    window.show()
    controller = Controller(
        qapp, window, open_session=open_profile, remember_profile=remember_profile, show_error_dialogs=False
    )
    assert not await controller.start(profile)  # no session yet
    await wait_until(lambda: getattr(controller, "login_dialog", None) is not None)
    dialog: LoginDialog = controller.login_dialog
    await wait_until(dialog.isVisible)
    dialog.password.setText(PASSWORD)
    dialog.login_button.click()
    await wait_until(lambda: controller.window.bound and controller.window.model.rowCount() == 3, limit=20)
    await wait_until(lambda: not controller.window.runner.is_running("load"), limit=20)
    return controller


async def close(controller: Controller) -> None:
    for task in controller.runner.running():
        await asyncio.wait_for(task, 20)
    window = controller.window
    await controller.aclose()
    for box in window.findChildren(QMessageBox):
        box.close()
    window.close()
    if shiboken6.isValid(window):
        shiboken6.delete(window)


def state_of(controller: Controller, reference: str) -> State | None:
    tracked = controller.window.model.tracked(reference)
    return tracked.payment.state if tracked is not None and tracked.payment is not None else None


def cancelled(controller: Controller, reference: str) -> bool:
    """The row shows the whole amount released (a cancel of a reserved payment)."""
    tracked = controller.window.model.tracked(reference)
    payment = tracked.payment if tracked is not None else None
    return payment is not None and payment.aggregate.cancelled == payment.amount


async def cancel_in(controller: Controller, reference: str) -> None:
    window = controller.window
    assert window.select_reference(reference)
    await wait_until(window.action("cancel-payment").isEnabled)
    window.action("cancel-payment").trigger()
    await wait_until(lambda: window.cancel_flow.dialog is not None and window.cancel_flow.dialog.isVisible())
    dialog = window.cancel_flow.dialog
    assert dialog is not None
    dialog.cancel_button.click()


def test_login_list_and_cancel_through_the_team_server(
    ui_loop: asyncio.AbstractEventLoop, qapp: Any, world: World, memory_keyring: MemoryKeyring
) -> None:
    reference = world.references[0]

    async def main() -> None:
        kari = await desktop(qapp, team_profile(world.rig.first, "kari"))
        try:
            window = kari.window
            assert memory_keyring.passwords[("epay-desktop", "Desk kari:team_token")]
            assert window.banner.objectName() == "TeamBanner"
            assert "logged in as kari (agent)" in window.banner.text()
            assert state_of(kari, reference) is State.AUTHORIZED
            # The team server makes no payments: the window does not offer what would only be refused.
            new_payment = window.action("new-payment")
            assert not new_payment.isEnabled()
            assert "shop's own system" in new_payment.statusTip()
            assert "shop's own system" in new_payment.toolTip()
            assert window.action("add-payments").isEnabled()
            await cancel_in(kari, reference)
            await wait_until(lambda: cancelled(kari, reference), limit=20)
            await wait_until(lambda: not window.runner.is_running(f"cancel:{reference}"), limit=20)
            assert "released to the customer" in window.statusBar().currentMessage()
            # Who did what, as the server tells it (the journal is the server's).
            await wait_until(lambda: "Last: cancel by kari" in kari.team_presence.last_action.text())
            SHOTS.mkdir(parents=True, exist_ok=True)
            window.resize(1200, 700)
            assert window.grab().save(str(SHOTS / "team-window.png"))
        finally:
            await close(kari)

    ui_loop.run_until_complete(main())
    assert event_names(world.rig, reference).count("CANCELLED") == 1  # sent once, by the server


def test_a_role_the_server_refuses_is_shown_as_a_sentence(
    ui_loop: asyncio.AbstractEventLoop, qapp: Any, world: World
) -> None:
    reference = world.references[1]

    async def main() -> None:
        vera = await desktop(qapp, team_profile(world.rig.first, "vera"))
        try:
            await cancel_in(vera, reference)
            await wait_until(lambda: "that needs the agent role" in vera.window.statusBar().currentMessage())
            assert "As viewer you may not cancel" in vera.window.statusBar().currentMessage()
            assert state_of(vera, reference) is State.AUTHORIZED
        finally:
            await close(vera)

    ui_loop.run_until_complete(main())
    assert "CANCELLED" not in event_names(world.rig, reference)


def test_a_cancel_through_one_desktop_reaches_another_on_the_other_instance(
    ui_loop: asyncio.AbstractEventLoop, qapp: Any, world: World
) -> None:
    reference = world.references[2]

    async def main() -> None:
        kari = await desktop(qapp, team_profile(world.rig.first, "kari"))
        ola = await desktop(qapp, team_profile(world.rig.second, "ola"))
        controls = SandboxControls(world.rig.sandbox)
        try:
            assert state_of(ola, reference) is State.AUTHORIZED
            # The sandbox holds every answer a while: Ola sees Kari at work before it is done.
            await controls.set_faults(latency_ms=1500)
            await cancel_in(kari, reference)
            await wait_until(lambda: "kari is cancelling…" in row_text(ola, reference), limit=10)
            await wait_until(lambda: cancelled(ola, reference), limit=20)
            await wait_until(lambda: "cancelling" not in row_text(ola, reference), limit=10)
        finally:
            await controls.set_faults(latency_ms=0)
            await controls.aclose()
            await close(kari)
            await close(ola)

    ui_loop.run_until_complete(main())


def row_text(controller: Controller, reference: str) -> str:
    model = controller.window.model
    row = model.row_of(reference)
    if row is None:
        return ""
    return " ".join(
        str(model.index(row, c).data(Qt.ItemDataRole.DisplayRole)) for c in range(model.columnCount())
    )


def test_the_server_out_of_reach_leaves_the_last_list_read_only_with_a_banner(
    ui_loop: asyncio.AbstractEventLoop, qapp: Any, world: World
) -> None:
    reference = world.references[1]

    async def main() -> None:
        kari = await desktop(qapp, team_profile(world.rig.first, "kari"))
        try:
            window = kari.window
            await asyncio.to_thread(world.stop_first)
            await wait_until(lambda: window.banner.objectName() == "ReadOnlyBanner", limit=20)
            assert "TEAM SERVER OUT OF REACH" in window.banner.text()
            assert window.model.rowCount() == 3  # the last list shown stays
            assert window.select_reference(reference)
            await asyncio.sleep(0.05)
            assert not window.action("cancel-payment").isEnabled()
            assert "read-only" in window.action("cancel-payment").toolTip()
            SHOTS.mkdir(parents=True, exist_ok=True)
            window.resize(1200, 700)
            assert window.grab().save(str(SHOTS / "team-window-offline.png"))
        finally:
            await close(kari)

    ui_loop.run_until_complete(main())


async def started_with_a_session(qapp: Any, profile: Profile) -> Controller:
    """The app started on a Team profile whose session token is in the keyring (no login dialog)."""
    window = MainWindow(show_error_dialogs=False, auto_refresh_ms=3_600_000)
    window.show()
    controller = Controller(
        qapp, window, open_session=open_profile, remember_profile=remember_profile, show_error_dialogs=False
    )
    assert await controller.start(profile)
    return controller


def test_started_with_the_server_out_of_reach_the_last_list_opens_read_only_and_goes_live_when_it_is_back(
    ui_loop: asyncio.AbstractEventLoop, qapp: Any, world: World
) -> None:
    reference = world.references[0]

    async def main() -> None:
        profile = team_profile(world.rig.first, "kari")
        kari = await desktop(qapp, profile)
        await close(kari)  # the list shown is kept on disk (on close at the latest)
        await asyncio.to_thread(world.stop_first)

        kari = await started_with_a_session(qapp, profile)
        try:
            window = kari.window
            assert window.bound
            await wait_until(lambda: window.model.rowCount() == 3, limit=20)
            assert window.banner.objectName() == "ReadOnlyBanner"
            assert "TEAM SERVER OUT OF REACH" in window.banner.text()
            assert "as it was last read from the server" in window.banner.text()
            # The refresh at start reads nothing: the status says so and why, not "Refreshed 0 of 3".
            # (Read from Recent messages: a later line may have replaced it in the status bar.)
            said_lines = window.status_line.history
            await wait_until(
                lambda: any("3 payments not refreshed" in said for _at, said in said_lines),
                limit=30,
                what=lambda: [said for _at, said in said_lines],
            )
            cut_short = next(said for _at, said in said_lines if "3 payments not refreshed" in said)
            assert cut_short.startswith("Offline: ")
            assert "cannot be reached" in cut_short
            assert not any("Refreshed" in said for _at, said in said_lines)
            assert state_of(kari, reference) is State.AUTHORIZED
            tracked = window.model.tracked(reference)
            assert tracked is not None
            assert tracked.created_at is not None  # as it was shown, not a bare reference
            assert window.select_reference(reference)
            await asyncio.sleep(0.05)
            assert not window.action("cancel-payment").isEnabled()
            assert "read-only" in window.action("cancel-payment").toolTip()
            SHOTS.mkdir(parents=True, exist_ok=True)
            window.resize(1200, 700)
            assert window.grab().save(str(SHOTS / "team-window-offline-at-start.png"))

            # The server comes back: the same window goes live, the session checked, without a restart.
            await asyncio.to_thread(world.start_first_again)
            await wait_until(lambda: window.banner.objectName() == "TeamBanner", limit=40)
            assert "logged in as kari (agent)" in window.banner.text()
            await wait_until(window.action("cancel-payment").isEnabled, limit=20)
            await cancel_in(kari, reference)
            await wait_until(lambda: cancelled(kari, reference), limit=20)
        finally:
            await close(kari)

    ui_loop.run_until_complete(main())
    assert event_names(world.rig, reference).count("CANCELLED") == 1


def test_started_out_of_reach_with_a_damaged_kept_list_the_window_opens_empty_and_says_so(
    ui_loop: asyncio.AbstractEventLoop,
    qapp: Any,
    memory_keyring: MemoryKeyring,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No server listens on the port (a real refused connection); the list kept on disk is cut short."""
    import logging
    import socket

    from epay_desktop.services.team_cache import TeamListCache
    from epay_desktop.services.team_login import TeamTokens

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    profile = team_profile(f"http://127.0.0.1:{port}", "kari")
    TeamTokens().set(profile, "a-token-from-an-earlier-login")
    kept = TeamListCache.of(profile).path
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text('{"format": "epay-desktop team list", "version": 1, "rows": [', encoding="utf-8")

    async def main() -> None:
        kari = await started_with_a_session(qapp, profile)
        try:
            window = kari.window
            assert window.bound
            await wait_until(lambda: not window.runner.is_running("load"), limit=20)
            assert window.model.rowCount() == 0
            assert window.banner.objectName() == "ReadOnlyBanner"
            assert "no list of this profile was kept" in window.banner.text()
            assert not window.action("add-payments").isEnabled()
        finally:
            await close(kari)

    with caplog.at_level(logging.WARNING, logger="epay_desktop.services.team_cache"):
        ui_loop.run_until_complete(main())
    assert "damaged" in caplog.text


def test_a_revoked_session_brings_the_login_dialog_back_and_a_new_login_reopens_the_list(
    ui_loop: asyncio.AbstractEventLoop, qapp: Any, world: World, memory_keyring: MemoryKeyring
) -> None:
    async def main() -> None:
        kari = await desktop(qapp, team_profile(world.rig.first, "kari"))
        try:
            first_window = kari.window
            first_dialog = kari.login_dialog
            stolen = memory_keyring.passwords[("epay-desktop", "Desk kari:team_token")]
            # An administrator (or the agent elsewhere) ends the session at the server.
            ended = await asyncio.to_thread(
                httpx.post, f"{world.rig.second}/api/v1/logout", headers=bearer(stolen), timeout=30
            )
            assert ended.status_code == 200, ended.text
            await wait_until(lambda: kari.login_dialog is not first_dialog, limit=20)
            dialog = kari.login_dialog
            await wait_until(dialog.isVisible)
            assert "log in again" in dialog.reason.text()
            dialog.password.setText(PASSWORD)
            dialog.login_button.click()
            await wait_until(lambda: kari.window is not first_window and kari.window.bound, limit=20)
            await wait_until(lambda: kari.window.model.rowCount() == 3, limit=20)
            assert memory_keyring.passwords[("epay-desktop", "Desk kari:team_token")] != stolen
        finally:
            await close(kari)

    ui_loop.run_until_complete(main())


def test_logout_revokes_the_session_forgets_the_token_and_asks_for_a_login(
    ui_loop: asyncio.AbstractEventLoop, qapp: Any, world: World, memory_keyring: MemoryKeyring
) -> None:
    async def main() -> None:
        kari = await desktop(qapp, team_profile(world.rig.first, "kari"))
        try:
            token_before = memory_keyring.passwords[("epay-desktop", "Desk kari:team_token")]
            first_dialog = kari.login_dialog
            kari.team_presence.logout_action.trigger()
            await wait_until(
                lambda: kari.login_dialog is not first_dialog and kari.login_dialog.isVisible(), limit=20
            )
            assert ("epay-desktop", "Desk kari:team_token") not in memory_keyring.passwords
            assert "logged out" in kari.login_dialog.reason.text()
            me = await asyncio.to_thread(
                httpx.get, f"{world.rig.first}/api/v1/me", headers=bearer(token_before), timeout=30
            )
            assert me.status_code == 401  # revoked at the server, not only forgotten here
        finally:
            await close(kari)

    ui_loop.run_until_complete(main())


def held_refund(world: World, reference: str, value: int, reason: str) -> int:
    """Siri (a supervisor) captures and asks to refund ``value``: above the threshold, held."""
    siri = token(world.rig.first, "siri")
    base = f"{world.rig.first}/api/v1/merchants/{MSN}/payments/{reference}"
    amount = {"value": value, "currency": "NOK"}
    captured = httpx.post(f"{base}/capture", json={"amount": amount}, headers=bearer(siri), timeout=30)
    assert captured.status_code == 200, captured.text
    asked = httpx.post(
        f"{base}/refund", json={"amount": amount, "reason": reason}, headers=bearer(siri), timeout=30
    )
    assert asked.status_code == 202, asked.text
    return int(asked.json()["approval"]["id"])


def test_a_supervisor_approves_and_rejects_held_refunds_in_the_inbox(
    ui_loop: asyncio.AbstractEventLoop, qapp: Any, world: World
) -> None:
    approved_ref, rejected_ref = world.references[1], world.references[0]
    approve_id = held_refund(world, approved_ref, 25_000, "Customer returned the order")
    reject_id = held_refund(world, rejected_ref, 10_000, "Goodwill")

    async def main() -> None:
        tove = await desktop(qapp, team_profile(world.rig.second, "tove"))
        try:
            presence = tove.team_presence
            assert presence.approvals_action.isVisible()
            presence.approvals_action.trigger()
            dialog = presence.approvals_dialog
            assert dialog is not None
            await wait_until(lambda: dialog.table.rowCount() == 2, limit=20)
            ids = [r.id for r in dialog.requests]
            assert set(ids) == {approve_id, reject_id}
            row = ids.index(reject_id)
            assert dialog.table.item(row, 2).text() == "siri"
            assert dialog.table.item(row, 3).text() == "Goodwill"
            SHOTS.mkdir(parents=True, exist_ok=True)
            assert dialog.grab().save(str(SHOTS / "team-approvals.png"))
            # Reject: a reason is required, and whoever asked reads it; nothing is sent.
            dialog.table.selectRow(row)
            dialog.reject_button.click()
            await wait_until(lambda: "Say why it is rejected" in dialog.status.text(), limit=20)
            dialog.note_edit.setText("Not our policy")
            # The status speaks before the decision's task has ended; the buttons are off until then.
            await wait_until(dialog.reject_button.isEnabled, limit=20)
            dialog.reject_button.click()
            await wait_until(lambda: f"Rejected #{reject_id}" in dialog.status.text(), limit=20)
            assert [r.id for r in dialog.requests] == [approve_id]
            dialog.table.selectRow(0)
            await wait_until(dialog.approve_button.isEnabled, limit=20)
            dialog.approve_button.click()
            await wait_until(
                lambda: f"Approved #{approve_id}: sent." in dialog.status.text(),
                limit=30,
                what=dialog.status.text,
            )
            assert dialog.table.rowCount() == 0
            # Every request with how it ended: whoever asked reads what became of it.
            dialog.view.setCurrentIndex(dialog.view.findData("all"))
            await wait_until(lambda: dialog.table.rowCount() == 2, limit=20)
            ended = {r.id: row for row, r in enumerate(dialog.requests)}
            assert dialog.table.item(ended[reject_id], 6).text() == "rejected"
            assert dialog.table.item(ended[reject_id], 7).text() == "Not our policy"
            assert dialog.table.item(ended[approve_id], 6).text() == "sent"
            dialog.table.selectRow(ended[reject_id])
            assert not dialog.approve_button.isEnabled()  # an ended request is not decided again
            dialog.resize(1100, 420)
            assert dialog.grab().save(str(SHOTS / "team-approvals-ended.png"))
            dialog.close()
        finally:
            await close(tove)

    ui_loop.run_until_complete(main())
    assert event_names(world.rig, approved_ref).count("REFUNDED") == 1
    assert "REFUNDED" not in event_names(world.rig, rejected_ref)


def test_the_asker_cannot_approve_their_own_request_and_is_told_why(
    ui_loop: asyncio.AbstractEventLoop, qapp: Any, world: World
) -> None:
    reference = world.references[1]
    held_refund(world, reference, 25_000, "Damaged goods")

    async def main() -> None:
        siri = await desktop(qapp, team_profile(world.rig.first, "siri"))
        try:
            presence = siri.team_presence
            presence.approvals_action.trigger()
            dialog = presence.approvals_dialog
            assert dialog is not None
            await wait_until(lambda: dialog.table.rowCount() == 1, limit=20)
            await wait_until(dialog.approve_button.isEnabled, limit=20)
            dialog.approve_button.click()
            await wait_until(lambda: dialog.status.tone is Tone.ERROR, limit=20)
            assert dialog.status.text()  # the server's sentence
            assert dialog.table.rowCount() == 1
        finally:
            await close(siri)

    ui_loop.run_until_complete(main())
    assert "REFUNDED" not in event_names(world.rig, reference)


def test_a_refund_above_the_threshold_is_held_and_the_desk_says_so(
    ui_loop: asyncio.AbstractEventLoop, world: World
) -> None:
    from epay_desktop.api.team_client import TeamClient
    from epay_desktop.services.team_desk import TeamDesk
    from epay_desktop.services.team_inbox import HeldForApprovalError

    reference = world.references[1]
    siri = token(world.rig.first, "siri")
    amount = {"value": 25_000, "currency": "NOK"}
    url = f"{world.rig.first}/api/v1/merchants/{MSN}/payments/{reference}/capture"
    assert httpx.post(url, json={"amount": amount}, headers=bearer(siri), timeout=30).status_code == 200

    async def main() -> None:
        async with TeamClient(world.rig.first, token=siri) as client:
            desk = TeamDesk(team_profile(world.rig.first, "siri"), client, agent="siri", role="supervisor")
            with pytest.raises(HeldForApprovalError, match=r"Held for approval #\d+.*Nothing was sent yet"):
                await desk.refund(reference, Money(25_000, Currency.NOK), reason="Returned")
            (waiting,) = await desk.approvals.requests()
            assert (waiting.requested_by, waiting.reason, waiting.total) == (
                "siri",
                "Returned",
                Money(25_000, Currency.NOK),
            )

    ui_loop.run_until_complete(main())
    assert "REFUNDED" not in event_names(world.rig, reference)


def test_the_desktop_reconnects_when_the_server_is_back_and_catches_up_on_what_it_missed(
    ui_loop: asyncio.AbstractEventLoop, qapp: Any, world: World
) -> None:
    missed = world.references[2]

    async def main() -> None:
        kari = await desktop(qapp, team_profile(world.rig.first, "kari"))
        try:
            window = kari.window
            await asyncio.to_thread(world.stop_first)
            await wait_until(lambda: window.banner.objectName() == "ReadOnlyBanner", limit=20)
            # While Kari's instance is away, Ola cancels through the other one.
            ola = await asyncio.to_thread(token, world.rig.second, "ola")
            url = f"{world.rig.second}/api/v1/merchants/{MSN}/payments/{missed}/cancel"
            done = await asyncio.to_thread(httpx.post, url, json={}, headers=bearer(ola), timeout=30)
            assert done.status_code == 200, done.text
            assert not cancelled(kari, missed)
            await asyncio.to_thread(world.start_first_again)
            await wait_until(lambda: window.banner.objectName() == "TeamBanner", limit=40)
            await wait_until(lambda: cancelled(kari, missed), limit=20)  # told what it missed
            assert window.select_reference(world.references[0])
            await wait_until(window.action("cancel-payment").isEnabled)  # writable again
        finally:
            await close(kari)

    ui_loop.run_until_complete(main())
