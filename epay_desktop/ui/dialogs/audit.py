"""The audit log: who did what, when, to which payment, with what result. Sortable, filterable, exportable.

:class:`AuditTableModel` is a thin model over the store's ``AuditEntry`` records (read through
``desk.audit()``); :class:`AuditView` adds a filter box (any column, as you type), a Refresh button and
"Export CSV…" (``desk.export_audit_csv(path)``: the whole log, oldest first, written by the services).

Usage (main window)::

    view = AuditView(desk)                 # a plain QWidget: put it in a dock, a tab or AuditDialog
    dialog = AuditDialog(desk, parent=window); dialog.open()    # ready-made window around it
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QCloseEvent, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from epay_desktop.i18n import N_, _, ngettext, translate
from epay_desktop.ui.aio import wait_finished
from epay_desktop.ui.audit_words import action_text, result_text
from epay_desktop.ui.dialogs.feedback import StatusLabel, Tone, dialog_runner
from epay_desktop.ui.formatting import format_datetime, format_money

if TYPE_CHECKING:
    from epay_desktop.services import DeskSurface
    from epay_desktop.store import AuditEntry

# Custom roles are named constants (ENGINEERING.md §6.2).
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 2

_FAILED_WORDS = ("fail", "error", "refused", "rejected", "unknown", "denied")
_FAILED_COLOR = QColor("#b00020")
_PENDING_COLOR = QColor("#8a4b00")
_REQUESTED = "requested"  # the journal's line for an intent written down before it is sent
Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class Column:
    """``key``: the column's name in code; ``title``: its heading, marked for the catalog (shown in the
    language in use)."""

    key: str
    title: str
    text: Callable[[AuditEntry], str]
    sort_key: Callable[[AuditEntry], Any]


# Actions and results are stored as the words the code writes and shown translated (ui/audit_words);
# they sort by what is shown, so the order reads right in every language.
COLUMNS: tuple[Column, ...] = (
    Column("when", N_("When"), lambda e: format_datetime(e.at), lambda e: (e.at.timestamp(), e.id)),
    Column("who", N_("Who"), lambda e: e.os_user, lambda e: e.os_user.casefold()),
    Column("profile", N_("Profile"), lambda e: e.profile, lambda e: e.profile.casefold()),
    Column("msn", N_("MSN"), lambda e: e.merchant_serial_number, lambda e: e.merchant_serial_number),
    Column(
        "action", N_("Action"), lambda e: action_text(e.action), lambda e: action_text(e.action).casefold()
    ),
    Column("reference", N_("Reference"), lambda e: e.reference, lambda e: e.reference),
    Column(
        "amount",
        N_("Amount"),
        lambda e: format_money(e.amount),
        # Sort by currency, then exact minor units (never a float).
        lambda e: (e.amount.currency.value, e.amount.value) if e.amount else ("", -1),
    ),
    Column(
        "result", N_("Result"), lambda e: result_text(e.result), lambda e: result_text(e.result).casefold()
    ),
    Column("detail", N_("Detail"), lambda e: e.detail, lambda e: e.detail.casefold()),
)


def looks_failed(result: str) -> bool:
    lowered = result.casefold()
    return any(word in lowered for word in _FAILED_WORDS)


class AuditTableModel(QAbstractTableModel):
    """Rows are ``AuditEntry`` records (newest first as the store gives them); read-only."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._entries: list[AuditEntry] = []
        self._pending_keys: frozenset[str] = frozenset()

    def set_entries(self, entries: Sequence[AuditEntry], pending_keys: Iterable[str] = ()) -> None:
        """``pending_keys``: the idempotency keys of the journal's intents whose outcome is not known yet;
        their "requested" line reads as pending until the intent is settled."""
        self.beginResetModel()
        self._entries = list(entries)
        self._pending_keys = frozenset(pending_keys)
        self.endResetModel()

    def is_pending(self, entry: AuditEntry) -> bool:
        return (
            entry.result == _REQUESTED
            and bool(entry.idempotency_key)
            and entry.idempotency_key in self._pending_keys
        )

    def entry(self, row: int) -> AuditEntry:
        return self._entries[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation is Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(COLUMNS):
            return translate(COLUMNS[section].title)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._entries)):
            return None
        if not (0 <= index.column() < len(COLUMNS)):
            return None
        entry = self._entries[index.row()]
        column = COLUMNS[index.column()]
        pending_result = column.key == "result" and self.is_pending(entry)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return _("pending: outcome not known yet") if pending_result else column.text(entry)
        if role == Qt.ItemDataRole.ToolTipRole and pending_result:
            return _(
                "Sent, but the answer was lost: the journal keeps this as pending until Check now (or a "
                "refresh) settles it from the payment's event log."
            )
        if role == Qt.ItemDataRole.ForegroundRole and pending_result:
            return QBrush(_PENDING_COLOR)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column.key == "when":
                return entry.at.isoformat()
            if column.key == "detail" or (column.key == "result" and entry.detail):
                return entry.detail or None
            if column.key == "reference" and entry.idempotency_key:
                return f"Idempotency-Key {entry.idempotency_key}"
            return None
        if role == SORT_ROLE:
            return column.sort_key(entry)
        if role == ENTRY_ROLE:
            return entry
        if role == Qt.ItemDataRole.ForegroundRole and column.key == "result" and looks_failed(entry.result):
            return QBrush(_FAILED_COLOR)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.key == "amount":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class AuditFilterModel(QSortFilterProxyModel):
    """Sorts by :data:`SORT_ROLE` (exact values, not display text) and keeps rows where any column
    contains every word of the filter text (case-insensitive): the text shown, and the action and result
    also as stored, so "cancel" finds the cancels whatever the language."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._words: tuple[str, ...] = ()

    def set_filter_text(self, text: str) -> None:
        # Qt 6.10+: begin/endFilterChange replace the deprecated invalidateFilter().
        self.beginFilterChange()
        self._words = tuple(text.casefold().split())
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if not self._words:
            return True
        model = self.sourceModel()
        shown = [
            str(model.data(model.index(source_row, column, source_parent)) or "")
            for column in range(model.columnCount(source_parent))
        ]
        entry = model.data(model.index(source_row, 0, source_parent), ENTRY_ROLE)
        stored = [entry.action, entry.result] if entry is not None else []
        haystack = " ".join(shown + stored).casefold()
        return all(word in haystack for word in self._words)

    def lessThan(self, left: Index, right: Index) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)


class AuditView(QWidget):
    """The audit log as a sortable, filterable table with Refresh and "Export CSV…".

    Signals:
        exported(str, int): the CSV path and how many entries were written.
    """

    exported = Signal(str, int)

    def __init__(self, desk: DeskSurface, parent: QWidget | None = None, *, limit: int = 5000) -> None:
        super().__init__(parent)
        self.desk = desk
        self.limit = limit
        self.setObjectName("AuditView")
        self.file_dialog: QFileDialog | None = None

        self.model = AuditTableModel(self)
        self.proxy = AuditFilterModel(self)
        self.proxy.setSourceModel(self.model)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("AuditFilter")
        self.filter_edit.setAccessibleName(_("Filter the audit log"))
        self.filter_edit.setPlaceholderText(
            _("Filter: reference, user, action, result… (all words must match)")
        )
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._filter_changed)
        filter_label = QLabel(_("&Filter"), self)
        filter_label.setBuddy(self.filter_edit)
        self.table = QTableView(self)
        self.table.setObjectName("AuditTable")
        self.table.setAccessibleName(_("Audit log"))
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("AuditCount")
        self.status = StatusLabel(_("Audit log status"), self)
        self.status.setObjectName("AuditStatus")
        self.runner = dialog_runner(self.status, self._busy_changed)

        self.refresh_button = QPushButton(_("&Refresh"), self)
        self.refresh_button.setAccessibleName(_("Reload the audit log"))
        self.refresh_button.clicked.connect(self.start_reload)
        self.export_button = QPushButton(_("&Export CSV…"), self)
        self.export_button.setAccessibleName(_("Export the whole audit log as CSV"))
        self.export_button.clicked.connect(self.start_export)
        find = QShortcut(QKeySequence.StandardKey.Find, self)
        find.activated.connect(self.filter_edit.setFocus)

        top = QHBoxLayout()
        top.addWidget(filter_label)
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label)
        bottom.addWidget(self.status, 1)
        layout.addLayout(bottom)
        self._update_count()

    # --- slots (one line each) -------------------------------------------------------------------

    def start_reload(self) -> None:
        self.runner.start("reload", self.reload())

    def start_export(self) -> None:
        self.runner.start("export", self.export(), replace=False)

    def _filter_changed(self, text: str) -> None:
        self.proxy.set_filter_text(text)
        self._update_count()

    def _busy_changed(self, _name: str, _busy: bool) -> None:
        self.refresh_button.setEnabled(not self.runner.is_running("reload"))
        self.export_button.setEnabled(not self.runner.is_running("export"))

    # --- work ------------------------------------------------------------------------------------

    async def reload(self) -> int:
        entries = await self.desk.audit(self.limit)
        pending = await self.desk.pending_intents()
        self.model.set_entries(entries, (intent.idempotency_key for intent in pending))
        self.table.resizeColumnsToContents()
        self._update_count()
        return len(entries)

    async def export(self) -> int | None:
        path = await self.choose_export_path()
        if path is None:
            return None
        self.status.show_message(_("Exporting to {name}…").format(name=path.name))
        count = await self.desk.export_audit_csv(path)
        exported = ngettext("Exported {count} entry to {path}.", "Exported {count} entries to {path}.", count)
        self.status.show_message(exported.format(count=count, path=path), Tone.OK)
        self.exported.emit(str(path), count)
        return count

    async def choose_export_path(self) -> Path | None:
        dialog = QFileDialog(self, _("Export the audit log as CSV"))
        dialog.setObjectName("ExportAuditFileDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setNameFilters([_("CSV files (*.csv)")])
        dialog.setDefaultSuffix("csv")
        dialog.selectFile(f"audit-{self.desk.profile.slug}.csv")
        self.file_dialog = dialog
        try:
            if await wait_finished(dialog) != QDialog.DialogCode.Accepted or not dialog.selectedFiles():
                return None
            return Path(dialog.selectedFiles()[0])
        finally:
            self.file_dialog = None
            dialog.deleteLater()

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        if shown != total:
            text = ngettext("{shown} of {total} entry", "{shown} of {total} entries", total)
        else:
            text = ngettext("{total} entry", "{total} entries", total)
        self.count_label.setText(text.format(shown=shown, total=total))

    def stop(self) -> None:
        self.runner.cancel("reload")
        self.runner.cancel("export")


class AuditDialog(QDialog):
    """A window around :class:`AuditView` that loads the log when opened."""

    def __init__(self, desk: DeskSurface, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AuditDialog")
        self.setWindowTitle(_("Audit log: {name}").format(name=desk.profile.name))
        self.view = AuditView(desk, self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName(_("Close"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self.resize(980, 520)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.view.start_reload()

    def done(self, result: int) -> None:
        self.view.stop()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.view.stop()
        super().closeEvent(event)


__all__ = [
    "COLUMNS",
    "ENTRY_ROLE",
    "SORT_ROLE",
    "AuditDialog",
    "AuditFilterModel",
    "AuditTableModel",
    "AuditView",
]
