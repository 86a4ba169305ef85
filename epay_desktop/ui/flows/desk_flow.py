"""What every flow that confirms a money move and then sends it through the desk holds: the desk,
where its status lines go, the widget its dialogs belong to, and the locale money is shown in.
``dialog_opened`` announces each confirmation as it opens (the window keeps it above, tests drive it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QLocale, QObject, Signal
from PySide6.QtWidgets import QDialog, QWidget

if TYPE_CHECKING:
    from epay_desktop.services import DeskSurface

StatusSink = Callable[[str], None]


class DeskFlow(QObject):
    """``locale`` shows money (the system's when None); amounts are typed in the app's language."""

    dialog_opened = Signal(QDialog)

    def __init__(
        self,
        desk: DeskSurface,
        status: StatusSink,
        *,
        parent_widget: QWidget | None = None,
        locale: QLocale | None = None,
    ) -> None:
        super().__init__(parent_widget)
        self._desk = desk
        self._status = status
        self._parent_widget = parent_widget
        self._locale = locale if locale is not None else QLocale()
