"""Editing the register itself, never the API: taking payments out of it (``remove``) and putting the last
ones taken back (``undo``), and exporting the list as shown to a CSV file (``export``).

It holds what Undo would put back, and the rows of the list they were at: put back, they are moved
there again (``RowPlaces``), not left at the end of the list. ``undo_changed`` tells the window when that
changed (its actions' enablement follows), ``restored`` the first reference put back (the window
selects it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QLocale, Signal
from PySide6.QtWidgets import QWidget

from epay_desktop.domain import TrackedPayment
from epay_desktop.i18n import _, ngettext
from epay_desktop.ui.flows.desk_flow import DeskFlow, StatusSink

if TYPE_CHECKING:
    from epay_desktop.services import DeskSurface


class RowPlaces(Protocol):
    """Where the list shows a payment, and moving rows there (the table's model)."""

    def row_of(self, reference: str) -> int | None: ...

    def move_rows_to(self, places: Mapping[str, int]) -> None: ...


class RegisterEdits(DeskFlow):
    undo_changed = Signal()
    restored = Signal(str)

    def __init__(
        self,
        desk: DeskSurface,
        status: StatusSink,
        *,
        parent_widget: QWidget | None = None,
        locale: QLocale | None = None,
    ) -> None:
        super().__init__(desk, status, parent_widget=parent_widget, locale=locale)
        self._removed: list[TrackedPayment] = []  # the rows removed last (Undo puts them back)
        self._places: dict[str, int] = {}  # the list's rows they were at

    @property
    def can_undo(self) -> bool:
        return bool(self._removed)

    async def remove(self, references: list[str], rows: RowPlaces) -> None:
        """Take ``references`` out of the register; the payments themselves are not touched. ``rows``:
        the list they are shown in (where Undo puts them back)."""
        places = {r: row for r in references if (row := rows.row_of(r)) is not None}
        removed = await self._desk.remove_payments(references)
        if removed:
            self._removed = removed
            self._places = {t.reference: places[t.reference] for t in removed if t.reference in places}
            names = ", ".join(t.reference for t in removed)
            self._status(
                _(
                    "Removed {names} from the register; the payment itself is not touched. Undo: Ctrl+Z."
                ).format(names=names)
            )
        self.undo_changed.emit()

    async def undo(self, rows: RowPlaces) -> None:
        """Put the payments removed last back (once: Undo is then disabled until the next removal), at
        the rows of ``rows`` they were at."""
        removed, self._removed = self._removed, []
        places, self._places = self._places, {}
        self.undo_changed.emit()
        if not removed:
            return
        back = await self._desk.restore_payments(removed)
        rows.move_rows_to({r: places[r] for r in back if r in places})
        if back:
            self.restored.emit(back[0])
            self._status(_("Back in the register: {back}.").format(back=", ".join(back)))
        self.undo_changed.emit()

    async def export(self, rows: Sequence[TrackedPayment], path: str | None) -> None:
        """``rows`` (the list as shown) to a CSV file at ``path``; asks where when ``path`` is None."""
        if path is None:
            path = await self._ask_where()
            if path is None:
                return
        count = await self._desk.export_payments_csv(rows, Path(path))
        self._status(
            ngettext(
                "Exported {count} payment to {path}.", "Exported {count} payments to {path}.", count
            ).format(count=count, path=path)
        )

    async def _ask_where(self) -> str | None:
        from PySide6.QtWidgets import QFileDialog

        from epay_desktop.ui.aio import wait_finished

        chooser = QFileDialog(
            self._parent_widget, _("Export list as CSV"), "payments.csv", _("CSV files (*.csv)")
        )
        chooser.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        chooser.setDefaultSuffix("csv")
        try:
            if await wait_finished(chooser) != QFileDialog.DialogCode.Accepted or not chooser.selectedFiles():
                return None
            return str(chooser.selectedFiles()[0])
        finally:
            chooser.deleteLater()
