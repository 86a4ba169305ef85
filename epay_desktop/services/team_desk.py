"""TeamDesk: the desk of a Team profile, with ``PaymentDesk``'s public surface (``DeskSurface``), backed by
``epay-team``'s HTTP API instead of a local register and the merchant's own credentials.

The window does not know which one it talks to. Reads and money moves go to the team server, which
journals every cancel, capture and refund (with its own Idempotency-Key, written before sending) and
sends it with the merchant's credentials the desktop never holds. The journal and audit are the
server's: the desk reads them from it, and an operation a stopped instance left without an outcome is
resumed (or, by a supervisor, abandoned) by the server at the person's word
(``services/team_journal.py``).

What the desk keeps is the last list it was shown (``rows``): when the server is out of reach the window
keeps showing it, read-only (``online`` False; ``connection`` listeners are told), and every call that
would write or move money is refused with a sentence before anything is sent. With a ``TeamListCache``
the list is also kept on disk (written shortly after it changes, and on close), so a desktop started
while the server is out of reach opens on it (``start_offline``); the first answer from the server
then checks the session (who is logged in, as what) before the list goes live again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from epay_desktop.api.errors import EPaymentError, MalformedResponseError, NotSentError, OutcomeUnknownError
from epay_desktop.api.team_client import (
    TeamClient,
    TeamLoginNeededError,
    TeamRefusedError,
    TeamUnreachableError,
)
from epay_desktop.domain import Money, PaymentEvent, TrackedPayment
from epay_desktop.domain.rules import cancel_outcome
from epay_desktop.i18n import _
from epay_desktop.services.bounded import as_they_finish
from epay_desktop.services.changes import ChangeFeed, PaymentChanged
from epay_desktop.services.errors import (
    DeskError,
    ReadOnlyRegisterError,
    RepeatNotConfirmedError,
    StaleConfirmationError,
)
from epay_desktop.services.importing import Candidate, parse_references
from epay_desktop.services.profiles import Profile
from epay_desktop.services.results import (
    AddReport,
    CancelResult,
    ImportReport,
    OperationResult,
    RecoveryResult,
    RejectedItem,
)
from epay_desktop.services.team_cache import CachedList, TeamListCache
from epay_desktop.services.team_inbox import ApprovalsInbox, HeldForApprovalError, approval_from_json
from epay_desktop.services.team_journal import TeamJournal
from epay_desktop.services.team_rows import (
    Activity,
    activity_of,
    intent_from_json,
    money_of,
    payments_of,
    tracked_from_json,
)
from epay_desktop.store import AuditEntry, Intent, Operation

__all__ = ["Activity", "TeamDesk", "tracked_from_json"]

log = logging.getLogger(__name__)
ConnectionListener = Callable[[bool, str], None]
SessionEndedListener = Callable[[str], None]
# How soon after a change the list is written to disk: the changes within it are written together, and
# on close. Writing 10,000 rows takes about a second of a thread's time, so not after every change.
SAVE_AFTER_S = 30.0


class TeamDesk:
    """A Team profile's desk (see the module docstring). ``aclose`` waits for moves in flight and
    closes the client."""

    def __init__(
        self,
        profile: Profile,
        client: TeamClient,
        *,
        agent: str = "",
        role: str = "",
        cache: TeamListCache | None = None,
    ) -> None:
        self._profile = profile
        self.client = client
        self.agent = agent or profile.agent
        self.role = role
        self.changes = ChangeFeed()
        self.rows: dict[str, TrackedPayment] = {}
        self.activity: dict[str, Activity] = {}  # reference -> who did what last (the server says)
        self.online = True
        self.problem = ""
        self._connection_listeners: list[ConnectionListener] = []
        self._session_listeners: list[SessionEndedListener] = []
        self._in_flight: dict[str, asyncio.Task[Any]] = {}
        self._skipped: list[str] = []
        self.approvals = ApprovalsInbox(client, profile.merchant_serial_number, self._ask)
        self.history = TeamJournal(
            client,
            profile.merchant_serial_number,
            self._ask,
            reread=self._reread_quietly,
            writable=self._writable,
        )
        self.fetched_at: datetime | None = None  # when the desk last read anything from the server
        self.unconfirmed = False  # started offline: who is logged in is checked at the first answer
        self._cache = cache
        self._saving: asyncio.Task[None] | None = None
        self._unsaved = False

    def start_offline(self, cached: CachedList | None, problem: str) -> None:
        """Open on the list kept on disk (``cached``; None: none kept) because the server could not be
        reached: read-only until it answers, and then the session is checked first."""
        if cached is not None:
            self.rows = {row.reference: row for row in cached.rows}
            self.activity = dict(cached.activity)
            self.fetched_at = cached.fetched_at
        self.unconfirmed = True
        self.online, self.problem = False, problem

    async def confirm_session(self) -> None:
        """Ask the server who this session is (after starting offline): the agent and role follow its
        answer, then the desk is online. A session that ended tells the listeners (the login)."""
        try:
            me = await self.client.me()
        except TeamUnreachableError as error:
            self._set_online(False, str(error))
            raise
        except TeamLoginNeededError as error:
            self.session_ended(str(error))
            raise
        self.agent = str(me.get("name") or self.agent)
        self.role = str(me.get("role") or self.role)
        self.unconfirmed = False
        self._set_online(True)

    @property
    def may_approve(self) -> bool:
        """Supervisors and administrators see the approvals inbox (the server checks every call)."""
        return self.role in ("supervisor", "admin")

    # --- what the window reads --------------------------------------------------------------------
    @property
    def profile(self) -> Profile:
        return self._profile

    @property
    def msn(self) -> str:
        return self._profile.merchant_serial_number

    @property
    def read_only(self) -> bool:
        return not self.online

    @property
    def damage(self) -> str:
        return ""  # no local register that could be damaged

    @property
    def demo(self) -> None:
        return None  # the customer's part is played by real customers (no sandbox controls)

    @property
    def skipped(self) -> list[str]:
        """What the last list left out because the server's row cannot be read (one line each)."""
        return list(self._skipped)

    # --- connection state -------------------------------------------------------------------------
    def on_connection(self, listener: ConnectionListener) -> None:
        """``listener(online, sentence)`` whenever the server goes out of reach or comes back."""
        self._connection_listeners.append(listener)

    def on_session_ended(self, listener: SessionEndedListener) -> None:
        """``listener(sentence)`` when the server says the session expired or was revoked."""
        self._session_listeners.append(listener)

    def note_unreachable(self, problem: str) -> None:
        """The server is out of reach (the live stream says so first): the list goes read-only."""
        self._set_online(False, problem)

    def note_reachable(self) -> None:
        self._set_online(True)

    def session_ended(self, sentence: str) -> None:
        """The server said the session expired or was revoked: tell the listeners (the login dialog)."""
        for listener in tuple(self._session_listeners):
            listener(sentence)

    def _set_online(self, online: bool, problem: str = "") -> None:
        changed = online != self.online
        self.online, self.problem = online, problem
        if changed:
            for listener in tuple(self._connection_listeners):
                listener(online, problem)

    async def _ask(self, call: Any) -> Any:
        """Await one call of the client, keeping the connection state and telling a lost session."""
        try:
            answer = await call
        except TeamUnreachableError as error:
            self._set_online(False, str(error))
            raise
        except TeamLoginNeededError as error:
            self.session_ended(str(error))
            raise
        if self.unconfirmed:
            await self.confirm_session()
        else:
            self._set_online(True)
        return answer

    def _writable(self, what: str) -> None:
        if not self.online:
            raise ReadOnlyRegisterError(
                _("{what} The team server cannot be reached: the list is as last shown, read-only.").format(
                    what=what
                )
            )

    def _publish(
        self, rows: Iterable[TrackedPayment], asked_at: datetime, source: str, *, fresh: bool = True
    ) -> None:
        """Show ``rows``; ``fresh``: the server just said so (kept on disk shortly)."""
        changed = []
        for row in rows:
            self.rows[row.reference] = row
            changed.append(PaymentChanged(row, asked_at, source))
        self.changes.publish(*changed)
        if fresh:
            self.fetched_at = datetime.now(UTC)
            self._save_soon()

    # --- the list on disk ---------------------------------------------------------------------------
    def _save_soon(self) -> None:
        """Write the list to disk shortly (one write for the changes of a moment), off the loop."""
        if self._cache is None:
            return
        self._unsaved = True
        if self._saving is None or self._saving.done():
            self._saving = asyncio.get_running_loop().create_task(self._save_later(), name="team-list-save")

    async def _save_later(self) -> None:
        await asyncio.sleep(SAVE_AFTER_S)
        await self.save_list()

    async def save_list(self) -> None:
        """Write the list as shown now (a failure to write is logged: the list on screen stays)."""
        if self._cache is None or not self._unsaved:
            return
        self._unsaved = False
        # The rows are frozen records: a copy of the lists is all the thread needs.
        rows, activity = list(self.rows.values()), dict(self.activity)
        try:
            await asyncio.to_thread(
                self._cache.save, rows, activity, agent=self.agent, role=self.role, fetched_at=self.fetched_at
            )
        except (OSError, ValueError) as error:
            log.warning("the team list could not be kept on disk: %s", error)

    def _read_row(self, item: Any) -> TrackedPayment:
        row = tracked_from_json(item, self.msn)
        activity = activity_of(item)
        if activity is None:
            self.activity.pop(row.reference, None)
        else:
            self.activity[row.reference] = activity
        return row

    def _read_rows(self, answer: Any) -> list[TrackedPayment]:
        rows, skipped = [], []
        for number, item in enumerate(payments_of(answer), start=1):
            try:
                rows.append(self._read_row(item))
            except (MalformedResponseError, ValueError, TypeError) as error:
                # Said to the person (``skipped``), never dropped in silence; the other rows are shown.
                log.warning("row %d of the team's list cannot be read: %s", number, error)
                skipped.append(
                    _("row {number} of the team's list: {error}").format(number=number, error=error)
                )
        self._skipped = skipped
        return rows

    # --- the register (the server's) --------------------------------------------------------------
    async def load_register(self) -> list[TrackedPayment]:
        asked_at = datetime.now(UTC)
        try:
            rows = self._read_rows(await self._ask(self.client.payments(self.msn)))
        except TeamUnreachableError:
            rows = list(self.rows.values())  # the last list shown stays, read-only
            self._publish(rows, asked_at, "load", fresh=False)
            return rows
        # A payment taken off the shared list (by an administrator) goes from what is kept, too.
        for gone in set(self.rows) - {row.reference for row in rows}:
            del self.rows[gone]
            self.activity.pop(gone, None)
        self._publish(rows, asked_at, "load")
        return rows

    async def tracked(self, reference: str) -> TrackedPayment | None:
        return self.rows.get(reference)

    async def events_of(self, reference: str) -> tuple[PaymentEvent, ...] | None:
        """The saved event log (the list comes without them: read from the server on first use)."""
        row = self.rows.get(reference)
        if row is not None and row.events is not None:
            return row.events
        fresh = await self._reread_quietly(reference)
        return fresh.events if fresh is not None else None

    async def refresh(self, reference: str) -> TrackedPayment:
        """The server reads the payment from the API (and keeps it); the row follows."""
        asked_at = datetime.now(UTC)
        row = self._read_row(await self._ask(self.client.refresh(self.msn, reference)))
        self._publish([row], asked_at, "refresh")
        return row

    async def reread(self, reference: str) -> TrackedPayment:
        """The payment as the server has it now (nothing asked of the API): after a colleague's change."""
        asked_at = datetime.now(UTC)
        row = self._read_row(await self._ask(self.client.payment(self.msn, reference)))
        self._publish([row], asked_at, "team")
        return row

    async def refresh_all(
        self, references: Iterable[str], concurrency: int = 8
    ) -> AsyncIterator[TrackedPayment]:
        # At most ``concurrency`` at a time, one started per pass of the loop (``bounded``).
        async with contextlib.aclosing(as_they_finish(references, self.refresh, concurrency)) as finished:
            async for task in finished:
                try:
                    yield task.result()
                except TeamUnreachableError as error:
                    # The desk is offline now (its listeners said so: the banner); the rest would fail
                    # the same way, so the refresh ends here, and the list stays as last shown. Raised,
                    # so the refresh's caller can say how many were not refreshed, and why.
                    log.info("refresh through the team server stopped: %s", error)
                    raise
                except NotSentError as error:
                    log.info("refresh through the team server failed: %s", error)

    async def add_references(self, text_or_list: str | Iterable[str]) -> AddReport:
        self._writable(_("Cannot add payments."))
        good, rejected = parse_references(text_or_list)
        return await self._add(good, rejected)

    async def _add(self, good: list[Candidate], rejected: list[RejectedItem]) -> AddReport:
        """Track ``good`` on the server, with the descriptions they carry (a CSV's column)."""
        if not good:
            return AddReport((), (), tuple(rejected))
        wanted = [c.reference for c in good]
        descriptions = {c.reference: c.description for c in good if c.description}
        answer = await self._ask(self.client.add(self.msn, wanted, descriptions))
        data = answer if isinstance(answer, dict) else {}
        added, already, refused = data.get("added"), data.get("alreadyTracked"), data.get("rejected")
        added_refs = tuple(str(r) for r in added) if isinstance(added, list) else tuple(wanted)
        already_refs = tuple(str(r) for r in already) if isinstance(already, list) else ()
        if isinstance(refused, list):
            rejected += [
                RejectedItem(str(r.get("text") or ""), str(r.get("reason") or ""))
                for r in refused
                if isinstance(r, dict)
            ]
        await self.load_register()
        return AddReport(added_refs, already_refs, tuple(rejected))

    async def import_csv(self, path: Path) -> ImportReport:
        from epay_desktop.services.importing import parse_csv

        self._writable(_("Cannot import payments."))
        read = await asyncio.to_thread(parse_csv, Path(path))
        report = await self._add(read.good, [])
        return ImportReport(
            str(path),
            read.rows,
            report.added,
            report.already_tracked,
            tuple(read.rejected),
            duplicates=tuple(read.duplicates),
        )

    async def remove_payments(self, references: Iterable[str]) -> list[TrackedPayment]:
        raise DeskError(_("In Team mode payments are taken off the shared list by an administrator."))

    async def restore_payments(self, rows: Iterable[TrackedPayment]) -> list[str]:
        raise DeskError(_("In Team mode payments are taken off the shared list by an administrator."))

    # --- money moves (the server journals and sends them) -----------------------------------------
    async def _move(
        self,
        operation: Operation,
        reference: str,
        amount: Money | None,
        *,
        again: bool = False,
        reason: str = "",
    ) -> tuple[Any, TrackedPayment]:
        self._writable(_("Nothing was sent."))
        if reference in self._in_flight:
            raise DeskError(
                _("This window is already sending an operation on {reference}.").format(reference=reference)
            )
        # Shielded: closing the window or switching profile does not cut a send in half; ``drain`` waits.
        task = asyncio.ensure_future(self._send(operation, reference, amount, again=again, reason=reason))
        self._in_flight[reference] = task
        task.add_done_callback(lambda _done: self._in_flight.pop(reference, None))
        return await asyncio.shield(task)

    async def _send(
        self, operation: Operation, reference: str, amount: Money | None, *, again: bool, reason: str
    ) -> tuple[Any, TrackedPayment]:
        try:
            result = await self._ask(
                self.client.move(self.msn, reference, operation.value, amount, again=again, reason=reason)
            )
        except TeamRefusedError as error:
            previous = intent_from_json(error.details.get("previous"), self.msn)
            if error.code == "repeat_not_confirmed" and previous is not None:
                raise RepeatNotConfirmedError(previous) from None  # the window asks "again?"
            await self._reread_quietly(reference)  # a colleague may have moved it: show what is true
            raise
        except OutcomeUnknownError:
            await self._reread_quietly(reference)
            raise
        # The server confirmed the move: a failed read afterwards must not turn that into an error.
        row = await self._reread_quietly(reference)
        if row is None:
            row = self.rows.get(reference) or TrackedPayment(reference, self.msn)
        return result, row

    async def _reread_quietly(self, reference: str) -> TrackedPayment | None:
        try:
            return await self.reread(reference)
        except EPaymentError as error:  # what the move said is what the person needs
            log.info("reading %s after a move failed: %s", reference, error)
            return None

    async def cancel(
        self, reference: str, *, expected_release: Money | None = None, reason: str = ""
    ) -> CancelResult:
        """Cancel through the server. With ``expected_release`` (what the person confirmed) the payment
        is read again first: ``StaleConfirmationError`` with the fresh figures when a cancel would now
        release another amount (nothing sent)."""
        self._writable(_("Nothing was sent."))
        if expected_release is not None:
            fresh = await self.refresh(reference)
            outcome = cancel_outcome(fresh.payment) if fresh.payment is not None else None
            now = outcome.released if outcome is not None else Money(0, expected_release.currency)
            if now != expected_release:
                raise StaleConfirmationError(fresh, expected_release, now)
        row = self.rows.get(reference)
        zero = Money(0, self._profile.currency)
        fallback = expected_release or (row.payment.amount if row and row.payment else zero)
        result, tracked = await self._move(Operation.CANCEL, reference, None, reason=reason)
        message = str(result.get("message") or "") if isinstance(result, dict) else ""
        reconciled = bool(result.get("reconciled")) if isinstance(result, dict) else False
        moved = money_of(result.get("moved")) if isinstance(result, dict) else None
        return CancelResult(tracked, moved or fallback, reconciled, message)

    async def capture(
        self, reference: str, amount: Money, *, key: str | None = None, reason: str = "", again: bool = False
    ) -> OperationResult:
        return await self.money_of(Operation.CAPTURE, reference, amount, again=again, reason=reason)

    async def refund(
        self, reference: str, amount: Money, *, key: str | None = None, reason: str = "", again: bool = False
    ) -> OperationResult:
        return await self.money_of(Operation.REFUND, reference, amount, again=again, reason=reason)

    async def money_of(
        self, operation: Operation, reference: str, amount: Money, *, again: bool, reason: str
    ) -> OperationResult:
        """``key`` of the window's capture/refund is not used: the server journals its own keys and
        sends a "try again later" refusal again with the same key itself."""
        result, tracked = await self._move(operation, reference, amount, again=again, reason=reason)
        if isinstance(result, dict) and result.get("held") is True:
            raise HeldForApprovalError(approval_from_json(result.get("approval")))
        message = str(result.get("message") or "") if isinstance(result, dict) else ""
        reconciled = bool(result.get("reconciled")) if isinstance(result, dict) else False
        moved = money_of(result.get("moved")) if isinstance(result, dict) else None
        return OperationResult(tracked, moved or amount, reconciled, message)

    def busy_references(self) -> frozenset[str]:
        return frozenset(self._in_flight)

    async def drain(self) -> None:
        while self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def aclose(self) -> None:
        await self.drain()
        if self._saving is not None:
            self._saving.cancel()
            await asyncio.gather(self._saving, return_exceptions=True)
        await self.save_list()
        await self.client.aclose()

    # --- recovery, journal, audit: the server's (services/team_journal.py) ---------------------------
    async def recover_pending(self) -> list[RecoveryResult]:
        return await self.history.recover_pending()

    async def pending_intents(self) -> list[Intent]:
        return await self.history.pending_intents()

    async def check_pending(self, reference: str) -> tuple[list[str], int]:
        """The server settles what it can itself; here: read the payment again and say what is left."""
        await self._reread_quietly(reference)
        left = [i for i in await self.history.pending_intents() if i.reference == reference]
        return [], len(left)

    async def resume_intent(self, intent_id: int) -> CancelResult | OperationResult:
        return await self.history.resume(intent_id)

    async def abandon_intent(self, intent_id: int) -> RecoveryResult:
        return await self.history.abandon(intent_id)

    async def create_payment(
        self,
        amount: Money,
        description: str,
        phone_number: str | None = None,
        user_flow: str = "PUSH_MESSAGE",
    ) -> TrackedPayment:
        raise DeskError(_("In Team mode new payments are made by the shop's own system, not by the desk."))

    async def audit(self, limit: int = 1000, reference: str | None = None) -> list[AuditEntry]:
        """The team's audit (all of it: supervisors; one payment's: every role), newest first."""
        return await self.history.audit(limit, reference)

    async def journal(self, limit: int = 1000) -> list[Intent]:
        return await self.history.journal(limit)

    async def export_payments_csv(self, rows: Iterable[TrackedPayment], path: Path) -> int:
        from epay_desktop.services.exporting import write_payments_csv

        return await asyncio.to_thread(write_payments_csv, list(rows), Path(path))

    async def export_audit_csv(self, path: Path) -> int:
        return await self.history.export_csv(path)
