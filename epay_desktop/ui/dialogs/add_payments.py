""" "Add payments by reference": paste one reference or many, see bad lines as you type, or import a CSV.

The API cannot list payments, so the register only knows the references someone gives it. Lines are
checked live against ``REFERENCE_PATTERN`` (bad lines are underlined and listed with their line number
and the reason). "Add" hands the text to ``desk.add_references`` and "Import CSV…" hands the chosen file
to ``desk.import_csv``; the services' report is shown as it came back. After adding, the box keeps only
the lines that were not added, so nothing typed is lost and the person can fix them.

Usage (main window)::

    dialog = AddPaymentsDialog(desk, parent=window)
    dialog.references_added.connect(window.on_references_added)   # list[str] of new references
    dialog.open()
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QKeySequence,
    QShortcut,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from epay_desktop.i18n import _
from epay_desktop.ui.aio import wait_finished
from epay_desktop.ui.dialogs.feedback import StatusLabel, Tone, dialog_runner
from epay_desktop.ui.dialogs.inputs import ReferenceCheck, check_reference_lines, split_line

if TYPE_CHECKING:
    from epay_desktop.services import AddReport, DeskSurface, ImportReport

# Re-checking 10 000 pasted lines takes a few ms; waiting for a pause in typing keeps it off every key.
VALIDATE_DELAY_MS = 150


class AddPaymentsDialog(QDialog):
    """Add references to the register by pasting them or importing a CSV file.

    Signals:
        references_added(list[str]): the references the register did not have before, after each
            successful add or import (not emitted when nothing new was added).
        report_shown(object): the services' ``AddReport`` or ``ImportReport``, as shown.
    """

    references_added = Signal(list)
    report_shown = Signal(object)

    def __init__(self, desk: DeskSurface, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.setWindowTitle(_("Add payments by reference"))
        self.setObjectName("AddPaymentsDialog")
        self.check = ReferenceCheck()
        self.file_dialog: QFileDialog | None = None

        intro = QLabel(
            _(
                "Paste or type payment references: one per line, or separated by spaces, commas or "
                "semicolons (8 to 64 characters: letters, digits and '-')."
            ),
            self,
        )
        intro.setWordWrap(True)
        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName("ReferencesEditor")
        self.editor.setAccessibleName(_("References, one per line"))
        self.editor.setPlaceholderText(_("order-2024-0001\norder-2024-0002\n…"))
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setTabChangesFocus(True)
        intro.setBuddy(self.editor)

        self.summary = QLabel(self)
        self.summary.setObjectName("ReferencesSummary")
        self.summary.setAccessibleName(_("Check of the references"))
        self.problems = QListWidget(self)
        self.problems.setObjectName("ReferenceProblems")
        self.problems.setAccessibleName(_("Lines with problems"))
        self.problems.setMaximumHeight(110)
        self.problems.setWordWrap(True)
        self.problems.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.problems.itemActivated.connect(self._go_to_problem)
        self.status = StatusLabel("Result", self)
        self.status.setObjectName("AddStatus")
        self.runner = dialog_runner(self.status, self._busy_changed)

        self.import_button = QPushButton(_("Import &CSV…"), self)
        self.import_button.setAccessibleName(_("Import references from a CSV file"))
        self.import_button.clicked.connect(self.start_import)
        self.add_button = QPushButton(_("&Add"), self)
        self.add_button.setAccessibleName(_("Add the references to the register"))
        self.add_button.setDefault(True)
        self.add_button.clicked.connect(self.start_add)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName(_("Close"))
        # Ctrl+Enter adds from inside the editor (Enter there is a new line).
        add_shortcut = QShortcut(QKeySequence("Ctrl+Return"), self)
        add_shortcut.activated.connect(self.start_add)

        row = QHBoxLayout()
        row.addWidget(self.import_button)
        row.addStretch(1)
        row.addWidget(self.add_button)
        row.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.problems)
        layout.addWidget(self.status)
        layout.addLayout(row)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(VALIDATE_DELAY_MS)
        self._timer.timeout.connect(self.validate_now)
        self.editor.textChanged.connect(self._timer.start)
        self.resize(560, 460)
        self.validate_now()

    # --- live validation -------------------------------------------------------------------------

    def validate_now(self) -> ReferenceCheck:
        """Check the text now (normally run a moment after typing stops) and mark the bad lines."""
        self._timer.stop()
        self.check = check_reference_lines(self.editor.toPlainText())
        self.summary.setText(self.check.summary())
        self.problems.clear()
        for line in self.check.bad:
            self.problems.addItem(
                _("Line {number}: {problem}.").format(number=line.number, problem=line.problem)
            )
        for line in self.check.duplicates:
            self.problems.addItem(
                _("Line {number}: {text} repeats line {duplicate_of}.").format(
                    number=line.number, text=line.text, duplicate_of=line.duplicate_of
                )
            )
        self.problems.setVisible(self.problems.count() > 0)
        self._mark_bad_lines()
        self.add_button.setEnabled(bool(self.check.references) and not self.busy)
        count = len(self.check.references)
        self.add_button.setText(_("&Add {count}").format(count=count) if count > 1 else _("&Add"))
        return self.check

    def _mark_bad_lines(self) -> None:
        selections = []
        document = self.editor.document()
        for line in self.check.bad:
            block = document.findBlockByNumber(line.number - 1)
            selection = QTextEdit.ExtraSelection()
            selection.cursor = QTextCursor(block)
            text_format = QTextCharFormat()
            text_format.setBackground(QColor(255, 0, 0, 40))
            text_format.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            text_format.setUnderlineColor(QColor("#b00020"))
            text_format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            text_format.setToolTip(
                _("Line {number}: {problem}").format(number=line.number, problem=line.problem)
            )
            selection.format = text_format
            selections.append(selection)
        self.editor.setExtraSelections(selections)

    def _go_to_problem(self) -> None:
        row = self.problems.currentRow()
        listed = [*self.check.bad, *self.check.duplicates]
        if 0 <= row < len(listed):
            block = self.editor.document().findBlockByNumber(listed[row].number - 1)
            cursor = QTextCursor(block)
            cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
            self.editor.setTextCursor(cursor)
            self.editor.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- actions (slots stay one line; the work is in the services) -----------------------------

    def start_add(self) -> None:
        self.runner.start("add", self.add(), replace=False)

    def start_import(self) -> None:
        self.runner.start(
            "import", self.import_csv(), busy=[self.add_button, self.import_button], replace=False
        )

    async def add(self) -> AddReport | None:
        check = self.validate_now()
        if not check.references:
            self.status.show_message(_("Nothing to add: no line is a valid reference."), Tone.WARNING)
            return None
        self.status.show_message(_("Adding {count}…").format(count=len(check.references)))
        report = await self.desk.add_references(self.editor.toPlainText())
        # Keep only what was not added, so a rejected line can be fixed and nothing typed is lost.
        done = set(report.added) | set(report.already_tracked)
        lines = self.editor.toPlainText().splitlines()
        left = [raw for raw in lines if any(token not in done for token in split_line(raw))]
        self.editor.setPlainText("\n".join(left))
        self.validate_now()
        self._show_report(report)
        return report

    async def import_csv(self) -> ImportReport | None:
        path = await self.choose_csv()
        if path is None:
            return None
        self.status.show_message(_("Importing {name}…").format(name=path.name))
        report = await self.desk.import_csv(path)
        self._show_report(report)
        return report

    async def choose_csv(self) -> Path | None:
        """Ask for a CSV file with a window-modal file dialog opened with ``open()`` (never ``exec()``)."""
        dialog = QFileDialog(self, _("Import payment references from CSV"))
        dialog.setObjectName("ImportCsvFileDialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        dialog.setNameFilters([_("CSV files (*.csv *.txt)"), _("All files (*)")])
        self.file_dialog = dialog
        try:
            if await wait_finished(dialog) != QDialog.DialogCode.Accepted or not dialog.selectedFiles():
                return None
            return Path(dialog.selectedFiles()[0])
        finally:
            self.file_dialog = None
            dialog.deleteLater()

    def _show_report(self, report: AddReport | ImportReport) -> None:
        tone = Tone.OK if report.ok else Tone.WARNING
        self.status.show_message(report.summary(), tone)
        if report.rejected:
            for item in report.rejected:
                self.problems.addItem(_("Not added: {problem}").format(problem=item.describe()))
            self.problems.setVisible(True)
        self.report_shown.emit(report)
        if report.added:
            self.references_added.emit(list(report.added))

    @property
    def busy(self) -> bool:
        return self.runner.is_running("add") or self.runner.is_running("import")

    def _busy_changed(self, _name: str, _busy: bool) -> None:
        busy = self.busy
        self.import_button.setEnabled(not busy)
        self.add_button.setEnabled(bool(self.check.references) and not busy)

    def done(self, result: int) -> None:
        # Closing stops the dialog's own work, so no coroutine touches a closed (maybe deleted) dialog.
        self.runner.cancel("add")
        self.runner.cancel("import")
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.runner.cancel("add")
        self.runner.cancel("import")
        super().closeEvent(event)


__all__ = ["AddPaymentsDialog"]
