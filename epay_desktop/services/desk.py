"""PaymentDesk: the use cases of one profile's register (track, refresh, cancel with journal, recovery).

Every SQLite call goes through ``asyncio.to_thread`` (the GUI thread never blocks on the disk). Every
cancel, capture and refund is journaled (durably) before it is sent, with its own Idempotency-Key; every
retry reuses that key, also after a crash (``recover_pending``). Success is reported only after the API
confirmed it, directly or through the event log.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from epay_desktop.api import (
    ApiError,
    EPaymentClient,
    EPaymentError,
    MalformedResponseError,
    NetworkError,
    NotAllowedError,
    OutcomeUnknownError,
    new_idempotency_key,
    redact,
)
from epay_desktop.domain import (
    Action,
    Aggregate,
    Money,
    Payment,
    PaymentEvent,
    State,
    TrackedPayment,
    check_action,
)
from epay_desktop.services.importing import parse_csv, parse_references
from epay_desktop.services.outcomes import find_effect, moved_amount, success_message
from epay_desktop.services.profiles import Profile
from epay_desktop.services.results import (
    AddReport,
    CancelResult,
    ImportReport,
    OperationResult,
    RecoveryOutcome,
    RecoveryResult,
)
from epay_desktop.store import (
    AuditEntry,
    Intent,
    IntentPendingError,
    IntentStatus,
    NewEntry,
    Operation,
    Store,
)

if TYPE_CHECKING:
    from epay_desktop.services.demo import DemoControls

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

PHONE_PATTERN = re.compile(r"^\d{10,15}$")
USER_FLOWS = ("PUSH_MESSAGE", "QR", "WEB_REDIRECT", "NATIVE_REDIRECT")
# An intent whose request may have reached the server is sent again by itself (same key) on start only
# within this window; older ones wait for the person. The API does not document how long it keeps
# idempotency keys, so a replay long after may be treated as a new request.
RESEND_WINDOW = timedelta(hours=24)
ACTION_OF = {
    Operation.CANCEL: Action.CANCEL,
    Operation.CAPTURE: Action.CAPTURE,
    Operation.REFUND: Action.REFUND,
}


class DeskError(Exception):
    """The desk refused before anything was sent; the message says why in words for people."""


class NotTrackedError(DeskError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not tracked"


class ActionNotPossibleError(DeskError):
    """``domain.check_action`` says the action cannot have an effect (or the amount is wrong)."""


class OperationPendingError(DeskError):
    """Another money-moving operation on this payment has no known outcome yet."""


class StaleConfirmationError(DeskError):
    """The payment changed since the person confirmed: a cancel would now release ``now``, not the
    ``expected`` amount they saw. Nothing was sent; ``tracked`` has the fresh figures to show before
    asking again."""

    def __init__(self, tracked: TrackedPayment, expected: Money, now: Money) -> None:
        super().__init__(
            f"{tracked.reference} changed since you confirmed: a cancel would now release {now.plain()}, "
            f"not {expected.plain()}. Nothing was sent. Look at the new figures and confirm again."
        )
        self.tracked = tracked
        self.expected = expected
        self.now = now


class ReadOnlyRegisterError(DeskError):
    """The register is open read-only (damaged or locked): nothing that writes or moves money is done,
    and nothing was sent."""


class DeskInputError(DeskError, ValueError):
    """Input for a new payment that the API would refuse (the message says which field)."""


def current_os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return "unknown"


def new_reference(now: datetime | None = None) -> str:
    """``epd-YYYYmmdd-<10 hex>``: unique enough to never collide, short enough to read out on the phone."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d")
    return f"epd-{stamp}-{secrets.token_hex(5)}"


class PaymentDesk:
    """One profile's desk. Open it with ``await PaymentDesk.open(...)``; close it with ``aclose()``
    (the client belongs to the caller and is not closed)."""

    def __init__(
        self,
        profile: Profile,
        client: EPaymentClient,
        store: Store,
        *,
        demo: DemoControls | None = None,
        operator: str | None = None,
    ) -> None:
        self._profile = profile
        self.client = client
        self.store = store
        self.msn = profile.merchant_serial_number
        self.operator = operator or current_os_user()
        self._demo = demo
        # Payments with a money-moving call running in this desk (reference -> operation). Set and
        # checked without an await in between, so two calls on one payment cannot both start.
        self._in_flight: dict[str, Operation] = {}
        # The shielded tasks that commit and send (strong references; see ``_shielded``).
        self._moving: dict[str, asyncio.Task[Any]] = {}

    @classmethod
    async def open(
        cls,
        profile: Profile,
        client: EPaymentClient,
        register_path: Path,
        demo: DemoControls | None = None,
        operator: str | None = None,
        *,
        read_only: bool = False,
    ) -> PaymentDesk:
        """Open (or create) the register; raises ``RegisterLockedError``/``RegisterDamagedError``.

        ``read_only=True`` (what to offer after those errors) opens an existing register without
        writing, also when it is damaged (``damage`` says what was found; the list shows the rows that
        can be read) or locked by another program. Reading and refreshing work (refreshed payments are
        not saved); every call that writes or moves money raises ``ReadOnlyRegisterError`` before
        anything is sent."""
        if client.merchant_serial_number != profile.merchant_serial_number:
            raise ValueError(
                f"the client is for serial number {client.merchant_serial_number}, "
                f"the profile for {profile.merchant_serial_number}"
            )
        store = await asyncio.to_thread(Store, register_path, read_only=read_only)
        desk = cls(profile, client, store, demo=demo, operator=operator)
        if demo is not None:
            demo.bind(desk)
            if not read_only:
                await demo.seed_if_first_open()
        return desk

    @property
    def read_only(self) -> bool:
        return self.store.db.read_only

    @property
    def damage(self) -> str:
        """What is wrong with a register opened read-only ("" when nothing was found)."""
        lost = self.store.register.unreadable_rows
        found = self.store.db.damage
        if lost:
            found = (
                f"{found}; {lost} row(s) could not be read" if found else f"{lost} row(s) could not be read"
            )
        return found

    def _writable(self, doing: str) -> None:
        if self.read_only:
            why = "it is damaged" if self.store.db.damage else "it was opened read-only"
            raise ReadOnlyRegisterError(
                f"Cannot {doing}: the register {self.store.path.name} is open read-only ({why}). "
                "Nothing was sent. Open a working register to do this."
            )

    @property
    def profile(self) -> Profile:
        return self._profile

    @property
    def demo(self) -> DemoControls | None:
        return self._demo

    async def _db(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(work, *args, **kwargs)

    async def aclose(self) -> None:
        """Wait for the money-moving calls in flight (``drain``), then close the register."""
        await self.drain()
        await self._db(self.store.close)

    # --- the register -----------------------------------------------------------------------------

    async def load_register(self) -> list[TrackedPayment]:
        """Every tracked payment with its last snapshot, from SQLite only (instant, works offline)."""
        return await self._db(self.store.register.all, self.msn)

    async def tracked(self, reference: str) -> TrackedPayment | None:
        return await self._db(self.store.register.get, self.msn, reference)

    async def _fetch(self, reference: str) -> tuple[Payment, list[PaymentEvent]]:
        try:
            async with asyncio.TaskGroup() as group:
                payment = group.create_task(self.client.get_payment(reference))
                events = group.create_task(self.client.get_events(reference))
        except BaseExceptionGroup as errors:
            raise _first(errors) from None
        return payment.result(), events.result()

    async def refresh(self, reference: str) -> TrackedPayment:
        """GET the payment and its events; the snapshot is saved. On failure the old snapshot is kept,
        ``fetch_error`` is recorded, and the client's error is raised."""
        try:
            payment, events = await self._fetch(reference)
        except EPaymentError as error:
            if not self.read_only:
                await self._db(self.store.register.save_fetch_error, self.msn, reference, said(error))
            raise
        if self.read_only:
            # Shown, not saved: the register cannot be written.
            kept = await self.tracked(reference)
            return TrackedPayment(
                reference,
                self.msn,
                payment=payment,
                events=tuple(events),
                description=kept.description if kept else payment.description,
                created_at=kept.created_at if kept else None,
                fetched_at=datetime.now(UTC),
            )
        return await self._db(self.store.register.save_snapshot, self.msn, payment, events)

    async def refresh_all(
        self, references: Iterable[str], concurrency: int = 8
    ) -> AsyncIterator[TrackedPayment]:
        """Yield each payment as its refresh finishes (a failed one comes back with ``fetch_error``).
        Stopping the iteration (or cancelling the task) cancels the refreshes still running."""
        gate = asyncio.Semaphore(max(1, concurrency))

        async def one(reference: str) -> TrackedPayment:
            async with gate:
                try:
                    return await self.refresh(reference)
                except EPaymentError as error:
                    kept = await self.tracked(reference)
                    return kept or TrackedPayment(reference, self.msn, fetch_error=said(error))

        tasks = [asyncio.ensure_future(one(r)) for r in dict.fromkeys(references)]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def add_references(self, text_or_list: str | Iterable[str]) -> AddReport:
        """Track pasted references (checked one by one; nothing is fetched here)."""
        self._writable("add payments")
        good, rejected = parse_references(text_or_list)
        added, existing = await self._db(
            self.store.register.add, self.msn, [NewEntry(c.reference, source="added") for c in good]
        )
        report = AddReport(tuple(added), tuple(existing), tuple(rejected))
        if added or rejected:
            await self._audit("add", "ok" if not rejected else "partly", _one(added), report.summary())
        return report

    async def import_csv(self, path: Path) -> ImportReport:
        """Track the references of a CSV file. Bad rows (broken quoting, too many columns, a bad
        reference) are reported by line and every good row is added; ``CsvImportError`` only when the
        file as a whole cannot be read or has no ``reference`` header (nothing is added then)."""
        self._writable("import payments")
        read = await self._db(parse_csv, Path(path))
        entries = [NewEntry(c.reference, description=c.description, source="imported") for c in read.good]
        added, existing = await self._db(self.store.register.add, self.msn, entries)
        report = ImportReport(
            str(path),
            read.rows,
            tuple(added),
            tuple(existing),
            tuple(read.rejected),
            duplicates=tuple(read.duplicates),
        )
        await self._audit(
            "import", "ok" if report.ok else "partly", "", f"{Path(path).name}: {report.summary()}"
        )
        return report

    # --- audit -------------------------------------------------------------------------------------

    async def _audit(
        self, action: str, result: str, reference: str = "", detail: str = "", amount: Money | None = None
    ) -> None:
        await self._db(
            self.store.audit.record,
            os_user=self.operator,
            profile=self._profile.name,
            msn=self.msn,
            action=action,
            result=result,
            reference=reference,
            amount=amount,
            detail=redact(detail),
        )

    async def audit(self, limit: int = 1000) -> list[AuditEntry]:
        """The newest ``limit`` audit lines, newest first."""
        return await self._db(self.store.audit.entries, limit)

    async def export_audit_csv(self, path: Path) -> int:  # reads only: fine when read-only
        return await self._db(self.store.audit.export_csv, Path(path))

    async def journal(self, limit: int = 1000) -> list[Intent]:
        return await self._db(self.store.journal.all, limit)

    async def pending_intents(self) -> list[Intent]:
        return await self._db(self.store.journal.pending, profile=self._profile.name, msn=self.msn)

    # --- money-moving calls ------------------------------------------------------------------------

    async def cancel(self, reference: str, *, expected_release: Money | None = None) -> CancelResult:
        """Cancel (release what is not captured). The payment is read again (GET) right before the
        intent is committed: ``ActionNotPossibleError`` when a cancel can have no effect now, and
        ``StaleConfirmationError`` (with the fresh figures) when ``expected_release`` (what the person
        confirmed) differs from what it would release now; nothing is sent in either case. Raises the
        client's ``ApiError`` unchanged when the API refuses, and ``OutcomeUnknownError`` when the answer
        was lost and the event log does not show the cancel yet (the intent stays pending;
        ``recover_pending``, ``resume_intent`` or a new try finishes it)."""
        tracked, moved, reconciled, message = await self._move(
            Operation.CANCEL, reference, None, expected_release=expected_release
        )
        return CancelResult(tracked, moved, reconciled, message)

    async def capture(self, reference: str, amount: Money) -> OperationResult:
        tracked, moved, reconciled, message = await self._move(Operation.CAPTURE, reference, amount)
        return OperationResult(tracked, moved, reconciled, message)

    async def refund(self, reference: str, amount: Money) -> OperationResult:
        tracked, moved, reconciled, message = await self._move(Operation.REFUND, reference, amount)
        return OperationResult(tracked, moved, reconciled, message)

    def _claim(self, reference: str, operation: Operation) -> None:
        """Mark ``reference`` busy in this desk, or refuse: one money-moving call per payment at a time."""
        busy = self._in_flight.get(reference)
        if busy is not None:
            raise OperationPendingError(
                f"A {busy.value} of {reference} is in progress right now. Nothing more was sent; wait for "
                "its outcome."
            )
        self._in_flight[reference] = operation

    async def _move(
        self,
        operation: Operation,
        reference: str,
        amount: Money | None,
        *,
        expected_release: Money | None = None,
    ) -> tuple[TrackedPayment, Money, bool, str]:
        self._writable(f"{operation.value} {reference}")
        self._claim(reference, operation)
        try:
            send = await self._prepare_move(operation, reference, amount, expected_release)
        except BaseException:
            del self._in_flight[reference]  # nothing was committed or sent
            raise
        return await self._shielded(reference, send)

    def _shielded(self, reference: str, send: Coroutine[Any, Any, T]) -> Awaitable[T]:
        """Run the part that commits an intent and sends it as its own task, shielded: a caller that is
        cancelled (window closed, profile switched) stops waiting, but the call goes on and its outcome
        is recorded. The claim on ``reference`` ends with the task; ``drain`` waits for it."""
        task = asyncio.ensure_future(send)
        self._moving[reference] = task

        def done(finished: asyncio.Future[T]) -> None:
            self._moving.pop(reference, None)
            self._in_flight.pop(reference, None)
            error = None if finished.cancelled() else finished.exception()
            if error is not None:  # retrieved here too, for when nobody awaits it any more
                log.info("money-moving call on %s ended: %s", reference, said(error))

        task.add_done_callback(done)
        return asyncio.shield(task)

    def busy_references(self) -> frozenset[str]:
        """Payments with a money-moving call committed and in flight in this desk (it will finish and
        record its outcome even if nobody waits for it). Ask before closing or switching profile."""
        return frozenset(self._moving)

    async def drain(self) -> None:
        """Wait until every money-moving call in flight in this desk has finished and recorded its
        outcome (``aclose`` does this first). Close the client only after this."""
        while self._moving:
            await asyncio.wait(list(self._moving.values()))

    async def _prepare_move(
        self, operation: Operation, reference: str, amount: Money | None, expected_release: Money | None
    ) -> Coroutine[Any, Any, tuple[TrackedPayment, Money, bool, str]]:
        """The checks (cancellable: nothing is committed or sent here); returns the part that sends."""
        tracked = await self.tracked(reference)
        if tracked is None:
            raise NotTrackedError(f"{reference} is not in the register of {self._profile.name}.")
        pending = await self._db(self.store.journal.pending, msn=self.msn, reference=reference)
        for intent in pending:
            same_amount = operation is Operation.CANCEL or intent.amount == amount
            if intent.operation is operation and same_amount:
                # The same operation was sent before without a known outcome: finish that one, with
                # its key, instead of starting a second one.
                return self._resume(intent)
        if pending:
            other = pending[0]
            raise OperationPendingError(
                f"A {other.operation.value} of {reference} sent at {other.created_at:%Y-%m-%d %H:%M} UTC has "
                "no known outcome yet. Finish it first: send it again (same key, it cannot happen twice) or "
                "abandon it (after the event log shows it did not happen)."
            )
        # What the person saw may be old (another window, the portal, a capture elsewhere): decide on
        # the payment as it is now. A failed read raises the client's error; nothing was sent.
        fresh = await self.refresh(reference)
        payment = fresh.payment
        assert payment is not None
        check = check_action(payment, ACTION_OF[operation])
        if not check.allowed:
            raise ActionNotPossibleError(check.reason)
        if (
            expected_release is not None
            and operation is Operation.CANCEL
            and check.amount != expected_release
        ):
            raise StaleConfirmationError(fresh, expected_release, check.amount)
        if amount is not None and (
            amount.currency is not payment.currency or amount.value <= 0 or amount > check.amount
        ):
            raise ActionNotPossibleError(
                f"At most {check.amount.plain()} can be {operation.value}d now; {amount.plain()} was asked."
            )
        return self._begin_and_send(
            operation, reference, amount if amount is not None else check.amount, payment
        )

    async def _begin_and_send(
        self, operation: Operation, reference: str, amount: Money, payment: Payment
    ) -> tuple[TrackedPayment, Money, bool, str]:
        try:
            intent = await self._db(
                self.store.journal.begin,
                operation=operation,
                profile=self._profile.name,
                msn=self.msn,
                reference=reference,
                # For a cancel the amount is what it would release now (for the audit); the API
                # releases the whole remainder whatever it is.
                amount=amount,
                idempotency_key=new_idempotency_key(),
                os_user=self.operator,
            )
        except IntentPendingError as error:
            # Another desk (window, copy of the app, process) began one on this payment meanwhile.
            other = error.intent
            raise OperationPendingError(
                f"A {other.operation.value} of {reference} was started at {other.created_at:%H:%M:%S} UTC "
                f"by {other.os_user} (another window or copy of the app) and is in progress or has no known "
                "outcome yet. Nothing more was sent; wait for it, then refresh the payment."
            ) from None
        return await self._attempt(intent, payment, resumed=False)

    async def _send(self, intent: Intent) -> Payment:
        key = intent.idempotency_key
        if intent.operation is Operation.CANCEL:
            return await self.client.cancel(intent.reference, idempotency_key=key)
        assert intent.amount is not None
        if intent.operation is Operation.CAPTURE:
            return await self.client.capture(intent.reference, intent.amount, idempotency_key=key)
        return await self.client.refund(intent.reference, intent.amount, idempotency_key=key)

    async def _attempt(
        self, intent: Intent, before: Payment | None, *, resumed: bool
    ) -> tuple[TrackedPayment, Money, bool, str]:
        attempts = await self._db(self.store.journal.note_attempt, intent.id)
        try:
            answer = await self._send(intent)
        except (ApiError, NotAllowedError) as error:
            # Refused: nothing moved (a 4xx stays a 4xx for this key; the client raises
            # OutcomeUnknownError instead when an earlier try of this call may have taken effect).
            await self._finish(intent, IntentStatus.FAILED, f"Refused: {said(error)}")
            await self._refresh_quietly(intent.reference)
            raise
        except (NetworkError, MalformedResponseError) as error:
            # The client raises these for a money-moving call only when nothing of it was sent (no
            # connection, no token). Closed as failed, so it is never sent later without asking; unless
            # an earlier attempt (before a crash, or an earlier try) may have reached the server.
            if attempts <= 1:
                await self._finish(intent, IntentStatus.FAILED, f"Not sent: {said(error)}")
                raise
            raise OutcomeUnknownError(
                operation=intent.operation.value,
                reference=intent.reference,
                idempotency_key=intent.idempotency_key,
                last_error=error,
                attempts=attempts,
            ) from error
        except EPaymentError:
            # The outcome is unknown (answer lost, unreadable): the event log decides.
            settled = await self._settle_from_log(intent, before)
            if settled is None:
                raise
            return settled
        try:
            payment, events = await self._fetch(intent.reference)
            tracked = await self._db(self.store.register.save_snapshot, self.msn, payment, events)
        except EPaymentError as error:
            payment = answer
            tracked = await self._db(
                self.store.register.save_snapshot,
                self.msn,
                _merge(before, answer),
                None,
                fetch_error=f"The event log was not refreshed: {said(error)}",
            )
        moved = moved_amount(intent, before, answer, None)
        message = success_message(intent, moved, payment, reconciled=False)
        if resumed:
            message += " (finished after an interruption, with the same idempotency key)"
        await self._finish(intent, IntentStatus.SUCCEEDED, message)
        return tracked, moved, False, message

    async def _settle_from_log(
        self, intent: Intent, before: Payment | None, *, raise_unreadable: bool = False
    ) -> tuple[TrackedPayment, Money, bool, str] | None:
        try:
            payment, events = await self._fetch(intent.reference)
        except EPaymentError as error:
            log.info("could not read %s to settle intent %s: %s", intent.reference, intent.id, error)
            if raise_unreadable:
                raise
            return None
        tracked = await self._db(self.store.register.save_snapshot, self.msn, payment, events)
        effect = find_effect(intent, payment, events)
        if effect is None:
            return None
        moved = moved_amount(intent, before, payment, effect)
        message = success_message(intent, moved, payment, reconciled=True, effect=effect)
        await self._finish(intent, IntentStatus.RECONCILED, message)
        return tracked, moved, True, message

    async def _finish(self, intent: Intent, status: IntentStatus, outcome: str) -> None:
        await self._db(self.store.journal.finish, intent.id, status, redact(outcome), os_user=self.operator)

    async def _refresh_quietly(self, reference: str) -> None:
        try:
            await self.refresh(reference)
        except EPaymentError as error:
            log.info("refresh of %s after a refusal failed: %s", reference, error)

    async def _resume(self, intent: Intent) -> tuple[TrackedPayment, Money, bool, str]:
        """Finish an intent without a known outcome: settle it from the event log, else send it
        again with the same Idempotency-Key."""
        kept = await self.tracked(intent.reference)
        before = kept.payment if kept else None
        settled = await self._settle_from_log(intent, before)
        if settled is not None:
            return settled
        return await self._attempt(intent, before, resumed=True)

    async def recover_pending(self) -> list[RecoveryResult]:
        """On start: look at every intent of this profile left without an outcome, one result each.

        Each is first settled from the payment's event log (nothing is sent). If the log shows no
        effect, it is sent again with its own key only when its request may have reached the server
        (it was attempted) and it started less than ``RESEND_WINDOW`` ago (24 h; how long the API keeps
        keys is not documented). Others (never sent, or older) are left open with ``needs_decision``:
        the person chooses ``resume_intent`` or ``abandon_intent``. ``STILL_UNKNOWN`` ones stay open
        too; only ``result.finished`` ones are done."""
        results: list[RecoveryResult] = []
        now = datetime.now(UTC)
        for intent in await self.pending_intents():
            if intent.reference in self._in_flight:
                continue  # being sent right now by this desk: its own call reports it
            results.append(await self._recover_one(intent, now))
        return results

    async def _recover_one(self, intent: Intent, now: datetime) -> RecoveryResult:
        what = _what(intent)
        if self.read_only:
            return _result(
                intent,
                RecoveryOutcome.READ_ONLY,
                f"{what} has no known outcome yet; the register is open read-only, so it is not finished "
                "now (nothing was sent). Open the register normally to finish it.",
            )
        self._claim(intent.reference, intent.operation)
        handed_over = False  # to the shielded task that sends, which ends the claim itself
        try:
            kept = await self.tracked(intent.reference)
            before = kept.payment if kept else None
            try:
                settled = await self._settle_from_log(intent, before, raise_unreadable=True)
            except NotAllowedError as error:
                # The client refuses this payment outright (reading it, so sending too): it never went.
                text = f"{what} was not sent: {said(error)} Nothing was moved; it is closed as failed."
                await self._finish(intent, IntentStatus.FAILED, text)
                return _result(intent, RecoveryOutcome.FAILED, text)
            except EPaymentError as error:
                return _result(
                    intent,
                    RecoveryOutcome.STILL_UNKNOWN,
                    f"{what} has no known outcome: the payment could not be read ({said(error)}). Nothing "
                    "was sent now; it stays open and is checked again at the next start.",
                )
            if settled is not None:
                return _result(intent, RecoveryOutcome.RECONCILED, settled[3], settled[1])
            if intent.attempts == 0:
                return _result(
                    intent,
                    RecoveryOutcome.NEEDS_DECISION,
                    f"{what} was never sent (the app stopped first), and the payment's event log shows no "
                    f"such {intent.operation.value}. It is not sent by itself: send it now, or abandon it.",
                )
            age = now - intent.created_at
            if age > RESEND_WINDOW:
                return _result(
                    intent,
                    RecoveryOutcome.NEEDS_DECISION,
                    f"{what} has no known outcome, and the payment's event log shows no such "
                    f"{intent.operation.value}. It started more than {_hours(RESEND_WINDOW)} hours ago, so "
                    "it is not sent again by itself: send it again (same idempotency key), or abandon it.",
                )
            handed_over = True
            try:
                _tracked, moved, reconciled, message = await self._shielded(
                    intent.reference, self._attempt(intent, before, resumed=True)
                )
            except EPaymentError as error:
                return await self._after_failed_recovery(intent, error)
            outcome = RecoveryOutcome.RECONCILED if reconciled else RecoveryOutcome.SUCCEEDED
            return _result(intent, outcome, message, moved)
        finally:
            if not handed_over:
                del self._in_flight[intent.reference]

    async def _after_failed_recovery(self, intent: Intent, error: EPaymentError) -> RecoveryResult:
        """Say what the journal now holds after a failed resend: closed as failed, or still open."""
        what = _what(intent)
        now = await self._db(self.store.journal.get, intent.id)
        if now is not None and now.status is not IntentStatus.PENDING:
            if isinstance(error, ApiError):
                text = f"{what} was refused by the API: {said(error)} Nothing was moved."
            else:
                text = f"{what} was not sent: {said(error)} Nothing was moved; it is closed as failed."
            return _result(intent, RecoveryOutcome.FAILED, text)
        return _result(
            intent,
            RecoveryOutcome.STILL_UNKNOWN,
            f"{what} still has no known outcome ({said(error)}). It stays open, with its idempotency key: "
            "refresh the payment to see what happened, then send it again or abandon it.",
        )

    async def resume_intent(self, intent_id: int) -> CancelResult | OperationResult:
        """The person chose to finish an open intent: settle it from the event log, else send it again
        with its own key. Raises like ``cancel``/``capture``/``refund``."""
        intent = await self._open_intent(intent_id, "send again")
        self._claim(intent.reference, intent.operation)
        tracked, moved, reconciled, message = await self._shielded(intent.reference, self._resume(intent))
        if intent.operation is Operation.CANCEL:
            return CancelResult(tracked, moved, reconciled, message)
        return OperationResult(tracked, moved, reconciled, message)

    async def abandon_intent(self, intent_id: int) -> RecoveryResult:
        """The person chose to give up an open intent. The payment and its event log are read first:
        if they show the effect, it is recorded as reconciled (it happened after all); otherwise it is
        closed as failed. Raises the client's error when the payment cannot be read (nothing changes)."""
        intent = await self._open_intent(intent_id, "abandon")
        self._claim(intent.reference, intent.operation)
        try:
            kept = await self.tracked(intent.reference)
            settled = await self._settle_from_log(
                intent, kept.payment if kept else None, raise_unreadable=True
            )
            if settled is not None:
                return _result(
                    intent,
                    RecoveryOutcome.RECONCILED,
                    f"Not abandoned: it happened. {settled[3]}",
                    settled[1],
                )
            message = (
                f"{_what(intent)} was abandoned by {self.operator}: the payment's event log shows no such "
                f"{intent.operation.value}. Nothing was moved."
            )
            await self._finish(intent, IntentStatus.FAILED, message)
            return _result(intent, RecoveryOutcome.FAILED, message)
        finally:
            del self._in_flight[intent.reference]

    async def _open_intent(self, intent_id: int, doing: str) -> Intent:
        self._writable(f"{doing} an unfinished operation")
        intent = await self._db(self.store.journal.get, intent_id)
        if intent is None or intent.merchant_serial_number != self.msn:
            raise DeskError(f"There is no operation {intent_id} in this register.")
        if intent.status is not IntentStatus.PENDING:
            raise DeskError(
                f"The {intent.operation.value} of {intent.reference} is already finished "
                f"({intent.status.value}): {intent.outcome}"
            )
        return intent

    # --- creating payments -------------------------------------------------------------------------

    async def create_payment(
        self,
        amount: Money,
        description: str,
        phone_number: str | None = None,
        user_flow: str = "PUSH_MESSAGE",
    ) -> TrackedPayment:
        """Create a payment with a reference made here, track it, and return it. For ``QR`` and
        ``WEB_REDIRECT`` the link to show as a QR code is ``tracked.payment.redirect_url``."""
        self._writable("create a payment")
        description = description.strip()
        phone = re.sub(r"[\s+()-]", "", phone_number or "") or None
        if user_flow not in USER_FLOWS:
            raise DeskInputError(f"Unknown way to reach the customer {user_flow!r}.")
        if not 3 <= len(description) <= 100:
            raise DeskInputError("The description must be 3 to 100 characters.")
        if amount.value <= 0:
            raise DeskInputError("The amount must be more than zero.")
        if user_flow == "PUSH_MESSAGE" and (phone is None or not PHONE_PATTERN.fullmatch(phone)):
            raise DeskInputError(
                "A push message needs the customer's phone number with country code, 10 to 15 digits "
                "(for example 4791234567)."
            )
        reference = new_reference()
        now = datetime.now(UTC)
        await self._db(
            self.store.register.add,
            self.msn,
            [NewEntry(reference, description=description, created_at=now, source="created")],
        )
        try:
            created = await self.client.create_payment(
                reference=reference,
                amount=amount,
                description=description,
                user_flow=user_flow,
                phone_number=phone if user_flow == "PUSH_MESSAGE" else None,
                return_url="https://example.com/epay-desktop/return" if user_flow == "WEB_REDIRECT" else None,
                idempotency_key=new_idempotency_key(),
            )
        except (ApiError, NotAllowedError) as error:
            await self._db(self.store.register.remove, self.msn, reference)
            await self._audit("create", "failed", reference, said(error), amount)
            raise
        except EPaymentError as error:
            # Maybe created: keep it tracked, so a refresh shows what happened.
            await self._db(self.store.register.save_fetch_error, self.msn, reference, said(error))
            await self._audit("create", "unknown", reference, said(error), amount)
            raise
        if created.redirect_url:
            await self._db(self.store.register.set_redirect_url, self.msn, reference, created.redirect_url)
        await self._audit("create", "ok", reference, f"{user_flow}: {description}", amount)
        try:
            tracked = await self.refresh(reference)
        except EPaymentError:
            # Created for sure (the API said so): keep what we know until the next refresh.
            provisional = Payment(
                reference,
                amount,
                State.CREATED,
                Aggregate.zero(amount.currency),
                description=description,
                redirect_url=created.redirect_url,
            )
            tracked = await self._db(
                self.store.register.save_snapshot,
                self.msn,
                provisional,
                None,
                fetch_error="Created; its details could not be read yet.",
            )
        if tracked.payment is not None and tracked.payment.redirect_url is None and created.redirect_url:
            tracked = replace(tracked, payment=replace(tracked.payment, redirect_url=created.redirect_url))
        return tracked


def _what(intent: Intent) -> str:
    return (
        f"The {intent.operation.value} of {intent.reference} started "
        f"{intent.created_at:%Y-%m-%d %H:%M} UTC by {intent.os_user}"
    )


def _hours(window: timedelta) -> int:
    return int(window.total_seconds() // 3600)


def _result(
    intent: Intent, outcome: RecoveryOutcome, message: str, amount: Money | None = None
) -> RecoveryResult:
    return RecoveryResult(
        intent.id,
        intent.reference,
        intent.operation,
        outcome,
        message,
        amount if amount is not None else intent.amount,
    )


def said(error: BaseException) -> str:
    """An error's text as it may be shown or stored: secrets removed (finding 3)."""
    return redact(str(error))


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    leaves: list[BaseException] = []

    def walk(error: BaseException) -> None:
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                walk(inner)
        else:
            leaves.append(error)

    walk(group)
    for leaf in leaves:
        if not isinstance(leaf, asyncio.CancelledError):
            return leaf
    return leaves[0]


def _one(references: list[str]) -> str:
    return references[0] if len(references) == 1 else ""


def _merge(before: Payment | None, answer: Payment) -> Payment:
    """A modification answer lacks the description and payment method: keep them from before."""
    if before is None:
        return answer
    return replace(
        answer,
        description=answer.description or before.description,
        payment_method=answer.payment_method or before.payment_method,
        redirect_url=answer.redirect_url or before.redirect_url,
    )
