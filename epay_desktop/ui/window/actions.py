"""The main window's actions, declared once as data, and the one builder that makes them.

Each :class:`ActionSpec` says what an action is (id, text, status tip, shortcuts, icon), where it
appears (``menus``: the menu bar's menus, the toolbar and the table's context menu, each with a group
and an order) and when it is enabled (``enablement``, a function of the :class:`ActionContext`). The
same ``QAction`` is in every place it appears, so enabling one enables it everywhere. What an action
does is not declared here: the window hands :class:`ActionSet` one handler per id (it composes; this
module imports nothing of the window).

    File:      New payment… (Ctrl+N), Add payments… (Ctrl+Shift+A), Import CSV… (Ctrl+O), Quit (Ctrl+Q)
    Payments:  Refresh all (F5), Refresh this payment (Shift+F5), Stop refresh (Esc),
               Cancel payment… (Ctrl+Shift+X; Delete in the table, set up with the table),
               Copy reference (Ctrl+Shift+C), Find (Ctrl+F)
    Profile:   Settings… (Ctrl+,), Switch profile ▸ (one entry per saved profile), Audit log… (Ctrl+L)
    Help:      About epay-desktop

Light imports only: the actions, menus and toolbar are part of the first paint (the declarations are
named tuples: a dataclass costs about a millisecond to define, before the window can paint).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from PySide6.QtCore import QObject, QPoint
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar, QWidget

from epay_desktop.domain import Action, TrackedPayment, check_action
from epay_desktop.ui.first_paint import set_qt_enum
from epay_desktop.ui.theme import icon

TOOLBAR = "toolbar"
TABLE_CONTEXT = "table-context"


class ActionContext(NamedTuple):
    """What the enablement of every action is decided from."""

    bound: bool = False  # a register is open
    read_only: bool = False  # ... for reading only
    selected: TrackedPayment | None = None  # the selected payment
    selected_busy: bool = False  # an operation on the selected payment runs
    refreshing: bool = False  # a refresh runs

    @property
    def writable(self) -> bool:
        return self.bound and not self.read_only


# An enablement answers "enabled?" and, where the person should learn why not, the reason (the action's
# tooltip and status tip then say it); "" keeps the declared tips.
Enablement = Callable[[ActionContext], tuple[bool, str]]


def when(predicate: Callable[[ActionContext], bool]) -> Enablement:
    return lambda context: (predicate(context), "")


def cancel_enablement(context: ActionContext) -> tuple[bool, str]:
    """Cancel payment…: the rule comes from ``domain.check_action``; the window never recomputes it."""
    if not context.bound:
        return False, "The register is not open yet."
    if context.read_only:
        return False, "The register is open read-only: nothing can be changed."
    tracked = context.selected
    if tracked is None:
        return False, "Select a payment first."
    if tracked.payment is None:
        return False, "The payment has not been read from the API yet; refresh it first."
    if context.selected_busy:
        return False, "An operation on this payment is running."
    check = check_action(tracked.payment, Action.CANCEL)
    return check.allowed, "Cancel the payment (asks first)" if check.allowed else check.reason


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
    MenuSpec("file", "&File", "File"),
    MenuSpec("payments", "&Payments", "Payments"),
    MenuSpec("profile", "P&rofile", "Profile"),
    MenuSpec("help", "&Help", "Help"),
)

SUBMENUS: tuple[SubmenuSpec, ...] = (
    SubmenuSpec(
        "switch-profile",
        "&Switch profile",
        "Switch profile",
        "Open another profile (its own register).",
        MenuRule("profile", "1_profiles", 1),
    ),
)

_writable = when(lambda c: c.writable)
_bound = when(lambda c: c.bound)

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "new-payment",
        "New payment…",
        "Create a payment: push to the customer's phone or show a QR code.",
        ("Ctrl+N",),
        "new-payment",
        (MenuRule("file", "1_create"), MenuRule(TOOLBAR, "1_create")),
        _writable,
    ),
    ActionSpec(
        "add-payments",
        "Add payments…",
        "Add existing payments to the register by pasting their references.",
        ("Ctrl+Shift+A",),
        "add",
        (MenuRule("file", "1_create", 1), MenuRule(TOOLBAR, "1_create", 1)),
        _writable,
    ),
    ActionSpec(
        "import-csv",
        "Import CSV…",
        "Add payments to the register from a CSV file of references.",
        ("Ctrl+O",),
        menus=(MenuRule("file", "1_create", 2),),
        enablement=_writable,
    ),
    ActionSpec(
        "quit", "Quit", "Close the window and quit.", ("Ctrl+Q",), menus=(MenuRule("file", "9_quit"),)
    ),
    ActionSpec(
        "refresh-all",
        "Refresh all",
        "Read every payment in the register from the API again.",
        ("F5",),
        "refresh",
        (MenuRule("payments", "1_refresh"), MenuRule(TOOLBAR, "2_payments")),
        # Read-only still refreshes (the desk shows the answers without saving them).
        _bound,
    ),
    ActionSpec(
        "refresh-payment",
        "Refresh this payment",
        "Read the selected payment from the API again.",
        ("Shift+F5",),
        menus=(MenuRule("payments", "1_refresh", 1), MenuRule(TABLE_CONTEXT, "", 1)),
        enablement=when(lambda c: c.bound and c.selected is not None),
    ),
    ActionSpec(
        "stop-refresh",
        "Stop refresh",
        "Stop the running refresh.",
        ("Esc",),
        "stop",
        (MenuRule("payments", "1_refresh", 2), MenuRule(TOOLBAR, "2_payments", 1)),
        when(lambda c: c.refreshing),
    ),
    ActionSpec(
        "cancel-payment",
        "Cancel payment…",
        "Cancel the selected payment (asks first).",
        ("Ctrl+Shift+X",),
        "cancel-payment",
        (
            MenuRule("payments", "2_payment"),
            MenuRule(TOOLBAR, "2_payments", 2),
            MenuRule(TABLE_CONTEXT, "", 0),
        ),
        cancel_enablement,
    ),
    ActionSpec(
        "copy-reference",
        "Copy reference",
        "Copy the selected payment's reference to the clipboard.",
        ("Ctrl+Shift+C",),
        menus=(MenuRule("payments", "2_payment", 1), MenuRule(TABLE_CONTEXT, "", 2)),
        enablement=when(lambda c: c.selected is not None),
    ),
    ActionSpec(
        "find",
        "Find",
        "Search by reference or description.",
        ("Ctrl+F",),
        "find",
        (MenuRule("payments", "2_payment", 2),),
    ),
    ActionSpec(
        "settings",
        "Settings…",
        "Profiles (Demo, Test, Production, custom), their secrets, Test connection.",
        ("Ctrl+,",),
        menus=(MenuRule("profile", "1_profiles"),),
    ),
    ActionSpec(
        "audit",
        "Audit log…",
        "Who did what, when: every cancel, capture, refund and change, with CSV export.",
        ("Ctrl+L",),
        menus=(MenuRule("profile", "2_audit"),),
        enablement=_bound,
    ),
    ActionSpec("about", "About epay-desktop", "Version and licence.", menus=(MenuRule("help"),)),
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


class ActionSet(QObject):
    """Builds every action of :data:`ACTIONS` once, on ``window`` (so the shortcuts work anywhere in
    it), with the menu bar and the toolbar; updates their enablement from an :class:`ActionContext`.

    ``handlers`` maps each action's id to what it does; ``submenus`` maps each submenu's id to the menu
    the window made for it. A missing handler is a programming error and raises ``KeyError`` here."""

    def __init__(
        self,
        window: QMainWindow,
        handlers: Mapping[str, Callable[[], object]],
        *,
        submenus: Mapping[str, QMenu],
    ) -> None:
        super().__init__(window)
        self._specs = {spec.id: spec for spec in ACTIONS}
        self._actions: dict[str, QAction] = {}
        for spec in ACTIONS:
            self._actions[spec.id] = self._make(window, spec, handlers[spec.id])
        bar = window.menuBar()
        bar.setAccessibleName("Main menu")
        self.menus: dict[str, QMenu] = {}
        for menu_spec in MENUS:
            menu = _named(bar.addMenu(menu_spec.title), menu_spec.accessible_name)
            self._fill(menu, menu_spec.id, submenus)
            self.menus[menu_spec.id] = menu
        self.toolbar = QToolBar("Actions", window)
        self.toolbar.setObjectName("MainToolbar")
        self.toolbar.setAccessibleName("Actions")
        self.toolbar.setMovable(False)
        set_qt_enum(self.toolbar, "toolButtonStyle", "ToolButtonTextBesideIcon")  # no Qt namespace yet
        self._fill(self.toolbar, TOOLBAR, submenus)
        window.addToolBar(self.toolbar)
        self.update(ActionContext())

    def __getitem__(self, action_id: str) -> QAction:
        return self._actions[action_id]

    def update(self, context: ActionContext) -> None:
        """Enable what ``context`` allows; where an action says why not, its tips say so."""
        for action_id, spec in self._specs.items():
            if spec.enablement is None:
                continue
            enabled, why = spec.enablement(context)
            action = self._actions[action_id]
            action.setEnabled(enabled)
            if why:
                action.setToolTip(f"{spec.text} — {why}")
                action.setStatusTip(why)

    def context_menu(self, parent: QWidget, global_pos: QPoint) -> QMenu:
        """The table's context menu, popped up at ``global_pos``; it deletes itself when closed."""
        from PySide6.QtCore import Qt  # not before the first paint (ui/first_paint.py)

        menu = _named(QMenu(parent), "Payment actions")
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._fill(menu, TABLE_CONTEXT, {})
        menu.popup(global_pos)
        return menu

    def name_toolbar_buttons(self) -> None:
        """Accessible names for the toolbar's buttons (after the first paint: wrapping them costs ~10 ms)."""
        for action in self.toolbar.actions():
            button = self.toolbar.widgetForAction(action)
            if button is not None and not action.isSeparator():
                button.setAccessibleName(action.text().rstrip("…"))

    def _make(self, window: QMainWindow, spec: ActionSpec, handler: Callable[[], object]) -> QAction:
        action = QAction(icon(spec.icon) if spec.icon else QIcon(), spec.text, window)
        action.setObjectName(spec.id)
        action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
        # Qt.ShortcutContext.WindowShortcut, the default: the shortcuts work anywhere in this window.
        action.setStatusTip(spec.tip)
        action.setToolTip(f"{spec.text.rstrip('…')} — {spec.tip}")
        action.triggered.connect(lambda _checked=False: handler())
        window.addAction(action)
        return action

    def _fill(self, target: QMenu | QToolBar, menu_id: str, submenus: Mapping[str, QMenu]) -> None:
        for number, group in enumerate(placed_in(menu_id)):
            if number:
                target.addSeparator()
            for item in group:
                if isinstance(item, ActionSpec):
                    target.addAction(self._actions[item.id])
                    continue
                submenu = _named(submenus[item.id], item.accessible_name)
                submenu.setTitle(item.title)
                submenu.menuAction().setStatusTip(item.tip)
                assert isinstance(target, QMenu), "submenus go in menus"
                target.addMenu(submenu)


def _named(menu: QMenu, name: str) -> QMenu:
    menu.setAccessibleName(name)
    menu.setToolTipsVisible(True)
    return menu


__all__ = [
    "ACTIONS",
    "MENUS",
    "SUBMENUS",
    "TABLE_CONTEXT",
    "TOOLBAR",
    "ActionContext",
    "ActionSet",
    "ActionSpec",
    "MenuRule",
    "MenuSpec",
    "SubmenuSpec",
    "cancel_enablement",
    "placed_in",
    "when",
]
