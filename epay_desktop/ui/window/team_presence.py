"""A Team profile in the window: :class:`TeamPresence` links one window to its ``TeamDesk`` and the
desk's ``TeamLive`` stream:

- the banner says which team server and which agent (and role); when the server is out of reach it says
  the list is the last one shown, read-only, and the window stops every change until it answers again;
- a colleague working on a payment shows in its row ("Kari is cancelling…"), gone when they are done;
- who did what last to the selected payment, as the server tells it, in the status bar, and its whole
  history (who, what, when, with what result) in a tab beside its events (``ui/window/payment_history.py``);
- the payments table's reference and description share its width (``ui/window/team_columns.py``);
- Profile ▸ Log out of the team server (``logout_requested``; the controller ends the session);
- for supervisors, Profile ▸ Approvals inbox… (``ui/dialogs/approvals.py``); when a request this agent
  asked for ends (sent, failed, expired, rejected), the status bar says how (the live stream tells it).

Rows themselves change through the desk's change feed like every other change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel

from epay_desktop.i18n import N_, _, translate
from epay_desktop.ui.audit_words import action_text
from epay_desktop.ui.formatting import format_datetime
from epay_desktop.ui.window.live_updates import profile_menu_of
from epay_desktop.ui.window.payment_history import PaymentHistory
from epay_desktop.ui.window.team_columns import DescriptionFit

if TYPE_CHECKING:
    from epay_desktop.services.team_desk import Activity, TeamDesk
    from epay_desktop.services.team_live import TeamLive
    from epay_desktop.ui.dialogs.approvals import ApprovalsDialog
    from epay_desktop.ui.window.main_window import MainWindow

HISTORY_LIMIT = 200  # one payment's lines: a handful in practice

ROLE_LABELS = {
    "viewer": N_("viewer"),
    "agent": N_("agent"),
    "supervisor": N_("supervisor"),
    "admin": N_("administrator"),
}


STATUS_LABELS = {
    "pending": N_("outcome not known yet"),
    "succeeded": N_("done"),
    "reconciled": N_("done"),
    "failed": N_("not done"),
}


def activity_text(activity: Activity | None) -> str:
    """Who did what last to a payment ("" when nobody did anything through the team)."""
    if activity is None or not activity.by:
        return ""
    status = STATUS_LABELS.get(activity.status)
    return _("Last: {operation} by {agent}, {when} — {status}.").format(
        operation=action_text(activity.operation),
        agent=activity.by,
        when=activity.at.astimezone().strftime("%H:%M") if activity.at else "?",
        status=translate(status) if status else activity.status,
    )


def colleague_text(agent: str, action: str) -> str:
    """What a colleague does now, one whole sentence per action (each language orders its own words)."""
    texts = {
        "cancel": _("{agent} is cancelling…"),
        "capture": _("{agent} is capturing…"),
        "refund": _("{agent} is refunding…"),
    }
    return texts.get(action, _("{agent} is working on it…")).format(agent=agent)


class TeamPresence(QObject):
    logout_requested = Signal()

    def __init__(self, window: MainWindow, desk: TeamDesk, live: TeamLive | None) -> None:
        super().__init__(window)
        self.window = window
        self.desk = desk
        self.live = live
        self.logout_action = QAction(_("Log out of the team server"), window)
        self.logout_action.setObjectName("TeamLogout")
        self.logout_action.triggered.connect(self.logout_requested)
        profile_menu_of(window).addAction(self.logout_action)
        self.approvals_dialog: ApprovalsDialog | None = None
        self.approvals_action = QAction(_("Approvals inbox…"), window)
        self.approvals_action.setObjectName("TeamApprovals")
        self.approvals_action.triggered.connect(self.open_approvals)
        self.approvals_action.setVisible(desk.may_approve)
        profile_menu_of(window).addAction(self.approvals_action)
        self.last_action = QLabel(window)
        self.last_action.setObjectName("TeamLastAction")
        self.last_action.setAccessibleName(_("Who did what last to the selected payment"))
        window.statusBar().addPermanentWidget(self.last_action)
        window.register_view.selection_changed.connect(lambda _t: self.show_activity())
        window.register_view.current_updated.connect(lambda _t: self.show_activity())
        table = window.register_view.table
        # The team's references are long and its descriptions often empty: the two share the width.
        self.columns = DescriptionFit(table, lambda: desk.rows.values()) if table is not None else None
        self.history = PaymentHistory(
            lambda reference: desk.audit(HISTORY_LIMIT, reference), window.side_panel.panel
        )
        self.timeline_tabs = window.details.add_timeline_tab(self.history, _("Who did what"))
        window.register_view.selection_changed.connect(lambda _t: self.show_history())
        # The selected row read again (after a move, a refusal, a colleague's change): so is its history.
        window.register_view.current_updated.connect(lambda _t: self.show_history())
        desk.on_connection(self._connection_changed)
        if live is not None:
            live.on_working(self._working)
            live.on_request_ended(self._request_ended)
            for reference, (agent, action) in live.working.items():
                self._working(reference, agent, action)
        self._connection_changed(desk.online, desk.problem)
        self.show_history()
        # Check now on a row the server left without an outcome offers the choice again (the notice of
        # the start may be closed by now, or the operation was left after it).
        window.action("check-pending").triggered.connect(self.offer_left)

    def _connection_changed(self, online: bool, problem: str) -> None:
        desk = self.desk
        role = translate(ROLE_LABELS[desk.role]) if desk.role in ROLE_LABELS else desk.role
        fetched = format_datetime(desk.fetched_at, self.window.locale_, seconds=False)
        self.window.banner.show_team(
            desk.profile, agent=desk.agent, role=role, online=online, problem=problem, fetched=fetched
        )
        self.approvals_action.setVisible(desk.may_approve)  # the role is known once the server answers
        self.window.set_read_only(not online)
        if not online:
            self.window.show_status(_("The team server cannot be reached: the list is read-only."))
        elif self.window.bound:
            self.window.show_status(_("Connected to the team server."))

    def open_approvals(self) -> None:
        from epay_desktop.ui.dialogs.approvals import ApprovalsDialog

        if self.approvals_dialog is None:
            self.approvals_dialog = ApprovalsDialog(self.desk.approvals, parent=self.window)
            self.approvals_dialog.decided.connect(self.window.show_status)
        self.approvals_dialog.show()
        self.approvals_dialog.raise_()
        self.approvals_dialog.start_reload()

    def show_activity(self) -> None:
        tracked = self.window.selected_tracked()
        activity = self.desk.activity.get(tracked.reference) if tracked is not None else None
        self.last_action.setText(activity_text(activity))

    def show_history(self) -> None:
        """Who did what to the selected payment (read from the server's audit)."""
        if self.window.bound:
            tracked = self.window.selected_tracked()
            reference = tracked.reference if tracked is not None else None
            self.window.runner.start("team-history", self.history.load(reference))

    def offer_left(self) -> None:
        if self.window.bound:
            self.window.runner.start("team-left", self._offer_left())

    async def _offer_left(self) -> None:
        left = await self.desk.recover_pending()
        if left:
            self.window.recovery_flow.present(left)

    def _request_ended(self, _request_id: int, sentence: str) -> None:
        """A request this agent asked for has ended: said in the status bar (and kept in Recent
        messages), never in a dialog; the inbox, when open, shows it too."""
        if not self.window.bound:
            return
        self.window.show_status(sentence)
        if self.approvals_dialog is not None and self.approvals_dialog.isVisible():
            self.approvals_dialog.start_reload()

    def _working(self, reference: str, agent: str, action: str) -> None:
        if not self.window.bound:
            return
        self.window.model.set_colleague(reference, colleague_text(agent, action) if action else "")
        if not action:
            # Finished (or the stream was lost): the row's "outcome not known" mark follows the journal.
            self.window.runner.start("pending", self.window.show_pending())
        if reference == self.history.reference:
            self.show_history()


__all__ = ["ROLE_LABELS", "TeamPresence", "activity_text", "colleague_text"]
