"""The table's rows as records (``TrackedPayment``): most rows are plain values in the list's columns
(``domain.listed.ListedPayments``) and get a record only when something asks for one (a painted cell,
the side panel, an export, an action); a record that came as a record (a refresh, an operation, a team
list) is kept as it came, with its event log, until its row takes other values.

``RowRecords`` holds both kinds: the kept ones by reference, the last few hundred built ones by row
(dropped when the rows move). ``PaymentsModel`` owns the list and tells it what changed.
"""

from __future__ import annotations

from collections.abc import Iterable

from epay_desktop.domain import TrackedPayment
from epay_desktop.domain.listed import ListedPayments

# How many built records are kept (a few screens' worth; built again when needed).
BUILT_KEPT = 512


class RowRecords:
    """The records of the rows: kept as they came (by reference) or built from the list (by row)."""

    def __init__(self) -> None:
        self._kept: dict[str, TrackedPayment] = {}
        self._built: dict[int, TrackedPayment] = {}  # by row: the records built lately

    def at(self, listed: ListedPayments, row: int) -> TrackedPayment:
        """Row ``row``'s record: as it came, or built from ``listed``'s values of the row."""
        kept = self._kept.get(listed.references[row]) if self._kept else None
        if kept is not None:
            return kept
        built = self._built.get(row)
        if built is None:
            if len(self._built) >= BUILT_KEPT:
                self._built.clear()
            built = self._built[row] = listed.record(row)
        return built

    def kept(self, reference: str) -> TrackedPayment | None:
        """The record of ``reference`` as it came (None: its row's record is built from the list)."""
        return self._kept.get(reference) if self._kept else None

    @property
    def any_kept(self) -> bool:
        return bool(self._kept)

    def keep(self, records: Iterable[TrackedPayment]) -> None:
        """Show ``records`` as they came (their rows hold their values already)."""
        came = {t.reference: t for t in records}  # a comprehension: a 100,000-row fill keeps every record
        if self._kept:
            self._kept.update(came)
        else:
            self._kept = came

    def forget(self, reference: str) -> None:
        """Forget the record kept for ``reference``: its row took its values from a list (its record is
        built from them from now on), or is gone."""
        self._kept.pop(reference, None)

    def row_changed(self, row: int) -> None:
        """Row ``row`` took other values: build its record again when asked."""
        self._built.pop(row, None)

    def rows_moved(self) -> None:
        """The rows moved (a sort, a move, a removal): what was built is no longer by the right row."""
        self._built = {}

    def clear(self) -> None:
        """Every row is built from the list (a new list is shown)."""
        self._kept = {}
        self._built = {}


__all__ = ["BUILT_KEPT", "RowRecords"]
