"""The approvals inbox of a Team profile (four eyes): the refunds and batches held by the team server
until a second supervisor decides.

``ApprovalsInbox`` lists the requests of the desk's merchant, approves one (the server sends its moves
once, each with the Idempotency-Key fixed when it was asked) or rejects one with a reason (nothing is
ever sent). Who may do what is the server's to check: a refusal comes back as the server's sentence.
``HeldForApprovalError`` is what a refund above the threshold raises: nothing was sent yet.
``ended_text`` is the sentence whoever asked reads when their request ended (the live stream tells it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from epay_desktop.api.team_client import TeamClient
from epay_desktop.domain import Money
from epay_desktop.i18n import _, ngettext
from epay_desktop.i18n.formats import money_text
from epay_desktop.services.errors import DeskError
from epay_desktop.services.team_rows import moment_of, money_of

__all__ = [
    "ApprovalItem",
    "ApprovalRequest",
    "ApprovalsInbox",
    "HeldForApprovalError",
    "approval_from_json",
    "ended_text",
]


@dataclass(frozen=True, slots=True)
class ApprovalItem:
    reference: str
    amount: Money | None
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """One held request: who asked, what, and why; its status (pending, approved, then sent, failed or
    expired; or rejected, expired) and, once decided, by whom and with which note; a failed one says
    which payment did not move and why (``failure``)."""

    id: int
    operation: str
    items: tuple[ApprovalItem, ...]
    total: Money | None
    reason: str
    requested_by: str
    requested_at: datetime | None
    expires_at: datetime | None
    status: str
    decided_by: str = ""
    note: str = ""
    description: str = ""
    failure: str = ""
    finished_at: datetime | None = None


def approval_from_json(data: Any) -> ApprovalRequest | None:
    """A request of the server's answer (None when it cannot be read: it is not shown)."""
    if not isinstance(data, dict):
        return None
    try:
        items = tuple(
            ApprovalItem(str(i["reference"]), money_of(i.get("amount")), str(i.get("outcome") or ""))
            for i in data.get("items") or []
            if isinstance(i, dict)
        )
        return ApprovalRequest(
            id=int(data["id"]),
            operation=str(data.get("operation") or ""),
            items=items,
            total=money_of(data.get("total")),
            reason=str(data.get("reason") or ""),
            requested_by=str(data.get("requestedBy") or ""),
            requested_at=moment_of(data.get("requestedAt")),
            expires_at=moment_of(data.get("expiresAt")),
            status=str(data.get("status") or ""),
            decided_by=str(data.get("decidedBy") or ""),
            note=str(data.get("note") or ""),
            description=str(data.get("description") or ""),
            failure=str(data.get("failure") or ""),
            finished_at=moment_of(data.get("finishedAt")),
        )
    except (KeyError, TypeError, ValueError):
        return None


class HeldForApprovalError(DeskError):
    """The server held the move for a second supervisor's approval: nothing was sent yet."""

    def __init__(self, request: ApprovalRequest | None) -> None:
        number = f"#{request.id}" if request is not None else ""
        super().__init__(
            _(
                "Held for approval {number}: a refund above the merchant's limit is sent only when a second "
                "supervisor approves it in the approvals inbox. Nothing was sent yet."
            ).format(number=number)
        )
        self.request = request


@dataclass(frozen=True, slots=True)
class Decision:
    """What an approve or reject did: the request as it is now and one sentence for people."""

    request: ApprovalRequest | None
    message: str


def _what(request: ApprovalRequest) -> str:
    """ "shop-1042, 250.00 NOK" or "3 payments, 750.00 NOK in all"."""
    count = len(request.items)
    what = (
        request.items[0].reference
        if count == 1
        else ngettext("{count} payment", "{count} payments", count).format(count=count)
    )
    total = request.total
    if total is None:
        return what
    amount = money_text(total.value, total.currency.value, total.currency.minor_digits)
    if count == 1:
        return _("{what}, {amount}").format(what=what, amount=amount)
    return _("{what}, {amount} in all").format(what=what, amount=amount)


def ended_text(request_id: int, status: str, request: ApprovalRequest | None) -> str:
    """What whoever asked reads when their request ended (``request`` as the server has it now; None
    when it could not be read: the sentence then says only how it ended)."""
    if request is None:
        texts = {
            "sent": _("Your approval request #{id} was approved and sent."),
            "failed": _("Your approval request #{id} was approved but could not be sent."),
            "expired": _("Your approval request #{id} expired: nothing was sent."),
            "rejected": _("Your approval request #{id} was rejected: nothing was sent."),
        }
        return texts.get(status, _("Your approval request #{id} has ended ({status}).")).format(
            id=request_id, status=status
        )
    values = {
        "id": request.id,
        "what": _what(request),
        "by": request.decided_by,
        "why": request.failure,
        "note": request.note,
        "status": request.status,
    }
    # How it ended first (the status bar may cut a long line; Recent messages keeps it whole).
    if request.status == "sent":
        text = _("Your approval request #{id} was approved by {by} and sent ({what}).")
    elif request.status == "failed":
        text = _("Your approval request #{id} was approved by {by} but could not be sent ({what}): {why}")
    elif request.status == "expired" and request.decided_by:
        text = _(
            "Your approval request #{id} was approved by {by} but its time ran out before it was sent: "
            "nothing was sent ({what})."
        )
    elif request.status == "expired":
        text = _("Your approval request #{id} expired without a decision: nothing was sent ({what}).")
    elif request.status == "rejected" and request.note:
        text = _("Your approval request #{id} was rejected by {by}: {note} Nothing was sent ({what}).")
    elif request.status == "rejected":
        text = _("Your approval request #{id} was rejected by {by}: nothing was sent ({what}).")
    else:
        text = _("Your approval request #{id} has ended ({status}; {what}).")
    return text.format(**values)


class ApprovalsInbox:
    """The requests of one merchant at one team server (see the module docstring). ``ask`` runs each
    client call (the desk's: it keeps the connection state and notices a lost session)."""

    def __init__(self, client: TeamClient, msn: str, ask: Callable[[Any], Any]) -> None:
        self.client = client
        self.msn = msn
        self._ask = ask

    async def requests(self, status: str = "pending") -> list[ApprovalRequest]:
        answer = await self._ask(self.client.approvals(self.msn, status))
        found = answer.get("approvals") if isinstance(answer, dict) else None
        requests = [approval_from_json(item) for item in found] if isinstance(found, list) else []
        return [r for r in requests if r is not None]

    async def get(self, request_id: int) -> ApprovalRequest | None:
        """One request as the server has it now (None when its answer cannot be read)."""
        return approval_from_json(await self._ask(self.client.approval(request_id)))

    async def approve(self, request: ApprovalRequest, note: str = "") -> Decision:
        """Approve ``request`` (not one you asked for yourself: the server refuses that): its moves
        are sent once. The message says how each item ended."""
        reference = request.items[0].reference if len(request.items) == 1 else ""
        answer = await self._ask(
            self.client.approve(request.id, note, operation=request.operation, reference=reference)
        )
        data = answer if isinstance(answer, dict) else {}
        now = approval_from_json(data.get("approval"))
        failed = [
            item
            for item in data.get("items") or []
            if isinstance(item, dict) and isinstance(item.get("error"), dict)
        ]
        if now is not None and now.status == "failed":
            message = _("Approved #{id}, but it could not be sent: {reasons}").format(
                id=request.id, reasons=now.failure
            )
        elif failed:
            reasons = "; ".join(
                f"{item.get('reference')}: {item['error'].get('message') or item['error'].get('error')}"
                for item in failed
            )
            message = _("Approved #{id}; not every payment moved: {reasons}").format(
                id=request.id, reasons=reasons
            )
        else:
            message = _("Approved #{id}: sent.").format(id=request.id)
        return Decision(now, message)

    async def reject(self, request: ApprovalRequest, reason: str) -> Decision:
        """Reject ``request`` with ``reason`` (required: whoever asked reads why); nothing is sent."""
        if not reason.strip():
            raise DeskError(_("Say why it is rejected: whoever asked reads the reason."))
        answer = await self._ask(self.client.reject(request.id, reason.strip()))
        now = approval_from_json(answer.get("approval") if isinstance(answer, dict) else None)
        return Decision(now, _("Rejected #{id}: nothing was sent.").format(id=request.id))
