"""The one place where changes reach the payments table: a listener on the desk's change feed that
applies each published change to the model by one rule, "the newer read wins".

Whoever published a change (a refresh, a money move, the recovery, the Demo's customer, later webhooks
and a shared team register) is no matter here: a ``PaymentChanged`` is shown unless a change to that
payment asked for *later* was shown already (a slow answer read before the customer approved cannot
undo the approval on screen); ties are shown, so a row re-published with the same read still updates.
A batch is applied in one step: a ``dataChanged`` per run of known rows (``PaymentsModel.update_payments``)
and one insert for the new ones (or one reset while the table is empty, as when the register is
loaded). A loaded register is one ``ListLoaded``: its rows, column by column, taken over by the model
as they are.

Flows read the rows through this adapter (``payments``, ``references``, ``tracked``) and never write
them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from epay_desktop.domain import State, TrackedPayment
from epay_desktop.domain.listed import EPOCH, moment_of
from epay_desktop.services.changes import Change, ListLoaded, PaymentChanged, PaymentsRemoved

if TYPE_CHECKING:
    from epay_desktop.services.changes import ChangeFeed
    from epay_desktop.ui.table.model import PaymentsModel


class ChangesAdapter(QObject):
    def __init__(self, model: PaymentsModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._asked: dict[str, datetime] = {}  # reference -> when the change shown was asked for
        self._unsubscribe: Callable[[], None] | None = None

    # --- the feed -----------------------------------------------------------------------------------
    def attach(self, feed: ChangeFeed) -> None:
        """Follow ``feed`` from now on (and no other: a profile switch attaches to the new desk)."""
        self.detach()
        self._unsubscribe = feed.subscribe(self.apply)

    def detach(self) -> None:
        if self._unsubscribe is not None:
            unsubscribe, self._unsubscribe = self._unsubscribe, None
            unsubscribe()

    @property
    def attached(self) -> bool:
        return self._unsubscribe is not None

    def apply(self, changes: Sequence[Change]) -> None:
        """Apply one published batch, in order, by the rule of the module docstring."""
        shown: dict[str, TrackedPayment] = {}
        asked = self._asked
        for change in changes:  # a loaded register is one batch of every row: keep this loop lean
            if isinstance(change, PaymentChanged):
                tracked = change.tracked
                asked_at = change.asked_at
                if asked_at.tzinfo is None:
                    asked_at = asked_at.replace(tzinfo=UTC)
                before = asked.get(tracked.reference)
                if before is None:  # shown as loaded: as asked for when its snapshot was fetched
                    before = self._model.fetched_at(tracked.reference)
                if before is not None and asked_at < before:
                    continue  # an older read arriving late
                asked[tracked.reference] = asked_at
                shown[tracked.reference] = tracked
            elif isinstance(change, PaymentsRemoved):
                self._remove(change.references, shown)
            elif isinstance(change, ListLoaded):
                self._load(change, shown)
        if not shown:
            return
        if self._model.rowCount() == 0:
            self._model.set_payments(shown.values())
        else:
            self._model.update_payments(shown.values())

    def _load(self, change: ListLoaded, pending: dict[str, TrackedPayment]) -> None:
        """A loaded list: the rows it has take its values, unless a change to that payment asked for
        later than its snapshot was read was shown already (each row as asked for when fetched)."""
        if pending:
            self._model.update_payments(pending.values())
            pending.clear()
        listed = change.listed
        if self._model.shows(listed):
            return  # the very rows shown (a load publishing the rows the window listed first)
        skip: list[str] = []
        if self._asked:
            row_of = {reference: row for row, reference in enumerate(listed.references)}
            for reference, asked_at in self._asked.items():
                row = row_of.get(reference)
                if row is not None and asked_at > (moment_of(listed.fetched[row]) or EPOCH):
                    skip.append(reference)
        self._model.update_listed(listed, skip)

    def _remove(self, references: Sequence[str], pending: dict[str, TrackedPayment]) -> None:
        if pending:
            # What this batch showed before the removal lands first, so the removal applies to it too.
            self._model.update_payments(pending.values())
            pending.clear()
        for reference in references:
            self._asked.pop(reference, None)
        self._model.remove_payments(references)

    # --- reading the rows (for the flows) -----------------------------------------------------------
    def payments(self) -> Sequence[TrackedPayment]:
        return self._model.payments()

    def references(self) -> list[str]:
        return self._model.references()

    def tracked(self, reference: str) -> TrackedPayment | None:
        return self._model.tracked(reference)

    def payments_in_states(
        self, states: Collection[State | None], *, created_since: datetime | None = None
    ) -> list[TrackedPayment]:
        return self._model.payments_in_states(states, created_since=created_since)

    def references_that_can_change(self) -> list[str]:
        return self._model.references_that_can_change()

    def newest_fetch(self) -> datetime | None:
        return self._model.newest_fetch()


__all__ = ["ChangesAdapter"]
