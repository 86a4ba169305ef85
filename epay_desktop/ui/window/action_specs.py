"""The main window's actions, declared once as data (the one builder that makes them is
``ui.window.actions``).

Each :class:`ActionSpec` says what an action is (id, text, status tip, shortcuts, icon), where it
appears (``menus``: the menu bar's menus, the toolbar and the table's context menu, each with a group
and an order) and when it is enabled (``enablement``, a function of the :class:`ActionContext`). What an
action does is not declared here: the window hands the builder one handler per id. No Qt here: the
declarations, their placement and their rules are read and tested without a window.

    File:      New payment… (Ctrl+N), Add payments… (Ctrl+Shift+A), Import CSV… (Ctrl+O), Quit (Ctrl+Q)
    Payments:  Refresh all (F5), Refresh this payment (Shift+F5), Stop refresh (Esc),
               Capture… (Ctrl+Shift+K), Refund… (Ctrl+Shift+R), Cancel payment… (Ctrl+Shift+X)
               (a destructive money action never gets a single-key shortcut),
               Copy reference (Ctrl+Shift+C), Find (Ctrl+F),
               Remove from register (Delete in the table; never the API), Undo remove (Ctrl+Z)
    Profile:   Settings… (Ctrl+,), Switch profile ▸ (one entry per saved profile), Audit log… (Ctrl+L)
    Help:      About epay-desktop

Light imports only: the actions, menus and toolbar are part of the first paint (the declarations are
named tuples: a dataclass costs about a millisecond to define, before the window can paint).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from epay_desktop.domain import Action, TrackedPayment, check_action
from epay_desktop.i18n import N_, _, translate
from epay_desktop.ui.action_names import REFRESH_PAYMENT_SHORTCUT, REFRESH_PAYMENT_TEXT

TOOLBAR = "toolbar"
TABLE_CONTEXT = "table-context"


class ActionContext(NamedTuple):
    """What the enablement of every action is decided from."""

    bound: bool = False  # a register is open
    read_only: bool = False  # ... for reading only
    selected: TrackedPayment | None = None  # the selected payment
    selected_busy: bool = False  # an operation on the selected payment runs
    refreshing: bool = False  # a refresh runs
    can_undo: bool = False  # payments were removed from the register and can be put back
    selected_pending: str = ""  # the operation on the selected payment sent without a known outcome
    team: bool = False  # a Team profile: the shop's own system makes new payments, not the desk

    @property
    def writable(self) -> bool:
        return self.bound and not self.read_only


# An enablement answers "enabled?" and, where the person should learn why not, the reason (the action's
# tooltip and status tip then say it); "" keeps the declared tips.
Enablement = Callable[[ActionContext], tuple[bool, str]]


def when(predicate: Callable[[ActionContext], bool]) -> Enablement:
    return lambda context: (predicate(context), "")


def _money_enablement(action: Action, allowed_tip: str) -> Enablement:
    """Cancel, capture and refund: the rule comes from ``domain.check_action``; the window never
    recomputes it, and a disabled action says why."""

    def enablement(context: ActionContext) -> tuple[bool, str]:
        if not context.bound:
            return False, _("The register is not open yet.")
        if context.read_only:
            return False, _("The register is open read-only: nothing can be changed.")
        tracked = context.selected
        if tracked is None:
            return False, _("Select a payment first.")
        if tracked.payment is None:
            return False, _("The payment has not been read from the API yet; refresh it first.")
        if context.selected_busy:
            return False, _("An operation on this payment is running.")
        if context.selected_pending:
            return False, _(
                "A {operation} of this payment was sent and its outcome is unknown: it waits until that "
                "is settled (Check now reads the payment's event log; nothing is sent)."
            ).format(operation=context.selected_pending)
        check = check_action(tracked.payment, action, authorizing=tracked.authorizing)
        return check.allowed, translate(allowed_tip) if check.allowed else check.reason

    return enablement


cancel_enablement = _money_enablement(Action.CANCEL, N_("Cancel the payment (asks first)"))
capture_enablement = _money_enablement(Action.CAPTURE, N_("Capture money from the reservation (asks first)"))
refund_enablement = _money_enablement(
    Action.REFUND, N_("Give captured money back to the customer (asks first)")
)


class MenuRule(NamedTuple):
    """Where an action (or a submenu) appears: in ``menu``, in ``group`` (groups are sorted by name and
    separated by a line), at ``order`` within its group."""

    menu: str
    group: str = ""
    order: int = 0


class ActionSpec(NamedTuple):
    id: str
    text: str
    tip: str
    shortcuts: tuple[str, ...] = ()
    icon: str = ""
    menus: tuple[MenuRule, ...] = ()
    enablement: Enablement | None = None  # None: always enabled


def _money_action(
    action_id: str,
    text: str,
    tip: str,
    shortcut: str,
    enablement: Enablement,
    *,
    order: int,
    toolbar_order: int,
) -> ActionSpec:
    """An action that moves the selected payment's money (cancel, capture, refund): with the icon of its
    name, in the Payments menu's payment group and the table's context menu at the same ``order``,
    and on the toolbar beside the refresh actions."""
    return ActionSpec(
        action_id,
        text,
        tip,
        (shortcut,),
        action_id,
        (
            MenuRule("payments", "2_payment", order),
            MenuRule(TOOLBAR, "2_payments", toolbar_order),
            MenuRule(TABLE_CONTEXT, "", order),
        ),
        enablement,
    )


class MenuSpec(NamedTuple):
    id: str
    title: str
    accessible_name: str


class SubmenuSpec(NamedTuple):
    """A submenu made by the window (its entries change); the builder puts it in its place."""

    id: str
    title: str
    accessible_name: str
    tip: str
    place: MenuRule


MENUS: tuple[MenuSpec, ...] = (
    MenuSpec("file", N_("&File"), N_("File")),
    MenuSpec("payments", N_("&Payments"), N_("Payments")),
    MenuSpec("profile", N_("P&rofile"), N_("Profile")),
    MenuSpec("help", N_("&Help"), N_("Help")),
)

SUBMENUS: tuple[SubmenuSpec, ...] = (
    SubmenuSpec(
        "switch-profile",
        N_("&Switch profile"),
        N_("Switch profile"),
        N_("Open another profile (its own register)."),
        MenuRule("profile", "1_profiles", 1),
    ),
)

_writable = when(lambda c: c.writable)
_bound = when(lambda c: c.bound)


def _new_payment_enablement(context: ActionContext) -> tuple[bool, str]:
    """A Team desk never makes a payment (the team server holds no way to): the action says so
    rather than being offered and then refused."""
    if context.team:
        return False, _("In Team mode new payments are made by the shop's own system, not by the desk.")
    return context.writable, ""


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "new-payment",
        N_("New payment…"),
        N_("Create a payment: push to the customer's phone or show a QR code."),
        ("Ctrl+N",),
        "new-payment",
        (MenuRule("file", "1_create"), MenuRule(TOOLBAR, "1_create")),
        _new_payment_enablement,
    ),
    ActionSpec(
        "add-payments",
        N_("Add payments…"),
        N_("Add existing payments to the register by pasting their references."),
        ("Ctrl+Shift+A",),
        "add",
        (MenuRule("file", "1_create", 1), MenuRule(TOOLBAR, "1_create", 1)),
        _writable,
    ),
    ActionSpec(
        "import-csv",
        N_("Import CSV…"),
        N_("Add payments to the register from a CSV file of references."),
        ("Ctrl+O",),
        menus=(MenuRule("file", "1_create", 2),),
        enablement=_writable,
    ),
    ActionSpec(
        "export-list",
        N_("Export list as CSV…"),
        N_("Save the payments as the list shows them now (search and state filter applied) to a CSV file."),
        ("Ctrl+E",),
        menus=(MenuRule("file", "2_export"),),
        enablement=when(lambda c: c.bound),
    ),
    ActionSpec(
        "quit", N_("Quit"), N_("Close the window and quit."), ("Ctrl+Q",), menus=(MenuRule("file", "9_quit"),)
    ),
    ActionSpec(
        "refresh-all",
        N_("Refresh all"),
        N_("Read every payment in the register from the API again."),
        ("F5",),
        "refresh",
        (MenuRule("payments", "1_refresh"), MenuRule(TOOLBAR, "2_payments")),
        # Read-only still refreshes (the desk shows the answers without saving them).
        _bound,
    ),
    ActionSpec(
        "refresh-payment",
        REFRESH_PAYMENT_TEXT,
        N_("Read the selected payment from the API again."),
        (REFRESH_PAYMENT_SHORTCUT,),
        menus=(MenuRule("payments", "1_refresh", 1), MenuRule(TABLE_CONTEXT, "", 1)),
        enablement=when(lambda c: c.bound and c.selected is not None),
    ),
    ActionSpec(
        "stop-refresh",
        N_("Stop refresh"),
        N_("Stop the running refresh."),
        ("Esc",),
        "stop",
        (MenuRule("payments", "1_refresh", 2), MenuRule(TOOLBAR, "2_payments", 1)),
        when(lambda c: c.refreshing),
    ),
    _money_action(
        "cancel-payment",
        N_("Cancel payment…"),
        N_("Cancel the selected payment (asks first)."),
        "Ctrl+Shift+X",
        cancel_enablement,
        order=0,
        toolbar_order=2,
    ),
    _money_action(
        "capture-payment",
        N_("Capture…"),
        N_("Capture the selected payment's reserved money, all or part (asks first)."),
        "Ctrl+Shift+K",
        capture_enablement,
        order=-2,
        toolbar_order=3,
    ),
    _money_action(
        "refund-payment",
        N_("Refund…"),
        N_("Give captured money of the selected payment back to the customer, all or part (asks first)."),
        "Ctrl+Shift+R",
        refund_enablement,
        order=-1,
        toolbar_order=4,
    ),
    ActionSpec(
        "check-pending",
        N_("Check now"),
        N_(
            "Settle the selected payment's operation with an unknown outcome from its event log (nothing is "
            "sent)."
        ),
        ("Ctrl+Shift+F5",),
        menus=(MenuRule("payments", "1_refresh", 3), MenuRule(TABLE_CONTEXT, "", -3)),
        enablement=when(lambda c: c.writable and bool(c.selected_pending) and not c.selected_busy),
    ),
    ActionSpec(
        "batch-capture",
        N_("Capture selected payments…"),
        N_(
            "Capture the whole remaining amount of every selected payment (or every one shown, when one row "
            "is selected); shows first exactly what will happen."
        ),
        ("Ctrl+Alt+K",),
        menus=(MenuRule("payments", "3_batch"), MenuRule(TABLE_CONTEXT, "5_batch")),
        enablement=when(lambda c: c.writable and c.selected is not None),
    ),
    ActionSpec(
        "batch-cancel",
        N_("Cancel selected payments…"),
        N_(
            "Cancel every selected payment (or every one shown, when one row is selected); shows first "
            "exactly what will happen."
        ),
        ("Ctrl+Alt+X",),
        menus=(MenuRule("payments", "3_batch", 1), MenuRule(TABLE_CONTEXT, "5_batch", 1)),
        enablement=when(lambda c: c.writable and c.selected is not None),
    ),
    ActionSpec(
        "remove-payment",
        N_("Remove from register"),
        N_(
            "Take the selected payment out of this register; the payment itself is not touched (Undo brings "
            "it back)."
        ),
        (),  # Delete in the table, set up with the table (in the search box Delete edits text)
        menus=(MenuRule("payments", "4_register"), MenuRule(TABLE_CONTEXT, "9_register")),
        enablement=when(lambda c: c.writable and c.selected is not None and not c.selected_busy),
    ),
    ActionSpec(
        "undo-remove",
        N_("Undo remove"),
        N_("Put the payments removed last back in the register."),
        ("Ctrl+Z",),
        menus=(MenuRule("payments", "4_register", 1),),
        enablement=when(lambda c: c.writable and c.can_undo),
    ),
    ActionSpec(
        "copy-reference",
        N_("Copy reference"),
        N_("Copy the selected payment's reference to the clipboard."),
        ("Ctrl+Shift+C",),
        menus=(MenuRule("payments", "2_payment", 1), MenuRule(TABLE_CONTEXT, "", 2)),
        enablement=when(lambda c: c.selected is not None),
    ),
    ActionSpec(
        "find",
        N_("Find"),
        N_("Search by reference or description."),
        ("Ctrl+F",),
        "find",
        (MenuRule("payments", "2_payment", 2),),
    ),
    ActionSpec(
        "settings",
        N_("Settings…"),
        N_("Profiles (Demo, Test, Production, custom), their secrets, Test connection."),
        ("Ctrl+,",),
        menus=(MenuRule("profile", "1_profiles"),),
    ),
    ActionSpec(
        "audit",
        N_("Audit log…"),
        N_("Who did what, when: every cancel, capture, refund and change, with CSV export."),
        ("Ctrl+L",),
        menus=(MenuRule("profile", "2_audit"),),
        enablement=_bound,
    ),
    ActionSpec(
        "history",
        N_("Recent messages…"),
        N_("The outcomes and errors the status bar showed, newest first."),
        ("Ctrl+Shift+H",),
        "history",
        menus=(MenuRule("help", "", -1),),
    ),
    ActionSpec("about", N_("About epay-desktop"), N_("Version and licence."), menus=(MenuRule("help"),)),
)


def placed_in(menu: str) -> list[list[ActionSpec | SubmenuSpec]]:
    """The actions and submenus placed in ``menu``, as groups in display order."""
    entries: list[tuple[str, int, int, ActionSpec | SubmenuSpec]] = []
    items: tuple[ActionSpec | SubmenuSpec, ...] = (*ACTIONS, *SUBMENUS)
    for index, item in enumerate(items):
        rules = item.menus if isinstance(item, ActionSpec) else (item.place,)
        entries.extend((rule.group, rule.order, index, item) for rule in rules if rule.menu == menu)
    groups: dict[str, list[ActionSpec | SubmenuSpec]] = {}
    for group, _order, _index, item in sorted(entries, key=lambda e: e[:3]):
        groups.setdefault(group, []).append(item)
    return list(groups.values())


__all__ = [
    "ACTIONS",
    "MENUS",
    "SUBMENUS",
    "TABLE_CONTEXT",
    "TOOLBAR",
    "ActionContext",
    "ActionSpec",
    "MenuRule",
    "MenuSpec",
    "SubmenuSpec",
    "cancel_enablement",
    "capture_enablement",
    "placed_in",
    "refund_enablement",
    "when",
]
