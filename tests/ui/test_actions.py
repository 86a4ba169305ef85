"""The window's actions as data: each declared once, placed by its menu rules, enabled by its rule."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QMainWindow, QMenu

from epay_desktop.domain import State
from epay_desktop.ui.window.action_specs import (
    ACTIONS,
    TABLE_CONTEXT,
    TOOLBAR,
    ActionContext,
    ActionSpec,
    SubmenuSpec,
    cancel_enablement,
    placed_in,
)
from epay_desktop.ui.window.actions import ActionSet
from tests.ui.factories import tracked


def ids(groups: list[list[ActionSpec | SubmenuSpec]]) -> list[list[str]]:
    return [[item.id for item in group] for group in groups]


def test_each_action_is_declared_once_and_placed_somewhere() -> None:
    assert len({spec.id for spec in ACTIONS}) == len(ACTIONS)
    assert all(spec.menus for spec in ACTIONS)


def test_menus_are_grouped_and_ordered_by_their_rules() -> None:
    assert ids(placed_in("file")) == [
        ["new-payment", "add-payments", "import-csv"],
        ["export-list"],
        ["quit"],
    ]
    assert ids(placed_in("profile")) == [["settings", "switch-profile"], ["audit"]]
    assert ids(placed_in(TOOLBAR)) == [
        ["new-payment", "add-payments"],
        ["refresh-all", "stop-refresh", "cancel-payment", "capture-payment", "refund-payment"],
    ]
    assert ids(placed_in(TABLE_CONTEXT)) == [
        [
            "check-pending",
            "capture-payment",
            "refund-payment",
            "cancel-payment",
            "refresh-payment",
            "copy-reference",
        ],
        ["batch-capture", "batch-cancel"],
        ["remove-payment"],
    ]
    payments = ids(placed_in("payments"))
    assert payments[0][-1] == "check-pending"
    assert payments[1][:3] == ["capture-payment", "refund-payment", "cancel-payment"]
    assert payments[2:] == [["batch-capture", "batch-cancel"], ["remove-payment", "undo-remove"]]


def test_the_builder_wants_a_handler_for_every_action(qtbot: Any) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    handlers = {spec.id: (lambda: None) for spec in ACTIONS if spec.id != "quit"}
    with pytest.raises(KeyError, match="quit"):
        ActionSet(window, handlers, submenus={"switch-profile": QMenu(window)})


def test_enablement_follows_the_context_and_says_why_not(qtbot: Any) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    called: list[str] = []
    handlers = {spec.id: (lambda i=spec.id: called.append(i)) for spec in ACTIONS}
    actions = ActionSet(window, handlers, submenus={"switch-profile": QMenu(window)})
    assert not actions["new-payment"].isEnabled()  # nothing is bound yet
    assert actions["find"].isEnabled()  # always
    assert actions["cancel-payment"].statusTip() == "The register is not open yet."
    payment = tracked(state=State.AUTHORIZED)
    actions.update(ActionContext(bound=True, read_only=True, selected=payment))
    assert not actions["new-payment"].isEnabled()
    assert actions["refresh-all"].isEnabled()  # read-only still refreshes
    assert "read-only" in actions["cancel-payment"].toolTip()
    actions.update(ActionContext(bound=True, selected=payment, refreshing=True))
    assert actions["new-payment"].isEnabled()
    assert actions["stop-refresh"].isEnabled()
    assert actions["cancel-payment"].isEnabled()
    actions["copy-reference"].trigger()
    assert called == ["copy-reference"]


def test_new_payment_in_team_mode_is_not_offered_and_says_why(qtbot: Any) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    actions = ActionSet(
        window, {spec.id: (lambda: None) for spec in ACTIONS}, submenus={"switch-profile": QMenu(window)}
    )
    declared = actions["new-payment"].statusTip()
    actions.update(ActionContext(bound=True, team=True))
    assert not actions["new-payment"].isEnabled()
    assert "shop's own system" in actions["new-payment"].statusTip()
    assert "shop's own system" in actions["new-payment"].toolTip()
    assert actions["add-payments"].isEnabled()  # the desk still adds the shop's payments by reference
    actions.update(ActionContext(bound=True))
    assert actions["new-payment"].isEnabled()
    assert actions["new-payment"].statusTip() == declared  # a reason that no longer holds is not kept


@pytest.mark.parametrize(
    ("context", "enabled", "why"),
    [
        (ActionContext(), False, "not open"),
        (ActionContext(bound=True, read_only=True), False, "read-only"),
        (ActionContext(bound=True), False, "Select a payment"),
        (ActionContext(bound=True, selected=tracked(fetched=False)), False, "refresh it first"),
        (ActionContext(bound=True, selected=tracked(), selected_busy=True), False, "is running"),
        (ActionContext(bound=True, selected=tracked(state=State.TERMINATED)), False, "terminated"),
        (ActionContext(bound=True, selected=tracked()), True, "asks first"),
    ],
)
def test_cancel_says_why_it_is_off(context: ActionContext, enabled: bool, why: str) -> None:
    allowed, reason = cancel_enablement(context)
    assert allowed is enabled
    assert why.lower() in reason.lower()


def _mnemonic(title: str) -> str:
    at = title.replace("&&", "").find("&")
    assert at >= 0, f"{title!r} has no mnemonic"
    return title.replace("&&", "")[at + 1].casefold()


@pytest.mark.parametrize("language", ["en", "nb", "da", "fi", "x-pseudo"])
def test_each_menu_has_its_own_mnemonic_in_every_language(qtbot: Any, language: str) -> None:
    # Alt+P must open one menu (Payments and Profile once shared it).
    from epay_desktop import i18n
    from epay_desktop.paths import resource

    assert i18n.set_language(language, resource("translations")) == language
    window = QMainWindow()
    qtbot.addWidget(window)
    handlers = {spec.id: (lambda: None) for spec in ACTIONS}
    ActionSet(window, handlers, submenus={"switch-profile": QMenu(window)})
    titles = [action.text() for action in window.menuBar().actions()]
    keys = [_mnemonic(title) for title in titles]
    assert len(set(keys)) == len(keys), titles
