"""What the desk's use cases hand back to the UI: plain frozen records with a sentence for people."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from epay_desktop.domain import Money, TrackedPayment
from epay_desktop.i18n import _, ngettext
from epay_desktop.store import Operation


@dataclass(frozen=True, slots=True)
class CancelResult:
    """The outcome of a cancel the API confirmed (directly, or by reading the event log afterwards).

    ``reconciled`` is True when the answer was lost and the outcome was read from the event log."""

    tracked: TrackedPayment
    released: Money
    reconciled: bool
    message: str


@dataclass(frozen=True, slots=True)
class OperationResult:
    """The outcome of a capture or refund the API confirmed; ``amount`` is what moved."""

    tracked: TrackedPayment
    amount: Money
    reconciled: bool
    message: str


class RecoveryOutcome(enum.StrEnum):
    """What ``recover_pending`` did with one intent left without an outcome."""

    SUCCEEDED = "succeeded"  # sent again with its own key; the API confirmed it
    RECONCILED = "reconciled"  # the payment's event log shows it happened (nothing sent now)
    FAILED = "failed"  # refused, or never sent: closed as failed, nothing moved
    STILL_UNKNOWN = "still unknown"  # still no known outcome: stays open (blocks other operations)
    NEEDS_DECISION = "needs decision"  # not sent again by itself: the person chooses (resume/abandon)
    READ_ONLY = "read only"  # the register is open read-only: left as it is, nothing sent


FINISHED_OUTCOMES = frozenset({RecoveryOutcome.SUCCEEDED, RecoveryOutcome.RECONCILED, RecoveryOutcome.FAILED})


@dataclass(frozen=True, slots=True)
class RecoveryResult:
    """One intent looked at by ``recover_pending`` (or ``abandon_intent``): which, what happened, and a
    sentence for people (``str(result)``). Only ``finished`` ones may be reported as done;
    ``needs_decision`` ones wait for the person: ``desk.resume_intent(intent_id)`` or
    ``desk.abandon_intent(intent_id)``."""

    intent_id: int
    reference: str
    operation: Operation
    outcome: RecoveryOutcome
    message: str
    amount: Money | None = None  # what moved (finished with an effect), else what the intent asked

    @property
    def finished(self) -> bool:
        return self.outcome in FINISHED_OUTCOMES

    @property
    def needs_decision(self) -> bool:
        return self.outcome is RecoveryOutcome.NEEDS_DECISION

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class RejectedItem:
    """One reference or CSV row that was not added, and why. ``line`` is 1-based (None for pasted text
    without lines that matter)."""

    text: str
    reason: str
    line: int | None = None

    def describe(self) -> str:
        if self.line is not None:
            return _("line {line}: {text}: {reason}").format(
                line=self.line, text=repr(self.text), reason=self.reason
            )
        return _("{text}: {reason}").format(text=repr(self.text), reason=self.reason)


@dataclass(frozen=True, slots=True)
class AddReport:
    """Per-item result of adding references: new ones, ones the register already had, rejected ones."""

    added: tuple[str, ...] = ()
    already_tracked: tuple[str, ...] = ()
    rejected: tuple[RejectedItem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        parts = [_("{count} added").format(count=len(self.added))]
        if self.already_tracked:
            parts.append(_("{count} already in the register").format(count=len(self.already_tracked)))
        if self.rejected:
            parts.append(_("{count} rejected").format(count=len(self.rejected)))
        return _listed(parts)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """Result of a CSV import: good rows are kept even when others are bad (reported by line number)."""

    path: str
    rows: int
    added: tuple[str, ...] = ()
    already_tracked: tuple[str, ...] = ()
    rejected: tuple[RejectedItem, ...] = ()
    # Rows repeating a reference an earlier row of the file has (imported once, not an error).
    duplicates: tuple[RejectedItem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        parts = [
            ngettext("{count} row read", "{count} rows read", self.rows).format(count=self.rows),
            _("{count} added").format(count=len(self.added)),
        ]
        if self.already_tracked:
            parts.append(_("{count} already in the register").format(count=len(self.already_tracked)))
        if self.rejected:
            parts.append(
                _("{count} rejected ({lines})").format(count=len(self.rejected), lines=_lines(self.rejected))
            )
        if self.duplicates:
            parts.append(
                _("{count} repeated in the file ({lines})").format(
                    count=len(self.duplicates), lines=_lines(self.duplicates)
                )
            )
        return _listed(parts)


def _lines(items: tuple[RejectedItem, ...]) -> str:
    numbers = [str(r.line) for r in items[:10] if r.line is not None]
    more = "…" if len(items) > 10 else ""
    # "lines" also for one: the wording callers know.
    return _("lines {numbers}").format(numbers=f"{', '.join(numbers)}{more}")


def _listed(parts: list[str]) -> str:
    # A list of counts, each a whole translated phrase; the list's punctuation is the language's.
    return _("{list_of_counts}.").format(list_of_counts=_(", ").join(parts))
