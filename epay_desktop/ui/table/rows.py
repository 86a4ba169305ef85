"""What the table reads from the list's columns for every row at once, without a record per row: the
keys a column sorts by and the text search looks in (``PaymentsModel`` calls these; the cells' text
of the painted rows comes from each row's record, in ``cells``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from epay_desktop.domain import BusinessState
from epay_desktop.domain.listed import CURRENCIES, NO_TIME, ListedPayments
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


__all__ = ["haystack", "sort_keys"]
