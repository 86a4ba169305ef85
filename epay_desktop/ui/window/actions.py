"""The one builder of the main window's actions: each action of ``action_specs.ACTIONS`` made once as a
``QAction``, placed in the menu bar's menus, the toolbar and the table's context menu by its rules.

The same ``QAction`` is in every place it appears, so enabling one enables it everywhere. What an action
does is not declared here either: the window hands :class:`ActionSet` one handler per id (it composes;
this module imports nothing of the window).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import QObject, QPoint
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar, QWidget

from epay_desktop.i18n import _, translate
from epay_desktop.ui.first_paint import set_qt_enum
from epay_desktop.ui.theme import icon
from epay_desktop.ui.window.action_specs import (
    ACTIONS,
    MENUS,
    TABLE_CONTEXT,
    TOOLBAR,
    ActionContext,
    ActionSpec,
    placed_in,
)


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
        bar.setAccessibleName(_("Main menu"))
        self.menus: dict[str, QMenu] = {}
        for menu_spec in MENUS:
            menu = _named(bar.addMenu(translate(menu_spec.title)), translate(menu_spec.accessible_name))
            self._fill(menu, menu_spec.id, submenus)
            self.menus[menu_spec.id] = menu
        self.toolbar = QToolBar(_("Actions"), window)
        self.toolbar.setObjectName("MainToolbar")
        self.toolbar.setAccessibleName(_("Actions"))
        self.toolbar.setMovable(False)
        set_qt_enum(self.toolbar, "toolButtonStyle", "ToolButtonTextBesideIcon")  # no Qt namespace yet
        self._fill(self.toolbar, TOOLBAR, submenus)
        window.addToolBar(self.toolbar)
        # The toolbar's width with its words, measured once (the texts do not change while it lives).
        self._toolbar_words_width: int | None = None
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
            # Without a reason the declared tips come back (a reason said before no longer holds).
            tip = why or translate(spec.tip)
            action.setToolTip(_("{action} — {why}").format(action=translate(spec.text).rstrip("…"), why=tip))
            action.setStatusTip(tip)

    def context_menu(self, parent: QWidget, global_pos: QPoint) -> QMenu:
        """The table's context menu, popped up at ``global_pos``; it deletes itself when closed."""
        from PySide6.QtCore import Qt  # not before the first paint (ui/first_paint.py)

        menu = _named(QMenu(parent), _("Payment actions"))
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._fill(menu, TABLE_CONTEXT, {})
        menu.popup(global_pos)
        return menu

    def fit_toolbar(self, width: int) -> None:
        """Words beside the icons when they all fit in ``width``; icons only (the tooltips keep the
        words) when they would not, so no action hides behind the overflow button."""
        if self._toolbar_words_width is None:
            self._toolbar_words_width = self.toolbar.sizeHint().width()
        style = "ToolButtonTextBesideIcon" if self._toolbar_words_width <= width else "ToolButtonIconOnly"
        set_qt_enum(self.toolbar, "toolButtonStyle", style)  # Qt does nothing when it is unchanged

    def name_toolbar_buttons(self) -> None:
        """Accessible names for the toolbar's buttons (after the first paint: wrapping them costs ~10 ms)."""
        for action in self.toolbar.actions():
            button = self.toolbar.widgetForAction(action)
            if button is not None and not action.isSeparator():
                button.setAccessibleName(action.text().rstrip("…"))
        # Qt's own "more" button, shown when a narrow window cannot fit every action.
        for child in self.toolbar.children():
            if child.objectName() == "qt_toolbar_ext_button" and isinstance(child, QWidget):
                child.setAccessibleName(_("More actions"))

    def _make(self, window: QMainWindow, spec: ActionSpec, handler: Callable[[], object]) -> QAction:
        text, tip = translate(spec.text), translate(spec.tip)
        action = QAction(icon(spec.icon) if spec.icon else QIcon(), text, window)
        action.setObjectName(spec.id)
        action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
        # Qt.ShortcutContext.WindowShortcut, the default: the shortcuts work anywhere in this window.
        action.setStatusTip(tip)
        action.setToolTip(_("{action} — {why}").format(action=text.rstrip("…"), why=tip))
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
                submenu = _named(submenus[item.id], translate(item.accessible_name))
                submenu.setTitle(translate(item.title))
                submenu.menuAction().setStatusTip(translate(item.tip))
                assert isinstance(target, QMenu), "submenus go in menus"
                target.addMenu(submenu)


def _named(menu: QMenu, name: str) -> QMenu:
    menu.setAccessibleName(name)
    menu.setToolTipsVisible(True)
    return menu


__all__ = ["ActionSet"]
