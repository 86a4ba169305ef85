"""The main window's actions, menu bar and toolbar (built here so the window only composes).

Every action has a status tip and, where it makes sense, a shortcut; the same ``QAction`` objects are
in the menus, the toolbar and the table's context menu, so enabling one enables it everywhere.

    File:      New payment… (Ctrl+N), Add payments… (Ctrl+Shift+A), Import CSV… (Ctrl+O), Quit (Ctrl+Q)
    Payments:  Refresh all (F5), Refresh this payment (Shift+F5), Stop refresh (Esc),
               Cancel payment… (Ctrl+Shift+X; Delete in the table, set up with the table),
               Copy reference (Ctrl+Shift+C), Find (Ctrl+F)
    Profile:   Settings… (Ctrl+,), Switch profile ▸ (one entry per saved profile), Audit log… (Ctrl+L)
    Help:      About epay-desktop
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from epay_desktop.domain import Action, TrackedPayment, check_action
from epay_desktop.ui.startup import set_qt_enum
from epay_desktop.ui.theme import icon

if TYPE_CHECKING:
    from epay_desktop.ui.main_window import MainWindow


def _dialog(w: MainWindow, name: str, **options: object) -> Callable[[], object]:
    """Open ``window_dialogs.<name>``; the dialogs are imported when first opened (none is needed to
    paint the window). The actions that open them are disabled while they cannot be used."""

    def open_dialog() -> object:
        from epay_desktop.ui import window_dialogs

        return getattr(window_dialogs, name)(w, **options)

    return open_dialog


def make_action(
    window: MainWindow,
    text: str,
    slot: Callable[[], object],
    *,
    tip: str,
    shortcuts: tuple[str | QKeySequence.StandardKey, ...] = (),
    icon_name: str = "",
) -> QAction:
    action = QAction(icon(icon_name) if icon_name else QIcon(), text, window)
    action.setShortcuts([QKeySequence(s) for s in shortcuts])
    # Qt.ShortcutContext.WindowShortcut, the default: the shortcuts work anywhere in this window.
    action.setStatusTip(tip)
    action.setToolTip(f"{text.rstrip('…')} — {tip}")
    action.triggered.connect(lambda _checked=False: slot())
    window.addAction(action)
    return action


def build_actions(w: MainWindow) -> None:
    """Create the actions (disabled until a desk is bound), the menu bar and the toolbar."""
    w.new_payment_action = make_action(
        w,
        "New payment…",
        _dialog(w, "open_new_payment"),
        tip="Create a payment: push to the customer's phone or show a QR code.",
        shortcuts=("Ctrl+N",),
        icon_name="new-payment",
    )
    w.add_action = make_action(
        w,
        "Add payments…",
        _dialog(w, "open_add_payments"),
        tip="Add existing payments to the register by pasting their references.",
        shortcuts=("Ctrl+Shift+A",),
        icon_name="add",
    )
    w.import_action = make_action(
        w,
        "Import CSV…",
        _dialog(w, "open_add_payments", import_csv=True),
        tip="Add payments to the register from a CSV file of references.",
        shortcuts=("Ctrl+O",),
    )
    w.quit_action = make_action(w, "Quit", w.close, tip="Close the window and quit.", shortcuts=("Ctrl+Q",))
    w.refresh_action = make_action(
        w,
        "Refresh all",
        w.refresh_all,
        tip="Read every payment in the register from the API again.",
        shortcuts=("F5",),
        icon_name="refresh",
    )
    w.refresh_selected_action = make_action(
        w,
        "Refresh this payment",
        w.refresh_selected,
        tip="Read the selected payment from the API again.",
        shortcuts=("Shift+F5",),
    )
    w.stop_action = make_action(
        w,
        "Stop refresh",
        w.stop_refresh,
        tip="Stop the running refresh.",
        shortcuts=("Esc",),
        icon_name="stop",
    )
    w.cancel_action = make_action(
        w,
        "Cancel payment…",
        w.cancel_selected,
        tip="Cancel the selected payment (asks first).",
        shortcuts=("Ctrl+Shift+X",),
        icon_name="cancel-payment",
    )
    w.copy_reference_action = make_action(
        w,
        "Copy reference",
        w.copy_reference,
        tip="Copy the selected payment's reference to the clipboard.",
        shortcuts=("Ctrl+Shift+C",),
    )
    w.find_action = make_action(
        w,
        "Find",
        w.focus_search,
        tip="Search by reference or description.",
        shortcuts=("Ctrl+F",),
        icon_name="find",
    )
    w.settings_action = make_action(
        w,
        "Settings…",
        w.open_settings,
        tip="Profiles (Demo, Test, Production, custom), their secrets, Test connection.",
        shortcuts=("Ctrl+,",),
    )
    w.audit_action = make_action(
        w,
        "Audit log…",
        _dialog(w, "open_audit"),
        tip="Who did what, when: every cancel, capture, refund and change, with CSV export.",
        shortcuts=("Ctrl+L",),
    )
    w.about_action = make_action(
        w, "About epay-desktop", _dialog(w, "show_about"), tip="Version and licence."
    )

    bar = w.menuBar()
    bar.setAccessibleName("Main menu")
    file_menu = _menu(bar.addMenu("&File"), "File")
    for action in (w.new_payment_action, w.add_action, w.import_action):
        file_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(w.quit_action)
    payments = _menu(bar.addMenu("&Payments"), "Payments")
    for action in (w.refresh_action, w.refresh_selected_action, w.stop_action):
        payments.addAction(action)
    payments.addSeparator()
    for action in (w.cancel_action, w.copy_reference_action, w.find_action):
        payments.addAction(action)
    profile = _menu(bar.addMenu("P&rofile"), "Profile")
    profile.addAction(w.settings_action)
    w.switch_menu = _menu(profile.addMenu("&Switch profile"), "Switch profile")
    w.switch_menu.menuAction().setStatusTip("Open another profile (its own register).")
    w.switch_menu.aboutToShow.connect(w.fill_switch_menu)
    profile.addSeparator()
    profile.addAction(w.audit_action)
    help_menu = _menu(bar.addMenu("&Help"), "Help")
    help_menu.addAction(w.about_action)
    w.menus = {"file": file_menu, "payments": payments, "profile": profile, "help": help_menu}

    toolbar = QToolBar("Actions", w)
    toolbar.setObjectName("MainToolbar")
    toolbar.setAccessibleName("Actions")
    toolbar.setMovable(False)
    set_qt_enum(toolbar, "toolButtonStyle", "ToolButtonTextBesideIcon")  # no Qt namespace yet
    for action in (w.new_payment_action, w.add_action):
        toolbar.addAction(action)
    toolbar.addSeparator()
    for action in (w.refresh_action, w.stop_action, w.cancel_action):
        toolbar.addAction(action)
    w.addToolBar(toolbar)
    w.toolbar = toolbar


def set_bound_actions(w: MainWindow) -> None:
    """Enable what needs an open register (writing needs a writable one); Stop refresh is off until a
    refresh runs."""
    writable = w.desk is not None and not w.read_only
    for action in (w.new_payment_action, w.add_action, w.import_action):
        action.setEnabled(writable)
    # Read-only still refreshes (the desk shows the answers without saving them).
    w.refresh_action.setEnabled(w.desk is not None)
    w.audit_action.setEnabled(w.desk is not None)
    w.stop_action.setEnabled(False)


def update_payment_actions(w: MainWindow, tracked: TrackedPayment | None) -> None:
    """Enable what applies to the selected payment ``tracked``. Cancel payment…'s tooltip and status tip
    say why it is off (the rule comes from ``domain.check_action``; the window never recomputes it)."""
    w.copy_reference_action.setEnabled(tracked is not None)
    w.refresh_selected_action.setEnabled(tracked is not None and w.bound)
    enabled, why = _cancel_state(w, tracked)
    w.cancel_action.setEnabled(enabled)
    w.cancel_action.setToolTip(f"Cancel payment… — {why}")
    w.cancel_action.setStatusTip(why)


def _cancel_state(w: MainWindow, tracked: TrackedPayment | None) -> tuple[bool, str]:
    if w.desk is None:
        return False, "The register is not open yet."
    if w.read_only:
        return False, "The register is open read-only: nothing can be changed."
    if tracked is None:
        return False, "Select a payment first."
    if tracked.payment is None:
        return False, "The payment has not been read from the API yet; refresh it first."
    if w.model.is_busy(tracked.reference):
        return False, "An operation on this payment is running."
    check = check_action(tracked.payment, Action.CANCEL)
    return check.allowed, "Cancel the payment (asks first)" if check.allowed else check.reason


def context_menu(w: MainWindow, pos: QPoint) -> QMenu | None:
    """The table's context menu at ``pos`` (viewport coordinates), or None off the rows."""
    if not w.table.indexAt(pos).isValid():
        return None
    from PySide6.QtCore import Qt  # not before the first paint (ui/startup.py)

    menu = QMenu(w)
    menu.setAccessibleName("Payment actions")
    menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    for action in (w.cancel_action, w.refresh_selected_action, w.copy_reference_action):
        menu.addAction(action)
    menu.popup(w.table.viewport().mapToGlobal(pos))
    return menu


def name_toolbar_buttons(toolbar: QToolBar) -> None:
    """Accessible names for the toolbar's buttons (after the first paint: wrapping them costs ~10 ms)."""
    for action in toolbar.actions():
        button = toolbar.widgetForAction(action)
        if button is not None and not action.isSeparator():
            button.setAccessibleName(action.text().rstrip("…"))


def _menu(menu: QMenu, name: str) -> QMenu:
    menu.setAccessibleName(name)
    menu.setToolTipsVisible(True)
    return menu


__all__ = [
    "build_actions",
    "context_menu",
    "make_action",
    "name_toolbar_buttons",
    "set_bound_actions",
    "update_payment_actions",
]
