"""The one place where changes reach the payments table: a listener on the desk's change feed that
applies each published change to the model by one rule, "the newer read wins".

Whoever published a change (a refresh, a money move, the recovery, the Demo's customer, later webhooks
and a shared team register) is no matter here: a ``PaymentChanged`` is shown unless a change to that
payment asked for *later* was shown already (a slow answer read before the customer approved cannot
undo the approval on screen); ties are shown, so a row re-published with the same read still updates.
A batch is applied in one step: one ranged ``dataChanged`` for the known rows and one insert for the
new ones (or one reset while the table is empty, as when the register is loaded).

Flows read the rows through this adapter (``payments``, ``references``, ``tracked``) and never write
them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from epay_desktop.domain import TrackedPayment
from epay_desktop.services.changes import Change, PaymentChanged, PaymentsRemoved

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
                if before is not None and asked_at < before:
                    continue  # an older read arriving late
                asked[tracked.reference] = asked_at
                shown[tracked.reference] = tracked
            elif isinstance(change, PaymentsRemoved):
                self._remove(change.references, shown)
        if not shown:
            return
        if self._model.rowCount() == 0:
            self._model.set_payments(shown.values())
        else:
            self._model.update_payments(shown.values())

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


__all__ = ["ChangesAdapter"]
