"""The table's rows as the list kept column by column (``domain.listed.ListedPayments``), and what the
table reads from the columns for every row at once, without a record per row: the keys a column sorts
by and the text search looks in (the cells' text of the painted rows comes from each row's record, in
``cells``).

``TableRows`` holds the list with what is derived from each row (its business state, its search text,
the row of each reference) and keeps them in step through every change of the rows and of their order;
``PaymentsModel`` composes it and announces the changes to Qt.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from epay_desktop.domain import BusinessState, State, TrackedPayment
from epay_desktop.domain.listed import CURRENCIES, NO_TIME, STATES, ListedPayments, moment_of
from epay_desktop.domain.tracked import NOT_FOUND_MARK
from epay_desktop.ui.table.cells import Column


def sort_keys(listed: ListedPayments, kinds: Sequence[BusinessState | None], column: int) -> Sequence[Any]:
    """Keys of one type per column, so ``list.sort`` never compares across types: the order of
    ``cells.sort_key`` of each row's record (``kinds``: each row's business state)."""
    if column == Column.REFERENCE:
        return listed.references
    if column == Column.DESCRIPTION:
        return [d.casefold() for d in listed.descriptions]
    if column == Column.CREATED:
        return listed.created
    if column == Column.STATE:
        labels = {kind: kind.label for kind in BusinessState}
        return [labels[k] if k is not None else "" for k in kinds]
    if column == Column.AMOUNT:
        return [
            (CURRENCIES[c].value, a) if s >= 0 else ("", -1)
            for s, c, a in zip(listed.states, listed.currencies, listed.amounts, strict=True)
        ]
    if column == Column.AGGREGATE:
        # What the bar shows as moved: captured (net of refunds) and refunded.
        return [
            (max(cap - ref, 0) + max(ref, 0), CURRENCIES[c].value) if s >= 0 else (-1, "")
            for s, c, cap, ref in zip(
                listed.states, listed.currencies, listed.captured, listed.refunded, strict=True
            )
        ]
    if column == Column.UPDATED:
        return [
            last if last != NO_TIME else created
            for last, created in zip(listed.last_event, listed.created, strict=True)
        ]
    return [0] * len(listed)


def haystack(listed: ListedPayments, row: int) -> str:
    """What search looks in: reference, description, pspReference and the amount as people type it
    (``1000.00``, ``1000,00``, ``1000``)."""
    reference, description = listed.references[row], listed.descriptions[row]
    if listed.states[row] < 0:
        return f"{reference}\n{description}".lower()
    payment = listed.whole.get(reference)
    value = payment.amount.value if payment is not None else listed.amounts[row]
    digits = CURRENCIES[listed.currencies[row]].minor_digits
    # Money.plain() without its string round trips (this runs once per row on the first search).
    units, minor = divmod(abs(value), 10**digits)
    whole = f"-{units}" if value < 0 else str(units)
    return (
        f"{reference}\n{description}\n{listed.psp_references[row]}\n"
        f"{whole}.{minor:0{digits}d}\n{whole},{minor:0{digits}d}\n{whole}"
    ).lower()


class TableRows:
    """The rows, column by column, and what is derived from each (see the module docstring).

    ``listed`` is read directly (the model reads a row's values on every paint); it is changed only
    through the methods here, which keep the derived columns in step. Built when first needed (None
    until then): the search texts (most starts never search) and the index of rows by reference (an
    index of 100,000 references is a noticeable part of filling the model)."""

    def __init__(self) -> None:
        self.listed = ListedPayments("")
        self._kinds: list[BusinessState | None] = []  # the business state of each row (None: not fetched)
        self._row_of_index: dict[str, int] | None = None
        self._haystacks: list[str] | None = None

    # --- the rows change ------------------------------------------------------------------------------
    def reset(self, listed: ListedPayments) -> None:
        """The rows are ``listed`` (taken over, not copied: written to from here on)."""
        self.listed = listed
        self._kinds = list(listed.kinds())
        self._row_of_index = None
        self._haystacks = None

    def take_over(self, listed: ListedPayments, count: int) -> None:
        """``listed``, whose first ``count`` rows are the rows (``same_rows`` says whether their values
        differ), becomes the rows; its other rows come after them."""
        self.listed = listed
        self._kinds = list(listed.kinds())
        if self._row_of_index is not None:
            self._row_of_index.update({r: count + i for i, r in enumerate(listed.references[count:])})
        self._haystacks = None

    def extend(self, added: ListedPayments) -> None:
        """``added``'s rows after the rows, column by column (the rest of a register is some 100,000 rows
        at once)."""
        first = len(self.listed.references)
        self.listed.extend(added)
        self._kinds.extend(added.kinds())
        if self._row_of_index is not None:
            self._row_of_index.update({r: first + i for i, r in enumerate(added.references)})
        if self._haystacks is not None:
            self._haystacks.extend([haystack(added, i) for i in range(len(added))])

    def copy_row(self, row: int, listed: ListedPayments, at: int) -> None:
        """Row ``row`` takes the values of ``listed``'s row ``at`` (the same reference)."""
        self.listed.copy_row(row, listed, at)
        self._row_changed(row)

    def set_record(self, row: int, tracked: TrackedPayment) -> None:
        """Row ``row`` takes the values of ``tracked`` (the same reference)."""
        self.listed.set_record(row, tracked)
        self._row_changed(row)

    def reorder(self, order: Sequence[int]) -> None:
        """The rows in ``order`` (the old row of each new row: ``order_by``)."""
        self.listed.reorder(order)
        if self._haystacks is not None:
            self._haystacks = [self._haystacks[i] for i in order]
        self._kinds = [self._kinds[i] for i in order]
        self._row_of_index = None

    def move(self, row: int, to: int) -> None:
        """Row ``row`` to row ``to`` (a valid row; the rows between shift by one: ``moved``)."""
        self.listed.move_row(row, to)
        self._kinds.insert(to, self._kinds.pop(row))
        if self._haystacks is not None:
            self._haystacks.insert(to, self._haystacks.pop(row))
        self._row_of_index = None

    def delete(self, first: int, last: int) -> None:
        """Rows ``first`` to ``last``, both included, are gone."""
        self.listed.delete(first, last)
        del self._kinds[first : last + 1]
        if self._haystacks is not None:
            del self._haystacks[first : last + 1]
        self._row_of_index = None

    def _row_changed(self, row: int) -> None:
        self._kinds[row] = self.listed.kind_at(row)
        if self._haystacks is not None:
            self._haystacks[row] = haystack(self.listed, row)

    # --- what the rows are ------------------------------------------------------------------------------
    def rows_by_reference(self) -> dict[str, int]:
        """The row of each reference (read it, don't keep it: the rows move)."""
        index = self._row_of_index
        if index is None:
            index = self._row_of_index = {r: i for i, r in enumerate(self.listed.references)}
        return index

    def row_of(self, reference: str) -> int | None:
        return self.rows_by_reference().get(reference)

    def order_by(self, column: int, descending: bool) -> list[int]:
        """The rows sorted by ``column`` (one ``list.sort`` on keys read from the columns): the old row of
        each new row, for ``reorder``."""
        keys = sort_keys(self.listed, self._kinds, column)
        return sorted(range(len(keys)), key=keys.__getitem__, reverse=descending)

    # the proxy filters by these: one list lookup per row instead of a data() call
    def haystack_at(self, row: int) -> str:
        """What text search looks in for ``row`` (``haystack``)."""
        haystacks = self._haystacks
        if haystacks is None:
            listed = self.listed
            haystacks = self._haystacks = [haystack(listed, i) for i in range(len(listed.references))]
        return haystacks[row]

    def state_at(self, row: int) -> State | None:
        return self.listed.state_at(row)

    def kind_at(self, row: int) -> BusinessState | None:
        """The business state of ``row`` (None: not fetched yet)."""
        return self._kinds[row]

    def unknown_to_api_at(self, row: int) -> bool:
        return NOT_FOUND_MARK in self.listed.errors[row]

    def kind_counts(self, rows: Iterable[int] | None = None) -> Counter[BusinessState | None]:
        """How many of ``rows`` (every row when None) are in each business state (None: not fetched)."""
        kinds = self._kinds
        return Counter(kinds if rows is None else (kinds[row] for row in rows))

    def rows_in_states(self, states: Collection[State | None]) -> list[int]:
        """Rows whose state is one of ``states`` (``None``: not fetched yet); one scan of the codes."""
        codes = {STATES.index(s) if s is not None else -1 for s in states}
        return [row for row, code in enumerate(self.listed.states) if (code if code >= 0 else -1) in codes]

    def references_that_can_change(self) -> list[str]:
        """The rows worth refreshing automatically (``TrackedPayment.can_still_change``)."""
        listed = self.listed
        return [r for row, r in enumerate(listed.references) if listed.can_still_change(row)]

    def newest_fetch(self) -> datetime | None:
        """When the most recently fetched row was fetched (None: none ever was)."""
        return moment_of(max(self.listed.fetched, default=NO_TIME))


def moved(r: int, row: int, to: int) -> int:
    """Where row ``r`` is after row ``row`` moved to ``to`` (the rows between shift by one)."""
    if r == row:
        return to
    if to <= r < row:
        return r + 1
    if row < r <= to:
        return r - 1
    return r


__all__ = ["TableRows", "haystack", "moved", "sort_keys"]
