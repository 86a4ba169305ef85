"""The payments table's vocabulary and cell values: the custom roles, the columns and their headers,
and the pure functions that turn a ``TrackedPayment`` into cell text, tooltips and sort keys.

Nothing here holds state; ``PaymentsModel`` (in ``model``) calls these per row and caches the display
strings, and re-exports every public name.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QLocale, QModelIndex, QPersistentModelIndex, Qt

from epay_desktop.domain import Guarantee, Payment, TrackedPayment, capture_guarantee
from epay_desktop.domain.breakdown import AmountBreakdown, breakdown
from epay_desktop.ui.formatting import format_datetime, format_money, format_percent

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_AnyIndex = QModelIndex | QPersistentModelIndex


class PaymentRoles(enum.IntEnum):
    """Custom roles, in one place. Delegates and views read these; nobody calls services for data.

    They never answer ``None``: PySide6 6.12 drops a reference to ``None`` each time Python reads an
    empty QVariant through ``QModelIndex.data()`` (the interpreter dies once None's count runs out),
    so "no value" is ``NO_VALUE`` (an empty string) instead."""

    TRACKED = Qt.ItemDataRole.UserRole + 1  # the TrackedPayment
    STATE = (
        Qt.ItemDataRole.UserRole + 2
    )  # the State's name (Qt turns str enums into str); NO_VALUE: unfetched
    AGGREGATE = Qt.ItemDataRole.UserRole + 3  # AmountBreakdown; NO_VALUE before the first fetch
    SORT_KEY = Qt.ItemDataRole.UserRole + 4  # a key that orders the column (ints, datetimes, text)
    BUSY = Qt.ItemDataRole.UserRole + 5  # True while an operation on this payment runs
    REFERENCE = Qt.ItemDataRole.UserRole + 6  # str
    STALE = Qt.ItemDataRole.UserRole + 7  # True: fetched long ago, never, or the last refresh failed


NO_VALUE = ""
# The roles a stale mark changes (the rows' text and order stay as they are).
STYLE_ROLES = [
    Qt.ItemDataRole.FontRole,
    Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.ToolTipRole,
    PaymentRoles.STALE,
]


class Column(enum.IntEnum):
    REFERENCE = 0
    DESCRIPTION = 1
    CREATED = 2
    STATE = 3
    AMOUNT = 4
    AGGREGATE = 5
    UPDATED = 6


HEADERS = {
    Column.REFERENCE: "Reference",
    Column.DESCRIPTION: "Description",
    Column.CREATED: "Created",
    Column.STATE: "State",
    Column.AMOUNT: "Amount",
    Column.AGGREGATE: "Captured / refunded / cancelled / reserved",
    Column.UPDATED: "Last updated",
}
_COLUMN_COUNT = len(Column)
_PART_LABELS = {
    "captured": "Captured",
    "refunded": "Refunded",
    "cancelled": "Cancelled",
    "reserved": "Reserved",
    "awaiting": "Awaiting approval",
}


def state_text(tracked: TrackedPayment) -> str:
    if tracked.payment is None:
        return "Not fetched" if not tracked.fetch_error else "Unavailable"
    return tracked.payment.display_state


SUMMARY_SEPARATOR = ", "  # between the parts of the bar's label (delegates split on it to shorten)


def bar_summary(parts: AmountBreakdown) -> str:
    """A short line for the bar cell: the biggest parts, in percent of the amount."""
    whole = parts.amount.value
    named = [(name, m.value) for name, m in parts.parts() if m.value > 0]
    if not named:
        return "Nothing reserved"
    named.sort(key=lambda item: -item[1])
    return SUMMARY_SEPARATOR.join(f"{format_percent(v, whole)} {name}" for name, v in named[:2])


def bar_tooltip(parts: AmountBreakdown, locale: QLocale | None = None) -> str:
    lines = [f"Amount: {format_money(parts.amount, locale)}"]
    lines += [f"{_PART_LABELS[name]}: {format_money(m, locale)}" for name, m in parts.parts()]
    if parts.scale > parts.amount.value:
        lines.append("The API reports more than the amount; the bar is scaled to fit.")
    return "\n".join(lines)


def describe_age(age: timedelta) -> str:
    """How long ago, roughly: "just now", "40 s ago", "12 min ago", "3 h ago", "2 days ago"."""
    seconds = int(age.total_seconds())
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def guarantee_text(payment: Payment | None, now: datetime, locale: QLocale | None = None) -> str:
    """Until when a capture of what is still reserved is guaranteed, and a warning when that ends soon
    or has ended ("" when the API gave no date)."""
    if payment is None or payment.capture_guaranteed_until is None:
        return ""
    when = format_datetime(payment.capture_guaranteed_until, locale, seconds=False)
    status = capture_guarantee(payment, now)
    if status is Guarantee.ENDED:
        return f"Capture guarantee ended {when}: a capture may now fail. Capture at once, or cancel."
    if status is Guarantee.LAPSING:
        left = _aware(payment.capture_guaranteed_until) - _aware(now)
        return (
            f"Capture guaranteed only until {when} ({_describe_left(left)}): capture or cancel before then."
        )
    return f"Capture guaranteed until {when}."


def lapse_warning(tracked: TrackedPayment, now: datetime) -> bool:
    """The list marks a reservation whose capture guarantee ends soon or has ended."""
    if tracked.payment is None:
        return False
    return capture_guarantee(tracked.payment, now) in (Guarantee.LAPSING, Guarantee.ENDED)


def _describe_left(left: timedelta) -> str:
    hours = int(left.total_seconds()) // 3600
    if hours >= 48:
        return f"{hours // 24} days left"
    if hours >= 1:
        return f"{hours} h left"
    return "less than an hour left"


def freshness_text(tracked: TrackedPayment, now: datetime) -> str:
    """The Last updated cell's tooltip: when the snapshot was fetched and why it may be out of date."""
    if tracked.fetched_at is None:
        text = "Not fetched yet"
    else:
        text = f"Fetched {describe_age(_aware(now) - _aware(tracked.fetched_at))}"
    if tracked.fetch_error:
        text += f"; could not refresh: {tracked.fetch_error}"
    return text


def _sort_key(t: TrackedPayment, column: int) -> Any:
    """Keys of one type per column so ``list.sort`` never compares across types."""
    payment = t.payment
    if column == Column.REFERENCE:
        return t.reference
    if column == Column.DESCRIPTION:
        return (t.description or "").casefold()
    if column == Column.CREATED:
        return _aware(t.created_at)
    if column == Column.STATE:
        return payment.display_state if payment is not None else ""
    if column == Column.AMOUNT:
        return (payment.currency.value, payment.amount.value) if payment is not None else ("", -1)
    if column == Column.AGGREGATE:
        if payment is None:
            return (-1, "")
        parts = breakdown(payment)
        return (parts.captured.value + parts.refunded.value, payment.currency.value)
    if column == Column.UPDATED:
        return _aware(t.updated_at)
    return 0


def _aware(moment: datetime | None) -> datetime:
    if moment is None:
        return _EPOCH
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
