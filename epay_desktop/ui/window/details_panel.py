"""The details of the selected payment: exact figures, what can still be done, the event timeline.

Shows a ``TrackedPayment`` as it is; what can be done comes from ``domain.check_action`` (never
recomputed here).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from PySide6.QtCore import QLocale, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTabWidget,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from epay_desktop.domain import Action, PaymentEvent, TrackedPayment, check_action
from epay_desktop.domain.breakdown import breakdown
from epay_desktop.i18n import N_, _, translate
from epay_desktop.ui.first_paint import set_qt_enum
from epay_desktop.ui.formatting import format_datetime, format_money

_ACTION_LABELS = {Action.CANCEL: N_("Cancel"), Action.CAPTURE: N_("Capture"), Action.REFUND: N_("Refund")}
_ACTION_POSSIBLE = {
    Action.CANCEL: N_("Cancel possible"),
    Action.CAPTURE: N_("Capture possible"),
    Action.REFUND: N_("Refund possible"),
}
_ACTION_YES = {
    Action.CANCEL: N_("Yes: releases {amount}"),
    Action.CAPTURE: N_("Yes: up to {amount}"),
    Action.REFUND: N_("Yes: up to {amount}"),
}
EVENT_COLUMNS = (N_("Event"), N_("Amount"), N_("Time"), N_("Success"), N_("Idempotency key"))
KEY_COLUMN = 4


def _value_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    set_qt_enum(label, "textInteractionFlags", "TextSelectableByMouse|TextSelectableByKeyboard")
    label.setAccessibleName(name)
    label.setWordWrap(True)
    return label


class DetailsPanel(QWidget):
    """Read-only view of one payment. ``show_payment(None)`` shows the empty hint."""

    psp_reference_copied = Signal(str)

    def __init__(self, parent: QWidget | None = None, locale: QLocale | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DetailsPanel")
        self.setAccessibleName(_("Payment details"))
        self._locale = locale if locale is not None else QLocale()
        self._tracked: TrackedPayment | None = None
        # The payment and the event log the timeline lists now (None: nothing, or a problem's words).
        self._listed: tuple[str, tuple[PaymentEvent, ...]] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)

        self.title = QLabel(_("Select a payment to see its details."), self)
        self.title.setObjectName("DetailsTitle")
        self.title.setWordWrap(True)
        set_qt_enum(self.title, "textInteractionFlags", "TextSelectableByMouse")
        layout.addWidget(self.title)
        # Why the last refresh failed, in words; its traceId (one long unbreakable word that would widen
        # the panel past its scroll area) in a field of its own, whole and easy to copy for support.
        self.problem = QLabel(self)
        self.problem.setObjectName("DetailsProblem")
        self.problem.setWordWrap(True)
        self.problem.setMinimumWidth(1)  # a long word is cut in this label, never the panel
        set_qt_enum(self.problem, "textInteractionFlags", "TextSelectableByMouse|TextSelectableByKeyboard")
        self.problem.hide()
        layout.addWidget(self.problem)
        self.trace_row = QWidget(self)
        trace_layout = QHBoxLayout(self.trace_row)
        trace_layout.setContentsMargins(0, 0, 0, 0)
        trace_layout.addWidget(QLabel("traceId", self.trace_row))
        self.trace_id = QLineEdit(self.trace_row)
        self.trace_id.setReadOnly(True)
        self.trace_id.setAccessibleName(_("traceId of the failed refresh"))
        trace_layout.addWidget(self.trace_id, 1)
        self.trace_row.hide()
        layout.addWidget(self.trace_row)
        self.notice = QLabel(self)
        self.notice.setObjectName("DetailsNotice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        layout.addWidget(self.notice)

        money_box = QGroupBox(_("Money"), self)
        money_form = QFormLayout(money_box)
        self.figures: dict[str, QLabel] = {}
        for key, label in (
            ("amount", _("Amount")),
            ("authorized", _("Authorized")),
            ("captured", _("Captured")),
            ("refunded", _("Refunded")),
            ("cancelled", _("Cancelled")),
            ("reserved", _("Still reserved")),
        ):
            value = _value_label(money_box, label)
            set_qt_enum(value, "alignment", "AlignRight|AlignVCenter")
            self.figures[key] = value
            money_form.addRow(label, value)
        layout.addWidget(money_box)

        actions_box = QGroupBox(_("What can still be done"), self)
        actions_form = QFormLayout(actions_box)
        self.action_labels: dict[Action, QLabel] = {}
        for action in Action:
            value = _value_label(actions_box, translate(_ACTION_POSSIBLE[action]))
            self.action_labels[action] = value
            actions_form.addRow(translate(_ACTION_LABELS[action]), value)
        # captureGuaranteedUntil: until when a capture of the reservation is sure to succeed.
        self.guarantee = _value_label(actions_box, _("Capture guaranteed until"))
        actions_form.addRow(_("Capture guarantee"), self.guarantee)
        layout.addWidget(actions_box)

        psp_row = QHBoxLayout()
        psp_row.addWidget(QLabel("pspReference", self))
        self.psp_reference = QLineEdit(self)
        self.psp_reference.setReadOnly(True)
        self.psp_reference.setAccessibleName("pspReference")
        psp_row.addWidget(self.psp_reference, 1)
        self.copy_button = QToolButton(self)
        self.copy_button.setText(_("Copy"))
        self.copy_button.setToolTip(_("Copy the pspReference to the clipboard"))
        self.copy_button.setAccessibleName(_("Copy pspReference"))
        self.copy_button.clicked.connect(self.copy_psp_reference)
        psp_row.addWidget(self.copy_button)
        layout.addLayout(psp_row)

        self.events_label = QLabel(_("Events"), self)
        layout.addWidget(self.events_label)
        self.timeline_tabs: QTabWidget | None = None
        self.events = QTreeWidget(self)
        self.events.setObjectName("EventTimeline")
        self.events.setAccessibleName(_("Event timeline"))
        self.events.setRootIsDecorated(False)
        self.events.setUniformRowHeights(True)
        self.events.setAlternatingRowColors(True)
        self.events.setHeaderLabels([translate(title) for title in EVENT_COLUMNS])
        # The timeline never scrolls sideways: the short columns fit their contents and the idempotency
        # key takes what is left, elided in the middle (its tooltip has it in full).
        header = self.events.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(KEY_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)  # a stretched last section never goes below 100 px
        header.setMinimumSectionSize(24)
        set_qt_enum(self.events, "textElideMode", "ElideMiddle")
        set_qt_enum(header, "textElideMode", "ElideRight")
        self.events.headerItem().setToolTip(KEY_COLUMN, _("Idempotency key (a row's tooltip has it whole)"))
        set_qt_enum(self.events, "horizontalScrollBarPolicy", "ScrollBarAlwaysOff")
        layout.addWidget(self.events, 1)
        self.show_payment(None)

    def add_timeline_tab(self, widget: QWidget, title: str) -> QTabWidget:
        """Show ``widget`` in a tab beside the event timeline (the timeline and its label become the
        first tab), in the same room: the panel grows no taller."""
        if self.timeline_tabs is None:
            layout = self.layout()
            assert isinstance(layout, QVBoxLayout)
            index = layout.indexOf(self.events_label)
            layout.removeWidget(self.events_label)
            self.events_label.hide()
            layout.removeWidget(self.events)
            self.timeline_tabs = QTabWidget(self)
            self.timeline_tabs.setObjectName("TimelineTabs")
            self.timeline_tabs.setDocumentMode(True)
            self.timeline_tabs.addTab(self.events, _("Events"))
            layout.insertWidget(index, self.timeline_tabs, 1)
        self.timeline_tabs.addTab(widget, title)
        return self.timeline_tabs

    @property
    def tracked(self) -> TrackedPayment | None:
        return self._tracked

    def show_payment(self, tracked: TrackedPayment | None) -> None:
        if tracked is not None and tracked == self._tracked:
            # The row shown changed but not its payment (a busy mark, a pending operation): every text
            # here would be set to what it says already, each label laid out and painted again.
            return
        self._tracked = tracked
        loc = self._locale
        # The same payment shown again (it was refreshed or marked busy) keeps its timeline until its new
        # log is read: cleared and filled again, the timeline was laid out twice per update, and blank
        # in between.
        keep = (
            tracked is not None
            and tracked.payment is not None
            and self._listed is not None
            and self._listed[0] == tracked.reference
        )
        if not keep:
            self._clear_events()
        if tracked is None:
            self.title.setText(_("Select a payment to see its details."))
            self._show_problem("")
            self.notice.hide()
            for label in (*self.figures.values(), *self.action_labels.values(), self.guarantee):
                label.setText("–")
            self.psp_reference.clear()
            self.copy_button.setEnabled(False)
            return
        description = f" — {tracked.description}" if tracked.description else ""
        self.title.setText(f"<b>{_escape(tracked.reference)}</b>{_escape(description)}")
        self.title.setAccessibleName(_("Payment {reference}").format(reference=tracked.reference))
        self._show_problem(tracked.fetch_error)
        if tracked.fetched_at is not None:
            self.notice.setText(
                _("Fetched {fetched_at}.").format(fetched_at=format_datetime(tracked.fetched_at, loc))
            )
        self.notice.setVisible(tracked.fetched_at is not None)
        payment = tracked.payment
        if payment is None:
            for label in (*self.figures.values(), *self.action_labels.values(), self.guarantee):
                label.setText("–")
            from epay_desktop.ui.table.model import state_text  # loaded once a desk is bound

            self.figures["amount"].setText(state_text(tracked))
            self.psp_reference.clear()
            self.copy_button.setEnabled(False)
            return
        agg = payment.aggregate
        parts = breakdown(payment)
        self.figures["amount"].setText(f"{format_money(payment.amount, loc)}  ({payment.display_state})")
        self.figures["authorized"].setText(format_money(agg.authorized, loc))
        self.figures["captured"].setText(format_money(agg.captured, loc))
        self.figures["refunded"].setText(format_money(agg.refunded, loc))
        self.figures["cancelled"].setText(format_money(agg.cancelled, loc))
        self.figures["reserved"].setText(format_money(parts.reserved, loc))
        for action, label in self.action_labels.items():
            check = check_action(payment, action, authorizing=tracked.authorizing)
            if check.allowed:
                label.setText(translate(_ACTION_YES[action]).format(amount=format_money(check.amount, loc)))
            elif check.later:
                label.setText(_("Not now. {reason}").format(reason=check.reason))
            else:
                label.setText(_("No. {reason}").format(reason=check.reason))
        from epay_desktop.ui.table.cells import guarantee_text  # loaded once a desk is bound

        self.guarantee.setText(guarantee_text(payment, datetime.now(UTC), loc) or "–")
        self.psp_reference.setText(payment.psp_reference)
        self.psp_reference.setCursorPosition(0)  # show its start, not its end
        self.copy_button.setEnabled(bool(payment.psp_reference))
        if tracked.events is not None:
            self._fill_events(tracked.events)

    def _show_problem(self, fetch_error: str) -> None:
        words, trace_id = split_trace_id(fetch_error)
        self.problem.setText(
            _("Last refresh failed: {fetch_error}").format(fetch_error=words) if words else ""
        )
        self.problem.setVisible(bool(words))
        self.trace_id.setText(trace_id)
        self.trace_id.setCursorPosition(0)
        self.trace_row.setVisible(bool(trace_id))

    def show_events(self, reference: str, events: tuple[PaymentEvent, ...] | None, problem: str = "") -> None:
        """The event log of ``reference``, read after the payment was shown (the list carries none);
        ignored when another payment is shown by now or this one's log is already there."""
        shown = self._tracked
        if shown is None or shown.reference != reference or shown.events is not None:
            return
        if problem:
            self._clear_events()
            self.events.addTopLevelItem(QTreeWidgetItem([problem]))
        elif events is not None:
            self._fill_events(events)

    def _clear_events(self) -> None:
        self.events.clear()
        self._listed = None

    def _fill_events(self, events: tuple[PaymentEvent, ...]) -> None:
        """List ``events`` for the payment shown; nothing is done when they are what is listed."""
        from PySide6.QtCore import Qt  # not before the first paint (ui/first_paint.py)

        assert self._tracked is not None
        listed = (self._tracked.reference, events)
        if self._listed == listed:
            return
        self.events.clear()
        self._listed = listed
        loc = self._locale
        for event in events:
            item = QTreeWidgetItem(
                [
                    event.display_name,
                    format_money(event.amount, loc),
                    format_datetime(event.timestamp, loc),
                    _("Yes") if event.success else _("No"),
                    event.idempotency_key or "",
                ]
            )
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if not event.success:
                item.setToolTip(3, _("The API reports that this operation failed."))
            if event.idempotency_key:
                item.setToolTip(
                    KEY_COLUMN,
                    _("Idempotency key: {idempotency_key}").format(idempotency_key=event.idempotency_key),
                )
            self.events.addTopLevelItem(item)

    def copy_psp_reference(self) -> None:
        text = self.psp_reference.text()
        if not text:
            return
        QGuiApplication.clipboard().setText(text)
        self.psp_reference_copied.emit(text)


def split_trace_id(error: str) -> tuple[str, str]:
    """``error`` without its "[traceId …]" part, and that traceId ("" when it has none)."""
    match = _TRACE_ID.search(error)
    if match is None:
        return error, ""
    return (error[: match.start()] + error[match.end() :]).strip(), match.group(1)


_TRACE_ID = re.compile(r"\s*\[traceId ([^\]\s]+)\]")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
