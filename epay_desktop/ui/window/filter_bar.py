"""The row above the table: search by reference or description, and filter by state.

Emits what the person asks for; the register view applies it. Light imports only (first paint).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from epay_desktop.domain import BusinessState, RowMark, State
from epay_desktop.i18n import N_, _, translate
from epay_desktop.ui.theme import icon

# A row is shown when its API state or its business state is in the set (None: not fetched yet); the
# two enums never share a value ("AUTHORIZED" is not "reserved").
StateFilter = frozenset[State | BusinessState | RowMark | None] | None  # None: every state

B = BusinessState
STATE_FILTERS: tuple[tuple[str, StateFilter], ...] = (
    (N_("All states"), None),
    (N_("To capture (something still reserved)"), frozenset({B.RESERVED, B.PARTLY_CAPTURED})),
    (N_("Can still change"), frozenset({State.CREATED, State.AUTHORIZED, State.UNKNOWN, None})),
    # the labels as their English msgids (this runs before a language is set); translated when shown
    *((kind.label, frozenset({kind})) for kind in BusinessState),
    (N_("Not fetched yet"), frozenset({None})),
    (N_("Unknown to the API (404)"), frozenset({RowMark.UNKNOWN_TO_API})),
)


class FilterBar(QWidget):
    """Signals: ``text_changed(str)`` (the search text), ``states_changed(object)`` (a ``StateFilter``)."""

    text_changed = Signal(str)
    states_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(_("Search reference, description, pspReference or amount  (Ctrl+F)"))
        self.search.setAccessibleName(_("Search payments by reference, description, pspReference or amount"))
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("find"), QLineEdit.ActionPosition.LeadingPosition)
        row.addWidget(self.search, 3)
        label = QLabel(_("&State:"), self)
        self.state_filter = QComboBox(self)
        self.state_filter.setAccessibleName(_("Filter by state"))
        for text, states in STATE_FILTERS:
            self.state_filter.addItem(translate(text), states)
        label.setBuddy(self.state_filter)
        row.addWidget(label)
        row.addWidget(self.state_filter, 1)
        self.setTabOrder(self.search, self.state_filter)
        self.search.textChanged.connect(self.text_changed)
        self.state_filter.currentIndexChanged.connect(
            lambda i: self.states_changed.emit(self.state_filter.itemData(i))
        )

    def text(self) -> str:
        return self.search.text()

    def states(self) -> StateFilter:
        states: StateFilter = self.state_filter.currentData()
        return states

    def focus_search(self) -> None:
        from PySide6.QtCore import Qt  # not before the first paint (ui/first_paint.py)

        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()


__all__ = ["STATE_FILTERS", "FilterBar", "StateFilter"]
