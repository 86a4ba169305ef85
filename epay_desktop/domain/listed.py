"""A register's list, column by column: every tracked payment as plain values (amounts as integers in
minor units, times as microseconds since the epoch, a small code for the state and the currency), one
column per field, instead of a record per row. A list of 100,000 payments keeps some hundreds of bytes
per payment this way where records kept well over a kilobyte, and it is read without building an
object per row.

A full ``TrackedPayment`` is built only for a row that needs one (the side panel, an export, an
action): :meth:`ListedPayments.record`. What the list shows of a row's business state comes from the
same rule as the record's (:func:`business_state_of`), from the row's values.

Rows are written by reference-free position (``set_record``, ``append_record``), moved in one step
(``reorder``) and deleted by range (``delete``): the table keeps its rows in this order. A payment
the columns cannot hold (an aggregate in another currency than the amount) is kept whole, by reference,
in ``whole``; the columns then hold zeros for its amounts.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any, overload

from epay_desktop.domain.business import (
    BusinessState,
    business_state,
    business_state_of,
    business_states_of,
)
from epay_desktop.domain.money import Currency, Money, MoneyError
from epay_desktop.domain.payment import Aggregate, Payment, State
from epay_desktop.domain.tracked import STALE_AFTER, TrackedPayment

# A time that is not there (never fetched, no event, no created time).
NO_TIME = -(2**62)  # far before any real time, and a plain integer in SQLite too
# A row's state code: an index into STATES, or one of these.
NO_SNAPSHOT = -1  # nothing fetched yet (or the saved snapshot could not be read)
STATES: tuple[State, ...] = tuple(State)
CURRENCIES: tuple[Currency, ...] = tuple(Currency)
STATE_CODES: Mapping[State, int] = {state: code for code, state in enumerate(STATES)}
CURRENCY_CODES: Mapping[Currency, int] = {currency: code for code, currency in enumerate(CURRENCIES)}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)
STALE_MICROS = STALE_AFTER // _ONE_MICROSECOND
_NO_METADATA: Mapping[str, str] = {}

# The columns, by kind: lists of Python objects and arrays of machine integers.
_OBJECT_COLUMNS = (
    "references",
    "descriptions",
    "errors",
    "psp_references",
    "payment_descriptions",
    "methods",
    "redirect_urls",
    "raw_states",
    "metadata",
)
_NUMBER_COLUMNS = (
    "created",
    "fetched",
    "last_event",
    "guaranteed",
    "states",
    "currencies",
    "amounts",
    "authorized",
    "captured",
    "cancelled",
    "refunded",
)
COLUMNS = _OBJECT_COLUMNS + _NUMBER_COLUMNS


def micros(moment: datetime | None) -> int:
    """``moment`` as microseconds since the epoch (``NO_TIME`` for None; a time without an offset is
    UTC, as the register keeps every time)."""
    if moment is None:
        return NO_TIME
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // _ONE_MICROSECOND


def moment_of(value: int) -> datetime | None:
    """The UTC time of ``micros`` (None for ``NO_TIME``)."""
    return None if value == NO_TIME else EPOCH + timedelta(microseconds=value)


class ListedPayments(Sequence[TrackedPayment]):
    """The rows of one merchant's list, column by column (see the module docstring). As a sequence it
    gives each row's ``TrackedPayment``, built when asked for."""

    references: list[str]
    descriptions: list[str]
    errors: list[str]  # the last fetch error ("" when there is none)
    psp_references: list[str]
    payment_descriptions: list[str]
    methods: list[str]
    redirect_urls: list[str | None]
    raw_states: list[str]
    metadata: list[Mapping[str, str] | None]
    created: array[int]  # microseconds since the epoch, or NO_TIME
    fetched: array[int]
    last_event: array[int]
    guaranteed: array[int]  # until when a capture is guaranteed
    states: array[int]  # index into STATES, or NO_SNAPSHOT
    currencies: array[int]  # index into CURRENCIES
    amounts: array[int]
    authorized: array[int]
    captured: array[int]
    cancelled: array[int]
    refunded: array[int]

    def __init__(self, msn: str) -> None:
        self.msn = msn
        for name in _OBJECT_COLUMNS:
            setattr(self, name, [])
        for name in _NUMBER_COLUMNS:
            setattr(self, name, array("b" if name in ("states", "currencies") else "q"))
        self.whole: dict[str, Payment] = {}  # payments the columns cannot hold, by reference
        self.authorizing: set[str] = set()  # the sandbox says the customer is in 3-D Secure now
        self._kinds: list[BusinessState | None] | None = None  # ``kinds()`` until a row is written

    @classmethod
    def of(cls, msn: str, records: Iterable[TrackedPayment]) -> ListedPayments:
        """``records`` as a list (column by column: one transposition, not a write per cell)."""
        listed = cls(msn)
        rows = list(records)
        if not rows:
            return listed
        for name, values in zip(COLUMNS, zip(*map(cls._cells, rows), strict=True), strict=True):
            getattr(listed, name).extend(values)
        for tracked in rows:
            if tracked.authorizing or (tracked.payment is not None and not _fits(tracked.payment)):
                listed._note(tracked)
        return listed

    # --- the sequence of records ---------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.references)

    @overload
    def __getitem__(self, index: int) -> TrackedPayment: ...
    @overload
    def __getitem__(self, index: slice) -> list[TrackedPayment]: ...
    def __getitem__(self, index: int | slice) -> TrackedPayment | list[TrackedPayment]:
        if isinstance(index, slice):
            return [self.record(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.record(index)

    def __eq__(self, other: object) -> bool:
        """Equal to a list, tuple or another ``ListedPayments`` of equal records, in the same order."""
        if isinstance(other, ListedPayments | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable: rows are written in place

    def __iter__(self) -> Iterator[TrackedPayment]:
        return (self.record(i) for i in range(len(self)))

    def record(self, row: int) -> TrackedPayment:
        """Row ``row`` as the record the rest of the app works with (its event log not loaded)."""
        reference = self.references[row]
        return TrackedPayment(
            reference,
            self.msn,
            self.payment(row),
            None,
            self.descriptions[row],
            moment_of(self.created[row]),
            moment_of(self.fetched[row]),
            self.errors[row],
            moment_of(self.last_event[row]),
            authorizing=reference in self.authorizing,
        )

    def payment(self, row: int) -> Payment | None:
        """Row ``row``'s saved payment (None: not fetched, or its snapshot could not be read)."""
        code = self.states[row]
        if code < 0:
            return None
        reference = self.references[row]
        kept = self.whole.get(reference)
        if kept is not None:
            return kept
        currency = CURRENCIES[self.currencies[row]]
        metadata = self.metadata[row]
        return Payment(
            reference,
            Money(self.amounts[row], currency),
            STATES[code],
            Aggregate(
                Money(self.authorized[row], currency),
                Money(self.captured[row], currency),
                Money(self.cancelled[row], currency),
                Money(self.refunded[row], currency),
            ),
            self.psp_references[row],
            self.payment_descriptions[row],
            self.methods[row],
            self.redirect_urls[row],
            self.raw_states[row],
            dict(metadata) if metadata else {},
            moment_of(self.guaranteed[row]),
        )

    # --- what the list shows of a row, from its values ----------------------------------------------
    def state_at(self, row: int) -> State | None:
        code = self.states[row]
        return STATES[code] if code >= 0 else None

    def kind_at(self, row: int) -> BusinessState | None:
        """The business state of ``row`` (None: not fetched), by the records' rule."""
        code = self.states[row]
        if code < 0:
            return None
        reference = self.references[row]
        kept = self.whole.get(reference)
        if kept is not None:
            try:
                return business_state(kept, authorizing=reference in self.authorizing)
            except MoneyError:  # an aggregate in several currencies: no business state fits
                return BusinessState.UNKNOWN
        return business_state_of(
            STATES[code],
            self.authorized[row],
            self.captured[row],
            self.cancelled[row],
            self.refunded[row],
            authorizing=reference in self.authorizing,
        )

    def can_still_change(self, row: int) -> bool:
        """``TrackedPayment.can_still_change`` of ``row``."""
        code = self.states[row]
        return code < 0 or not STATES[code].is_closed

    def looks_stale(self, row: int, now: int) -> bool:
        """``TrackedPayment.looks_stale`` of ``row`` at ``now`` (microseconds since the epoch)."""
        if self.errors[row]:
            return True
        fetched = self.fetched[row]
        return (fetched == NO_TIME or now - fetched > STALE_MICROS) and self.can_still_change(row)

    def kinds(self) -> list[BusinessState | None]:
        """``kind_at`` of every row, in one pass (kept until a row is written: a list read on a worker
        thread can be given to the GUI thread with its business states worked out already)."""
        if self._kinds is None:
            self._kinds = self._all_kinds()
        return self._kinds

    def _all_kinds(self) -> list[BusinessState | None]:
        states, auth, cap, canc, ref = (
            self.states,
            self.authorized,
            self.captured,
            self.cancelled,
            self.refunded,
        )
        out = business_states_of(states, STATES, auth, cap, canc, ref)
        # The few rows the columns cannot tell alone: a payment kept whole, or one being authorized.
        references = self.references
        for row in self._special_rows(references):
            out[row] = self.kind_at(row)
        return out

    def _special_rows(self, references: Sequence[str]) -> list[int]:
        special = self.whole.keys() | self.authorizing
        if not special:
            return []
        return [row for row, reference in enumerate(references) if reference in special]

    # --- writing rows ---------------------------------------------------------------------------------
    def append_record(self, tracked: TrackedPayment) -> None:
        self._kinds = None
        for name, value in zip(COLUMNS, self._cells(tracked), strict=True):
            getattr(self, name).append(value)
        self._note(tracked)

    def set_record(self, row: int, tracked: TrackedPayment) -> None:
        """Overwrite row ``row`` with ``tracked``'s values (its reference may differ only for a new
        row: the caller keeps rows by reference)."""
        self._kinds = None
        self.whole.pop(self.references[row], None)
        self.authorizing.discard(self.references[row])
        for name, value in zip(COLUMNS, self._cells(tracked), strict=True):
            getattr(self, name)[row] = value
        self._note(tracked)

    def extend(self, other: ListedPayments) -> None:
        self._kinds = None
        for name in COLUMNS:
            getattr(self, name).extend(getattr(other, name))
        self.whole.update(other.whole)
        self.authorizing |= other.authorizing

    def copy_row(self, row: int, other: ListedPayments, at: int) -> None:
        """Overwrite row ``row`` with ``other``'s row ``at`` (of the same payment)."""
        self._kinds = None
        reference = self.references[row]
        self.whole.pop(reference, None)
        self.authorizing.discard(reference)
        for name in COLUMNS:
            getattr(self, name)[row] = getattr(other, name)[at]
        reference = other.references[at]
        if reference in other.whole:
            self.whole[reference] = other.whole[reference]
        if reference in other.authorizing:
            self.authorizing.add(reference)

    def select(self, rows: Sequence[int]) -> ListedPayments:
        """A new list of ``rows`` (in that order)."""
        picked = ListedPayments(self.msn)
        if not rows:
            return picked
        pick = itemgetter(*rows) if len(rows) > 1 else (lambda column: (column[rows[0]],))
        for name in _OBJECT_COLUMNS:
            getattr(picked, name).extend(pick(getattr(self, name)))
        for name in _NUMBER_COLUMNS:
            getattr(picked, name).extend(pick(getattr(self, name)))
        chosen = set(picked.references)
        picked.whole = {r: p for r, p in self.whole.items() if r in chosen}
        picked.authorizing = self.authorizing & chosen
        return picked

    def same_rows(self, other: ListedPayments, count: int) -> bool:
        """The first ``count`` rows of both hold the same values (one comparison per column)."""
        if any(getattr(self, name)[:count] != getattr(other, name)[:count] for name in COLUMNS):
            return False
        first = self.references[:count]
        return all(
            self.whole.get(r) == other.whole.get(r) and (r in self.authorizing) == (r in other.authorizing)
            for r in first
        )

    def reorder(self, order: Sequence[int]) -> None:
        """Put the rows in ``order`` (``order[new] = old``; every row once)."""
        if len(order) != len(self):
            raise ValueError("reorder needs every row once")
        if len(order) < 2:
            return
        self._kinds = None
        pick = itemgetter(*order)
        for name in _OBJECT_COLUMNS:
            setattr(self, name, list(pick(getattr(self, name))))
        for name in _NUMBER_COLUMNS:
            column = getattr(self, name)
            setattr(self, name, array(column.typecode, pick(column)))

    def delete(self, first: int, last: int) -> None:
        """Delete rows ``first`` to ``last`` (both included)."""
        self._kinds = None
        for reference in self.references[first : last + 1]:
            self.whole.pop(reference, None)
            self.authorizing.discard(reference)
        for name in COLUMNS:
            del getattr(self, name)[first : last + 1]

    def move_row(self, row: int, to: int) -> None:
        """Move row ``row`` to ``to`` (the rows between shift by one): one C-level shift per column."""
        if row == to:
            return
        self._kinds = None
        for name in COLUMNS:
            column = getattr(self, name)
            column.insert(to, column.pop(row))

    def mark_authorizing(self, reference: str) -> None:
        """The sandbox says ``reference``'s customer is in 3-D Secure now."""
        self._kinds = None
        self.authorizing.add(reference)

    def _note(self, tracked: TrackedPayment) -> None:
        payment = tracked.payment
        if payment is not None and not _fits(payment):
            self.whole[tracked.reference] = payment
        if tracked.authorizing:
            self.authorizing.add(tracked.reference)

    @staticmethod
    def _cells(tracked: TrackedPayment) -> tuple[Any, ...]:
        payment = tracked.payment
        head = (
            tracked.reference,
            tracked.description,
            tracked.fetch_error,
        )
        times = (micros(tracked.created_at), micros(tracked.fetched_at), micros(tracked.last_event_at))
        if payment is None:
            return (*head, "", "", "", None, "", None, *times, NO_TIME, NO_SNAPSHOT, 0, 0, 0, 0, 0, 0)
        agg = payment.aggregate
        fits = _fits(payment)
        return (
            *head,
            payment.psp_reference,
            payment.description,
            payment.payment_method,
            payment.redirect_url,
            payment.raw_state,
            dict(payment.metadata) if payment.metadata else None,
            *times,
            micros(payment.capture_guaranteed_until),
            STATE_CODES[payment.state],
            CURRENCY_CODES[payment.currency],
            payment.amount.value if fits else 0,
            agg.authorized.value if fits else 0,
            agg.captured.value if fits else 0,
            agg.cancelled.value if fits else 0,
            agg.refunded.value if fits else 0,
        )


def _fits(payment: Payment) -> bool:
    """The columns keep one currency per row: the amount's."""
    agg = payment.aggregate
    currency = payment.currency
    return (
        agg.authorized.currency is currency
        and agg.captured.currency is currency
        and agg.cancelled.currency is currency
        and agg.refunded.currency is currency
    )


__all__ = [
    "COLUMNS",
    "CURRENCIES",
    "CURRENCY_CODES",
    "EPOCH",
    "NO_SNAPSHOT",
    "NO_TIME",
    "STALE_MICROS",
    "STATES",
    "STATE_CODES",
    "ListedPayments",
    "micros",
    "moment_of",
]
