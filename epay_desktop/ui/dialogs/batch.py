"""Cancel N payments… / Capture N payments…: the preview, the run and its results in one dialog.

The preview lists each payment with exactly what will happen (or why it is skipped) and the totals per
currency; "Keep payments" is the default button. In Production the number of payments must be typed
before Start is enabled. While it runs: progress, Stop (no new sends; those on the wire finish) and one
result per row as it arrives; at the end a summary. The sending is ``services.batch.BatchRun``'s; this
dialog only shows it (the window's runner runs it).

It opens on the event loop beside whatever else runs (a refresh of every payment), so it costs little
per pass of the loop: made without rows, then a screen of rows a step per pass (a batch may be every row
shown), the columns fitted from one measured cell each, one line per row (uniform heights), and the
progress painted with the rest of the dialog rather than inside each result.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import QCoreApplication, QEvent, QLocale, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from epay_desktop.domain import Action
from epay_desktop.i18n import N_, _, ngettext, translate
from epay_desktop.services.batch import BatchItem, BatchOutcome, BatchPlan, BatchResult
from epay_desktop.ui.formatting import format_money

ROWS_AT_ONCE = 20  # rows listed per pass of the event loop: the dialog shows about 18 at its size

RESULT_WORDS = {
    BatchOutcome.DONE: N_("Done"),
    BatchOutcome.FAILED: N_("Failed: nothing moved"),
    BatchOutcome.UNKNOWN: N_("Outcome unknown: recovery finishes it"),
    BatchOutcome.NOT_SENT: N_("Not sent (stopped)"),
}


class BatchDialog(QDialog):
    """Signals: ``start_requested()`` (the person confirmed), ``stop_requested()``,
    ``first_rows_listed()`` (the first screen of the plan's rows is in the list) and ``rows_listed()``
    (every row is: they are listed a step per pass of the event loop from the pass after the dialog is
    made, which has enough to do; the flow opens it once the first screen, or every row, is there; a
    result that arrives before its row is shown with it)."""

    start_requested = Signal()
    stop_requested = Signal()
    first_rows_listed = Signal()
    rows_listed = Signal()

    def __init__(
        self,
        plan: BatchPlan,
        *,
        production: bool = False,
        parent: QWidget | None = None,
        locale: QLocale | None = None,
    ) -> None:
        super().__init__(parent)
        self.plan = plan
        self._loc = locale if locale is not None else QLocale()
        count = len(plan.planned)
        cancel = plan.action is Action.CANCEL
        self.setObjectName("BatchDialog")
        title = (
            ngettext("Cancel {count} payment", "Cancel {count} payments", count)
            if cancel
            else ngettext("Capture {count} payment", "Capture {count} payments", count)
        )
        self.setWindowTitle(title.format(count=count))
        self.setModal(True)
        layout = QVBoxLayout(self)
        self.headline = QLabel(self)
        self.headline.setWordWrap(True)
        totals = ", ".join(format_money(money, self._loc) for money in plan.totals().values()) or "0"
        headline = (
            ngettext(
                "<b>Release {totals} to the customer of {count} payment?</b>",
                "<b>Release {totals} to the customers of {count} payments?</b>",
                count,
            )
            if cancel
            else ngettext(
                "<b>Capture {totals} from {count} payment (its whole remaining amount)?</b>",
                "<b>Capture {totals} from {count} payments (each its whole remaining amount)?</b>",
                count,
            )
        )
        self.headline.setText(headline.format(totals=totals, count=count))
        layout.addWidget(self.headline)
        self.rows = QTreeWidget(self)
        self.rows.setObjectName("BatchRows")
        self.rows.setRootIsDecorated(False)
        # One line of text per row: the view takes every row's height from the first, instead of
        # laying out each row's text to learn it.
        self.rows.setUniformRowHeights(True)
        self.rows.setHeaderLabels([_("Payment"), _("What will happen"), _("Result")])
        self._released = _("Release {amount}") if cancel else _("Capture {amount}")
        self._items: dict[str, QTreeWidgetItem] = {}
        self._unlisted = iter(plan.items)  # the rows not in the list yet
        self._early: dict[str, BatchResult] = {}  # results of rows not in the list yet
        self.rows_complete = False
        self.first_rows_in = False  # the first step of rows is listed
        self._widths: list[int] = []  # the columns' widths for the rows listed so far
        # A step of rows per pass of the event loop, from the next one (a batch may be every row shown:
        # thousands, each formatted and measured; the first screen of them formatted and measured here
        # was a millisecond more in the pass that makes the dialog).
        self._listing = QTimer(self)
        self._listing.setInterval(0)
        self._listing.timeout.connect(self._list_more)
        self._listing.start()
        layout.addWidget(self.rows, 1)
        skipped = len(plan.skipped)
        self.summary = QLabel(
            ngettext(
                "{count} will be skipped (see why in the list).",
                "{count} will be skipped (see why in the list).",
                skipped,
            ).format(count=skipped)
            if skipped
            else "",
            self,
        )
        self.summary.setObjectName("BatchSummary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        undone = (
            _("Cancelling cannot be undone.")
            if cancel
            else _("A capture cannot be undone; only a refund gives money back.")
        )
        self.warning = QLabel(f"<b>{undone}</b>", self)
        layout.addWidget(self.warning)
        self.confirm_input: QLineEdit | None = None
        if production:
            prompt = QLabel(
                _(
                    "This is <b>PRODUCTION</b>: real money. To confirm, type the number of payments "
                    "({count}):"
                ).format(count=count),
                self,
            )
            prompt.setWordWrap(True)
            layout.addWidget(prompt)
            self.confirm_input = QLineEdit(self)
            self.confirm_input.setObjectName("ConfirmCount")
            self.confirm_input.setAccessibleName(_("Number of payments"))
            self.confirm_input.textChanged.connect(self._update)
            prompt.setBuddy(self.confirm_input)
            layout.addWidget(self.confirm_input)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, max(count, 1))
        self.progress.setValue(0)
        self.progress.hide()
        layout.addWidget(self.progress)
        buttons = QDialogButtonBox(self)
        self.keep_button = QPushButton(_("Keep payments"), self)
        self.keep_button.setDefault(True)
        self.keep_button.setAutoDefault(True)
        self.start_button = QPushButton(title.format(count=count), self)
        self.start_button.setObjectName("DestructiveButton")
        self.start_button.setAutoDefault(False)
        self.stop_button = QPushButton(_("Stop"), self)
        self.stop_button.setToolTip(_("No new sends; those on the way finish and are recorded."))
        buttons.addButton(self.start_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton(self.stop_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.keep_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.stop_button.hide()  # after addButton, which shows each button it adds
        self.keep_button.clicked.connect(self.reject)
        self.start_button.clicked.connect(self._start)
        self.stop_button.clicked.connect(self._stop)
        layout.addWidget(buttons)
        self.running = False
        self.finished_run = False
        self.last_summary = ""
        self._update()
        (self.confirm_input or self.keep_button).setFocus()
        self.resize(640, 420)

    def lay_out(self) -> None:
        """Work out the layout and its widgets' sizes now, while hidden: a millisecond or two that
        ``open()`` would otherwise spend in the same pass of the event loop as the first paint."""
        layout = self.layout()
        if layout is not None:
            layout.activate()

    def open(self) -> None:
        super().open()
        # Showing asks every widget for an update with a posted event, and the window's expose (its
        # first paint) comes before posted events: the whole dialog was painted a second time right
        # after the first, in the same pass of the event loop. Marked now, they are painted in the one.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.UpdateLater)

    # --- the rows --------------------------------------------------------------------------------------
    def _list_more(self) -> None:
        """The next ``ROWS_AT_ONCE`` rows into the list, in the plan's order, the columns widened to
        fit them; the timer stops after the last."""
        added = [self._row(entry) for entry in itertools.islice(self._unlisted, ROWS_AT_ONCE)]
        self.rows.addTopLevelItems(added)
        self._widths = fit_columns(self.rows, added, self._widths)
        for item in added:
            early = self._early.pop(item.text(0), None)
            if early is not None:
                self._show_outcome(item, early)
        first = not self.first_rows_in
        self.first_rows_in = True
        if len(added) < ROWS_AT_ONCE:
            self._listing.stop()
            self.rows_complete = True
        if first:
            self.first_rows_listed.emit()
        if self.rows_complete:
            self.rows_listed.emit()

    def _row(self, entry: BatchItem) -> QTreeWidgetItem:
        if entry.planned:
            assert entry.amount is not None
            what = self._released.format(amount=format_money(entry.amount, self._loc))
        else:
            what = _("Skipped: {why}").format(why=entry.skip)
        item = QTreeWidgetItem([entry.reference, what, ""])
        self._items[entry.reference] = item
        return item

    # --- the run ---------------------------------------------------------------------------------------
    def show_result(self, result: BatchResult) -> None:
        item = self._items.get(result.reference)
        if item is not None:
            self._show_outcome(item, result)
        elif not self.rows_complete:
            self._early[result.reference] = result  # shown when its row is listed
        # QProgressBar.setValue paints the bar at once, inside this call; with updates held off for the
        # call, the change is painted with the rest of the window in its next paint.
        self.progress.setUpdatesEnabled(False)
        try:
            self.progress.setValue(self.progress.value() + 1)
        finally:
            self.progress.setUpdatesEnabled(True)

    @staticmethod
    def _show_outcome(item: QTreeWidgetItem, result: BatchResult) -> None:
        item.setText(2, translate(RESULT_WORDS[result.outcome]))
        item.setToolTip(2, result.message)

    def show_finished(self, results: list[BatchResult], stopped: bool) -> None:
        counts = {outcome: 0 for outcome in BatchOutcome}
        for result in results:
            counts[result.outcome] += 1
        text = (
            _(
                "Stopped: {done} done, {failed} failed, {unknown} with an unknown outcome, "
                "{not_sent} not sent."
            )
            if stopped
            else _("{done} done, {failed} failed, {unknown} with an unknown outcome, {not_sent} not sent.")
        )
        self.summary.setText(
            text.format(
                done=counts[BatchOutcome.DONE],
                failed=counts[BatchOutcome.FAILED],
                unknown=counts[BatchOutcome.UNKNOWN],
                not_sent=counts[BatchOutcome.NOT_SENT],
            )
        )
        self.last_summary = self.summary.text()
        self.running = False
        self.finished_run = True
        self.stop_button.hide()
        self.keep_button.setText(_("Close"))
        self.keep_button.setEnabled(True)

    def _start(self) -> None:
        if not self.start_button.isEnabled():
            return
        self.running = True
        self.start_button.hide()
        self.keep_button.setEnabled(False)
        self.stop_button.show()
        self.progress.show()
        self.start_requested.emit()

    def _stop(self) -> None:
        self.stop_button.setEnabled(False)
        self.stop_button.setText(_("Stopping…"))
        self.stop_requested.emit()

    def reject(self) -> None:
        if self.running:
            return  # Stop first: the sends on the way finish
        super().reject()

    def _update(self) -> None:
        typed_ok = self.confirm_input is None or self.confirm_input.text().strip() == str(
            len(self.plan.planned)
        )
        self.start_button.setEnabled(bool(self.plan.planned) and typed_ok)
        self.keep_button.setDefault(True)


def fit_columns(tree: QTreeWidget, added: list[QTreeWidgetItem], fitted: list[int]) -> list[int]:
    """Each column as wide as ``resizeColumnToContents`` makes it once ``added`` are listed, after rows
    whose widths were ``fitted`` (empty for the first rows); returns the new widths.

    Qt measures every cell for that, each with a text layout (milliseconds for a batch's rows, on the
    event loop while the dialog opens). Here the widest text of ``added`` in the view's font is found
    with font metrics, and only its cell is measured as Qt measures one (the cell's margins and the
    style's padding included); the header's own width is the floor, as with Qt's. Every column is set,
    the last one too: shown with room to spare, Qt stretches the last column, and it would stay
    stretched once the others grow."""
    header = tree.header()
    metrics = tree.fontMetrics()
    widths = []
    for column in range(tree.columnCount()):
        widest = max(added, key=lambda item: metrics.horizontalAdvance(item.text(column)), default=None)
        contents = 0 if widest is None else tree.sizeHintForIndex(tree.indexFromItem(widest, column)).width()
        width = max(contents, header.sectionSizeHint(column), fitted[column] if fitted else 0)
        header.resizeSection(column, width)
        widths.append(width)
    return widths


__all__ = ["RESULT_WORDS", "ROWS_AT_ONCE", "BatchDialog", "fit_columns"]
