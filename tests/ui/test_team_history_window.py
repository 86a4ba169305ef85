"""Who did what, in the window in Team mode, end to end with real parts (PostgreSQL, the sandbox and two
``epay-team`` instances under uvicorn on 127.0.0.1, the app's controller and windows offscreen): an
agent's cancel seen by name in a second desktop's payment history, audit log and audit CSV; a viewer
told in a sentence that the whole audit is the supervisors'; an operation a stopped instance left shown
in the row and in the notice, and Send again finishing it once; the server out of reach said in a
sentence."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Any

import pytest

from epay_desktop.api.team_client import TeamRefusedError
from epay_desktop.domain import Currency, Money
from epay_desktop.services import DeskError
from epay_desktop.ui.dialogs.audit import AuditDialog
from epay_desktop.ui.window.payment_history import ACTION, RESULT, WHO
from tests.support.waiting import wait_until
from tests.team.test_history_api import left_by_a_stopped_instance
from tests.team.test_team_service import event_names
from tests.ui.test_team_window import SHOTS, World, cancel_in, cancelled, close, desktop, team_profile
from tests.ui.test_team_window import world as world


def history_rows(controller: Any) -> list[tuple[str, str, str]]:
    """(who, action, result) of each line of the selected payment's history, as shown."""
    return [
        (item.text(WHO), item.text(ACTION), item.text(RESULT))
        for item in controller.team_presence.history.entry_items()
    ]


def audit_rows(dialog: AuditDialog) -> list[tuple[str, str, str]]:
    model = dialog.view.model
    return [
        (model.entry(r).os_user, model.entry(r).action, model.entry(r).result)
        for r in range(model.rowCount())
    ]


def test_an_agents_cancel_shows_by_name_in_a_second_desktops_history_audit_and_csv(
    ui_loop: asyncio.AbstractEventLoop, qapp: Any, world: World, tmp_path: Path
) -> None:
    reference = world.references[0]

    async def main() -> None:
        kari = await desktop(qapp, team_profile(world.rig.first, "kari"))
        siri = await desktop(qapp, team_profile(world.rig.second, "siri"))
        try:
            assert siri.window.select_reference(reference)
            await wait_until(lambda: "Nobody has done" in siri.team_presence.history.note.text(), limit=20)
            await cancel_in(kari, reference)
            await wait_until(lambda: cancelled(siri, reference), limit=20)
            # The live stream's "done" reads the selected payment's history again.
            await wait_until(lambda: ("kari", "cancel", "succeeded") in history_rows(siri), limit=20)
            assert ("kari", "cancel", "requested") in history_rows(siri)
            SHOTS.mkdir(parents=True, exist_ok=True)
            siri.team_presence.timeline_tabs.setCurrentWidget(siri.team_presence.history)
            siri.window.resize(1200, 760)
            assert siri.window.grab().save(str(SHOTS / "team-history.png"))

            dialog = siri.window.dialogs.open_audit()
            assert isinstance(dialog, AuditDialog)
            await wait_until(lambda: ("kari", "cancel", "succeeded") in audit_rows(dialog), limit=20)
            assert ("kari", "login", "succeeded") in audit_rows(dialog)  # the team's own lines too
            # A cancel's lines say what it released (the payment's whole 100.00 NOK was reserved).
            model = dialog.view.model
            cancel_lines = [
                model.entry(r) for r in range(model.rowCount()) if model.entry(r).action == "cancel"
            ]
            assert {(e.result, e.amount) for e in cancel_lines} == {
                ("requested", Money(10_000, Currency.NOK)),
                ("succeeded", Money(10_000, Currency.NOK)),
            }
            shown = [
                str(model.index(r, c).data()).replace("\u00a0", " ")
                for r in range(model.rowCount())
                for c in range(model.columnCount())
                if model.entry(r).action == "cancel"
            ]
            assert "100.00 NOK" in shown
            assert dialog.grab().save(str(SHOTS / "team-audit.png"))
            dialog.close()
            path = tmp_path / "audit.csv"
            assert siri.window.desk is not None
            written = await siri.window.desk.export_audit_csv(path)
            with path.open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.DictReader(handle))
            assert len(rows) == written
            assert {
                "os_user": "kari",
                "action": "cancel",
                "result": "succeeded",
                "amount": "100.00",
                "currency": "NOK",
            }.items() <= next(
                r for r in rows if r["action"] == "cancel" and r["result"] == "succeeded"
            ).items()
            assert rows[0]["time_utc"] <= rows[-1]["time_utc"]  # oldest first, as a local export
        finally:
            await close(kari)
            await close(siri)

    ui_loop.run_until_complete(main())
    assert event_names(world.rig, reference).count("CANCELLED") == 1


def test_a_viewer_sees_a_payments_history_and_is_told_the_whole_audit_is_for_supervisors(
    ui_loop: asyncio.AbstractEventLoop, qapp: Any, world: World, tmp_path: Path
) -> None:
    reference = world.references[1]

    async def main() -> None:
        vera = await desktop(qapp, team_profile(world.rig.first, "vera"))
        try:
            await cancel_in(vera, reference)  # refused by the server: in the payment's history
            await wait_until(
                lambda: "needs the agent role" in vera.window.statusBar().currentMessage(), limit=20
            )
            await wait_until(lambda: ("vera", "cancel", "refused") in history_rows(vera), limit=20)
            dialog = vera.window.dialogs.open_audit()
            assert isinstance(dialog, AuditDialog)
            await wait_until(lambda: "needs the supervisor role" in dialog.view.status.text(), limit=20)
            assert dialog.view.model.rowCount() == 0
            dialog.close()
            assert vera.window.desk is not None
            with pytest.raises(TeamRefusedError, match="needs the supervisor role"):
                await vera.window.desk.export_audit_csv(tmp_path / "audit.csv")
            assert not (tmp_path / "audit.csv").exists()
        finally:
            await close(vera)

    ui_loop.run_until_complete(main())


def test_an_operation_left_by_a_stopped_instance_shows_and_send_again_finishes_it_once(
    ui_loop: asyncio.AbstractEventLoop, qapp: Any, world: World
) -> None:
    reference = world.references[2]
    left = left_by_a_stopped_instance(world.rig, reference, "kari")

    async def main() -> None:
        ola = await desktop(qapp, team_profile(world.rig.second, "ola"))
        try:
            window = ola.window
            await wait_until(lambda: window.recovery_flow.notice is not None, limit=20)
            notice = window.recovery_flow.notice
            assert notice is not None
            assert list(notice.rows) == [left.id]
            assert "asked by kari" in notice.rows[left.id].text.text()
            SHOTS.mkdir(parents=True, exist_ok=True)
            assert notice.grab().save(str(SHOTS / "team-left.png"))
            await wait_until(lambda: window.model.pending_operation(reference) == "cancel", limit=20)
            # Closed without a choice: Check now on the row offers it again.
            notice.close()
            await wait_until(lambda: window.recovery_flow.notice is None, limit=20)
            assert window.select_reference(reference)
            await wait_until(window.action("check-pending").isEnabled)
            window.action("check-pending").trigger()
            await wait_until(lambda: window.recovery_flow.notice is not None, limit=20)
            notice = window.recovery_flow.notice
            assert notice is not None
            assert list(notice.rows) == [left.id]
            notice.rows[left.id].send_again.click()
            await wait_until(lambda: notice.rows[left.id].settled, limit=30)
            assert "released" in notice.outcome_text(left.id)
            await wait_until(lambda: cancelled(ola, reference), limit=20)
            await wait_until(lambda: window.model.pending_operation(reference) == "", limit=20)
            assert window.select_reference(reference)
            await wait_until(lambda: ("ola", "cancel", "succeeded") in history_rows(ola), limit=20)
            assert ("kari", "cancel", "requested") in history_rows(ola)
            assert window.desk is not None
            # Asked again (another window's stale notice): nothing is sent; it has an outcome by now.
            with pytest.raises(DeskError, match="has an outcome by now"):
                await window.desk.resume_intent(left.id)
        finally:
            await close(ola)

    ui_loop.run_until_complete(main())
    assert event_names(world.rig, reference).count("CANCELLED") == 1


def test_the_server_out_of_reach_is_said_in_the_history_and_the_audit(
    ui_loop: asyncio.AbstractEventLoop, qapp: Any, world: World
) -> None:
    reference = world.references[0]

    async def main() -> None:
        siri = await desktop(qapp, team_profile(world.rig.first, "siri"))
        try:
            window = siri.window
            await asyncio.to_thread(world.stop_first)
            await wait_until(lambda: window.banner.objectName() == "ReadOnlyBanner", limit=20)
            assert window.select_reference(reference)
            await wait_until(lambda: "cannot be reached" in siri.team_presence.history.note.text(), limit=20)
            dialog = window.dialogs.open_audit()
            assert isinstance(dialog, AuditDialog)
            await wait_until(lambda: "The audit cannot be shown" in dialog.view.status.text(), limit=20)
            dialog.close()
        finally:
            await close(siri)

    ui_loop.run_until_complete(main())
