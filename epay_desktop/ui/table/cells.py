"""The payments table's vocabulary and cell values: the custom roles, the columns and their headers,
and the pure functions that turn a ``TrackedPayment`` into cell text, tooltips and sort keys.

Nothing here holds state; ``PaymentsModel`` (in ``model``) calls these per row and caches the display
strings, and re-exports every public name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QLocale, QModelIndex, QPersistentModelIndex, Qt

from epay_desktop.domain import (
    BusinessState,
    Guarantee,
    Payment,
    State,
    TrackedPayment,
    business_state,
    capture_guarantee,
)
from epay_desktop.domain.breakdown import AmountBreakdown, breakdown
from epay_desktop.i18n import N_, _, ngettext, translate
from epay_desktop.ui.formatting import format_datetime, format_money, format_percent

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
AnyIndex = QModelIndex | QPersistentModelIndex


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
    BUSINESS_STATE = Qt.ItemDataRole.UserRole + 8  # the BusinessState's value (str); NO_VALUE: unfetched
    LOOKS = Qt.ItemDataRole.UserRole + 9  # RowLooks: what the delegates paint besides the text


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
    Column.REFERENCE: N_("Reference"),
    Column.DESCRIPTION: N_("Description"),
    Column.CREATED: N_("Created"),
    Column.STATE: N_("State"),
    Column.AMOUNT: N_("Amount"),
    Column.AGGREGATE: N_("Captured / refunded / cancelled / reserved"),
    Column.UPDATED: N_("Last updated"),
}
COLUMN_COUNT = len(Column)
_PART_LABELS = {
    "captured": N_("Captured: {amount}"),
    "refunded": N_("Refunded: {amount}"),
    "cancelled": N_("Cancelled: {amount}"),
    "reserved": N_("Reserved: {amount}"),
    "awaiting": N_("Awaiting approval: {amount}"),
}
# The bar's label: a percentage of the amount and what that part is.
_PART_SHARES = {
    "captured": N_("{percent} captured"),
    "refunded": N_("{percent} refunded"),
    "cancelled": N_("{percent} cancelled"),
    "reserved": N_("{percent} reserved"),
    "awaiting": N_("{percent} awaiting"),
}


def header(column: Column) -> str:
    return translate(HEADERS[column])


def state_text(tracked: TrackedPayment) -> str:
    """The business state people think in (the API's state is in the details)."""
    if tracked.unknown_to_api:
        return _("Unknown to the API")
    if tracked.payment is None:
        return _("Not fetched") if not tracked.fetch_error else _("Unavailable")
    kind = business_state(tracked.payment, authorizing=tracked.authorizing)
    # A state a newer API added: its own name says more than "Unknown".
    return tracked.payment.display_state if kind is BusinessState.UNKNOWN else kind.label


SUMMARY_SEPARATOR = ", "  # between the parts of the bar's label (delegates split on it to shorten)


def bar_summary(parts: AmountBreakdown) -> str:
    """A short line for the bar cell: the biggest parts, in percent of the amount."""
    whole = parts.amount.value
    named = [(name, m.value) for name, m in parts.parts() if m.value > 0]
    if not named:
        return _("Nothing reserved")
    named.sort(key=lambda item: -item[1])
    return SUMMARY_SEPARATOR.join(
        translate(_PART_SHARES[name]).format(percent=format_percent(v, whole)) for name, v in named[:2]
    )


def bar_tooltip(parts: AmountBreakdown, locale: QLocale | None = None) -> str:
    lines = [_("Amount: {amount}").format(amount=format_money(parts.amount, locale))]
    lines += [
        translate(_PART_LABELS[name]).format(amount=format_money(m, locale)) for name, m in parts.parts()
    ]
    if parts.scale > parts.amount.value:
        lines.append(_("The API reports more than the amount; the bar is scaled to fit."))
    return "\n".join(lines)


def describe_age(age: timedelta) -> str:
    """How long ago, roughly: "just now", "40 s ago", "12 min ago", "3 h ago", "2 days ago"."""
    seconds = int(age.total_seconds())
    if seconds < 5:
        return _("just now")
    if seconds < 60:
        return _("{count} s ago").format(count=seconds)
    if seconds < 3600:
        return _("{count} min ago").format(count=seconds // 60)
    if seconds < 2 * 86400:
        return _("{count} h ago").format(count=seconds // 3600)
    days = seconds // 86400
    return ngettext("{count} day ago", "{count} days ago", days).format(count=days)


def guarantee_text(payment: Payment | None, now: datetime, locale: QLocale | None = None) -> str:
    """Until when a capture of what is still reserved is guaranteed, and a warning when that ends soon
    or has ended ("" when the API gave no date)."""
    if payment is None or payment.capture_guaranteed_until is None:
        return ""
    status = capture_guarantee(payment, now)
    if status is Guarantee.NONE:
        return ""  # nothing left to capture
    when = format_datetime(payment.capture_guaranteed_until, locale, seconds=False)
    if status is Guarantee.ENDED:
        return _(
            "Capture guarantee ended {when}: a capture may now fail. Capture at once, or cancel."
        ).format(when=when)
    if status is Guarantee.LAPSING:
        left = aware(payment.capture_guaranteed_until) - aware(now)
        return _("Capture guaranteed only until {when} ({left}): capture or cancel before then.").format(
            when=when, left=_describe_left(left)
        )
    return _("Capture guaranteed until {when}.").format(when=when)


def lapse_warning(tracked: TrackedPayment, now: datetime) -> bool:
    """The list marks a reservation whose capture guarantee ends soon or has ended."""
    if tracked.payment is None:
        return False
    return capture_guarantee(tracked.payment, now) in (Guarantee.LAPSING, Guarantee.ENDED)


def _describe_left(left: timedelta) -> str:
    hours = int(left.total_seconds()) // 3600
    if hours >= 48:
        return ngettext("{count} day left", "{count} days left", hours // 24).format(count=hours // 24)
    if hours >= 1:
        return _("{count} h left").format(count=hours)
    return _("less than an hour left")


def freshness_text(tracked: TrackedPayment, now: datetime) -> str:
    """The Last updated cell's tooltip: when the snapshot was fetched and why it may be out of date."""
    if tracked.fetched_at is None:
        text = _("Not fetched yet")
    else:
        text = _("Fetched {age}").format(age=describe_age(aware(now) - aware(tracked.fetched_at)))
    if tracked.fetch_error:
        return _("{fetched}; could not refresh: {error}").format(fetched=text, error=tracked.fetch_error)
    return text


def marked_state(state: str, *, busy: bool = False, colleague: str = "", pending: str = "") -> str:
    """The State cell's text: ``state`` (the row's own), or the operation sent without a known outcome
    (``pending``), then whether an operation runs on it now (``busy``) and what a colleague does with it
    (``colleague``)."""
    working = " (working…)" if busy else ""
    if colleague:
        working += f" — {colleague}"
    return (pending_text(pending) if pending else state) + working


def display_row(
    t: TrackedPayment,
    locale: QLocale,
    *,
    parts: AmountBreakdown | None = None,
) -> tuple[str, ...]:
    """The text of each column of ``t``'s row, the State's without its marks (``marked_state`` adds
    them when the cell is read); ``parts``: the payment's breakdown when the caller has it already."""
    payment = t.payment
    return (
        t.reference,
        t.description or (payment.description if payment is not None else ""),
        format_datetime(t.created_at, locale, seconds=False),
        state_text(t),
        format_money(payment.amount, locale) if payment is not None else "",
        bar_summary(parts or breakdown(payment)) if payment is not None else "",
        format_datetime(t.updated_at, locale, seconds=False),
    )


def bar_shares(parts: AmountBreakdown) -> tuple[tuple[str, float, float], ...]:
    """The bar's non-empty parts, left to right: (part, start, width) as fractions of the bar, in
    proportion to the amount (scaled down to fit when the parts add up to more than the amount)."""
    scale = parts.scale
    if scale <= 0:
        return ()
    shares: list[tuple[str, float, float]] = []
    start = 0.0
    for name, money in parts.parts():
        if money.value <= 0:
            continue
        width = money.value / scale
        shares.append((name, start, width))
        start += width
    return tuple(shares)


@dataclass(frozen=True, slots=True)
class RowLooks:
    """What the delegates paint of a row besides its text, read in one ``PaymentRoles.LOOKS`` look-up
    per cell and worked out once per change of the row (its values, its busy mark, the model's now).

    ``state``/``kind``: the State's and the business state's values (``NO_VALUE``: not fetched);
    ``warning``: the capture guarantee ends soon or has ended; ``shares``: :func:`bar_shares` of
    ``parts`` (None: not fetched)."""

    stale: bool
    warning: bool
    busy: bool
    state: str
    kind: str
    parts: AmountBreakdown | None
    shares: tuple[tuple[str, float, float], ...]


def tooltip_text(t: TrackedPayment, column: int, now: datetime, locale: QLocale) -> str | None:
    """The tooltip of ``t``'s cell in ``column`` (None: none)."""
    if column == Column.UPDATED:
        return freshness_text(t, now)
    if column in (Column.AMOUNT, Column.STATE) and lapse_warning(t, now):
        return guarantee_text(t.payment, now, locale)
    if t.fetch_error and (t.payment is None or column == Column.STATE):
        return _("Could not read the payment: {error}").format(error=t.fetch_error)
    if t.payment is None:
        return _("Not fetched from the API yet.")
    if column == Column.AGGREGATE:
        return bar_tooltip(breakdown(t.payment), locale)
    if column == Column.STATE and t.payment.state is State.UNKNOWN:
        return _("A state this app does not know: {state}").format(state=t.payment.display_state)
    if column == Column.DESCRIPTION and t.description:
        return t.description
    return None


def pending_text(operation: str) -> str:
    """The State of a payment with ``operation`` sent without a known outcome."""
    texts = {
        "cancel": _("Cancel pending: outcome unknown"),
        "capture": _("Capture pending: outcome unknown"),
        "refund": _("Refund pending: outcome unknown"),
    }
    return texts.get(operation, _("Operation pending: outcome unknown"))


def sort_key(t: TrackedPayment, column: int) -> Any:
    """Keys of one type per column so ``list.sort`` never compares across types."""
    payment = t.payment
    if column == Column.REFERENCE:
        return t.reference
    if column == Column.DESCRIPTION:
        return (t.description or "").casefold()
    if column == Column.CREATED:
        return aware(t.created_at)
    if column == Column.STATE:
        return business_state(payment, authorizing=t.authorizing).label if payment is not None else ""
    if column == Column.AMOUNT:
        return (payment.currency.value, payment.amount.value) if payment is not None else ("", -1)
    if column == Column.AGGREGATE:
        if payment is None:
            return (-1, "")
        parts = breakdown(payment)
        return (parts.captured.value + parts.refunded.value, payment.currency.value)
    if column == Column.UPDATED:
        return aware(t.updated_at)
    return 0


def aware(moment: datetime | None) -> datetime:
    if moment is None:
        return _EPOCH
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
