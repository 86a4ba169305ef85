"""The client of ``epay-team``'s HTTP API (what a Team profile's desktop talks to instead of ePayment).

The desktop never holds the merchant's API secret: it logs in as an agent and sends every read and
money move to the team server, which journals and sends them. Errors join the client's one tree
(``api/errors.py``) so the window words them as it words the API's::

    TeamLoginNeededError  (RefusedError)  401: no session, or it expired or was revoked: log in again
    TeamRefusedError      (RefusedError)  the server said no (a role, someone else is on it, bad input);
                                          ``code`` and ``by`` (who holds the payment) as the server said
    TeamUnreachableError  (NetworkError)  no answer from the server, or it cannot reach its database
    OutcomeUnknownError                   a money move whose outcome the server does not know (502), or
                                          whose answer was lost on the way back

Plain ``http://`` only to this computer (loopback); anything else is ``https://`` with verified
certificates (``check_team_url``): a session token and the payments must not cross a network readable.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import quote, urlsplit

import httpx

from epay_desktop.api.errors import NetworkError, OutcomeUnknownError, RefusedError
from epay_desktop.domain import Money
from epay_desktop.i18n import _

__all__ = [
    "LiveEvent",
    "TeamClient",
    "TeamLogin",
    "TeamLoginNeededError",
    "TeamRefusedError",
    "TeamUnreachableError",
    "check_team_url",
    "server_sent_events",
]

TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# The live stream is quiet while nothing changes: no read deadline, only one for connecting.
LIVE_TIMEOUT = httpx.Timeout(None, connect=5.0)
MAX_ANSWER_BYTES = 32 * 1024 * 1024


class TeamLoginNeededError(RefusedError):
    """No session, or it expired or was revoked: the person logs in again (nothing was done)."""


class TeamRefusedError(RefusedError):
    """The team server refused; ``str()`` is its sentence, ``code`` its error code, ``by`` the agent
    who holds the payment (when someone else is on it)."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str = "",
        by: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.by = by
        self.details = details or {}  # the whole answer (a repeat refusal names the earlier operation)


class TeamUnreachableError(NetworkError):
    """No answer from the team server (or it cannot reach its database): nothing was done."""


@dataclass(frozen=True, slots=True)
class TeamLogin:
    token: str
    name: str
    role: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One ``event: payment`` of the live stream: ``kind`` is ``changed`` (read the payment again),
    ``working`` (``agent`` is doing ``action`` now) or ``done`` (``agent`` finished); the stream's
    first item is ``open`` (no reference): the server answered and the stream is on; ``reload`` (no
    reference): the server cannot tell what was missed, read the whole list again. An ``event:
    approval`` is kind ``approval``: the approval request ``approval`` that ``agent`` asked for ended
    as ``action`` (sent, failed, expired, rejected); ``reference`` is its first payment."""

    reference: str
    kind: str
    agent: str = ""
    action: str = ""
    at: str = ""
    id: str = ""  # the stream's event id: sent back on reconnect to be told what was missed
    approval: int = 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_team_url(url: str) -> None:
    """Raise ``ValueError`` with a sentence for people when ``url`` may not be a team server's URL."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - a port that is no number raises here
    except ValueError:
        raise ValueError(_("The team server URL {url!r} is not a valid URL.").format(url=url)) from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(
            _("The team server URL must start with https:// and name a server, got {url!r}.").format(url=url)
        )
    if parts.scheme == "http" and not _is_loopback(host):
        raise ValueError(
            _(
                "{url} is plain http:// to another machine: the session token and the payments would cross "
                "the network readable. Use https:// (plain http:// is only for a server on this computer)."
            ).format(url=url)
        )


def _message(answer: httpx.Response) -> tuple[str, dict[str, Any]]:
    try:
        data = answer.json()
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return data["message"], data
    return _("The team server answered HTTP {status}.").format(status=answer.status_code), {}


class TeamClient:
    """One agent's connection to one team server. Create it inside the running loop; ``aclose`` it."""

    def __init__(
        self, base_url: str, *, token: str = "", transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        check_team_url(base_url)
        self.base_url = base_url.strip().rstrip("/")
        self.token = token
        # verify=True is httpx's default and is never turned off: a team server is https:// or loopback.
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=TIMEOUT, transport=transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, str] | None = None,
    ) -> Any:
        """A call that moves nothing: an error before or after sending leaves nothing done."""
        try:
            answer = await self._http.request(method, path, json=body, params=params, headers=self._headers())
        except httpx.HTTPError as error:
            raise TeamUnreachableError(
                _("The team server {url} cannot be reached ({error}).").format(
                    url=self.base_url, error=type(error).__name__
                ),
                cause=error,
            ) from None
        return self._read(answer)

    def _read(self, answer: httpx.Response) -> Any:
        if answer.status_code < 400:
            if len(answer.content) > MAX_ANSWER_BYTES:
                raise TeamUnreachableError(_("The team server's answer is too large."))
            try:
                return answer.json()
            except (ValueError, UnicodeDecodeError):
                raise TeamUnreachableError(_("The team server's answer could not be read.")) from None
        message, data = _message(answer)
        if answer.status_code == 401:
            raise TeamLoginNeededError(message)
        if answer.status_code == 503 or answer.status_code >= 500:
            raise TeamUnreachableError(message)
        raise TeamRefusedError(
            message,
            status=answer.status_code,
            code=str(data.get("error") or ""),
            by=str(data.get("by") or ""),
            details=data,
        )

    # --- the session -----------------------------------------------------------------------------
    async def login(self, name: str, password: str) -> TeamLogin:
        data = await self._call("POST", "/api/v1/login", {"name": name, "password": password})
        try:
            login = TeamLogin(
                str(data["token"]), str(data["name"]), str(data["role"]), int(data["expires_in"])
            )
        except (KeyError, TypeError, ValueError):
            raise TeamUnreachableError(_("The team server's answer could not be read.")) from None
        self.token = login.token
        return login

    async def logout(self) -> None:
        await self._call("POST", "/api/v1/logout")
        self.token = ""

    async def me(self) -> dict[str, Any]:
        data = await self._call("GET", "/api/v1/me")
        return data if isinstance(data, dict) else {}

    async def merchants(self) -> list[Any]:
        data = await self._call("GET", "/api/v1/merchants")
        merchants = data.get("merchants") if isinstance(data, dict) else None
        return list(merchants) if isinstance(merchants, list) else []

    # --- payments --------------------------------------------------------------------------------
    @staticmethod
    def _payments_path(msn: str, reference: str = "") -> str:
        path = f"/api/v1/merchants/{quote(msn, safe='')}/payments"
        return f"{path}/{quote(reference, safe='')}" if reference else path

    async def payments(self, msn: str) -> Any:
        return await self._call("GET", self._payments_path(msn))

    async def payment(self, msn: str, reference: str) -> Any:
        return await self._call("GET", self._payments_path(msn, reference))

    async def refresh(self, msn: str, reference: str) -> Any:
        return await self._call("POST", self._payments_path(msn, reference) + "/refresh")

    async def add(
        self, msn: str, references: Iterable[str], descriptions: Mapping[str, str] | None = None
    ) -> Any:
        body: dict[str, Any] = {"references": list(references)}
        if descriptions:
            body["descriptions"] = dict(descriptions)
        return await self._call("POST", self._payments_path(msn), body)

    async def move(
        self,
        msn: str,
        reference: str,
        operation: str,
        amount: Money | None = None,
        *,
        again: bool = False,
        reason: str = "",
    ) -> Any:
        """A cancel, capture or refund through the server (which journals it and sends it with its own
        Idempotency-Key). An answer lost after sending is ``OutcomeUnknownError``: the server may
        have moved the money; read the payment again before anything else."""
        body: dict[str, Any] = {}
        if amount is not None:
            body["amount"] = {"value": amount.value, "currency": amount.currency.value}
        if again:
            body["again"] = True
        if reason:
            body["reason"] = reason
        path = self._payments_path(msn, reference) + f"/{operation}"
        return await self._moving(path, body, operation=operation, reference=reference)

    async def _moving(self, path: str, body: dict[str, Any], *, operation: str, reference: str) -> Any:
        """A call that may move money: no connection is "nothing done"; an answer lost after sending
        is ``OutcomeUnknownError`` (read the payment again before anything else)."""
        try:
            answer = await self._http.post(path, json=body, headers=self._headers())
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise TeamUnreachableError(
                _("The team server {url} cannot be reached ({error}).").format(
                    url=self.base_url, error=type(error).__name__
                ),
                cause=error,
            ) from None
        except httpx.HTTPError as error:
            raise OutcomeUnknownError(
                operation=operation, reference=reference, idempotency_key="", last_error=error, attempts=1
            ) from None
        if answer.status_code == 502:
            raise OutcomeUnknownError(
                operation=operation, reference=reference, idempotency_key="", last_error=None, attempts=1
            )
        return self._read(answer)

    async def resume(self, msn: str, reference: str, intent_id: int, *, operation: str = "") -> Any:
        """Finish operation ``intent_id`` on ``reference``, left without an outcome (the server settles
        it from the event log, else sends it again with its own key: it cannot happen twice). The person
        chose it, so also when it began more than a day ago. A lost answer is ``OutcomeUnknownError``."""
        path = self._payments_path(msn, reference) + "/resume"
        body = {"intent": int(intent_id), "decided": True}
        return await self._moving(path, body, operation=operation or "resume", reference=reference)

    # --- who did what: the audit and the journal ------------------------------------------------
    async def audit(
        self, msn: str, *, reference: str | None = None, limit: int = 1000, before: int | None = None
    ) -> Any:
        """The merchant's audit lines, newest first (one payment's; all of them needs a supervisor)."""
        return await self._call(
            "GET",
            f"/api/v1/merchants/{quote(msn, safe='')}/audit",
            params=_query(reference=reference, limit=limit, before=before),
        )

    async def intents(
        self,
        msn: str,
        *,
        pending_only: bool = True,
        reference: str | None = None,
        limit: int = 1000,
        before: int | None = None,
    ) -> Any:
        """The merchant's operations, newest first: those without an outcome, or (a supervisor) all."""
        return await self._call(
            "GET",
            f"/api/v1/merchants/{quote(msn, safe='')}/intents",
            params=_query(
                status="pending" if pending_only else "all", reference=reference, limit=limit, before=before
            ),
        )

    async def abandon(self, msn: str, intent_id: int) -> Any:
        """Close an operation left without an outcome (a supervisor; the server reads the event log
        first and sends nothing)."""
        return await self._call(
            "POST", f"/api/v1/merchants/{quote(msn, safe='')}/intents/{int(intent_id)}/abandon"
        )

    # --- four-eyes approval (supervisors) ------------------------------------------------------
    async def approvals(self, msn: str, status: str = "pending") -> Any:
        return await self._call("GET", f"/api/v1/approvals?status={quote(status)}&msn={quote(msn)}")

    async def approve(
        self, request_id: int, note: str = "", *, operation: str = "", reference: str = ""
    ) -> Any:
        """Approve: the server sends the held moves once (each with the key fixed when it was asked);
        its answer has each item's outcome. A lost answer is ``OutcomeUnknownError``."""
        path = f"/api/v1/approvals/{int(request_id)}/approve"
        return await self._moving(path, {"note": note}, operation=operation, reference=reference)

    async def approval(self, request_id: int) -> Any:
        return await self._call("GET", f"/api/v1/approvals/{int(request_id)}")

    async def reject(self, request_id: int, note: str) -> Any:
        return await self._call("POST", f"/api/v1/approvals/{int(request_id)}/reject", {"note": note})

    # --- live ------------------------------------------------------------------------------------
    async def live(self, msn: str, *, last_event_id: str = "") -> AsyncIterator[LiveEvent]:
        """The server's live stream for ``msn`` (server-sent events), until it ends or fails
        (``TeamUnreachableError``; ``TeamLoginNeededError`` when the session ended).
        ``last_event_id``: the id of the last event seen before a reconnect (the server then tells
        what was missed, or ``reload``)."""
        path = f"/api/v1/merchants/{quote(msn, safe='')}/live"
        headers = self._headers() | {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        try:
            async with self._http.stream("GET", path, headers=headers, timeout=LIVE_TIMEOUT) as answer:
                if answer.status_code >= 400:
                    await answer.aread()
                    self._read(answer)
                yield LiveEvent(reference="", kind="open")
                async for event in server_sent_events(answer.aiter_lines()):
                    yield event
        except httpx.HTTPError as error:
            raise TeamUnreachableError(
                _("The team server {url} cannot be reached ({error}).").format(
                    url=self.base_url, error=type(error).__name__
                ),
                cause=error,
            ) from None


def _query(**values: str | int | None) -> dict[str, str]:
    return {name: str(value) for name, value in values.items() if value is not None}


async def server_sent_events(lines: AsyncIterator[str]) -> AsyncIterator[LiveEvent]:
    """``event: payment``, ``event: approval`` and ``event: reload`` blocks of a text/event-stream
    (comments and other events are skipped; a block whose data cannot be read is skipped too: the next
    ``changed`` or a refresh brings the truth)."""
    name, data, last_id = "message", list[str](), ""
    async for line in lines:
        if line == "":
            if name in ("payment", "approval") and data:
                read = _live_event if name == "payment" else _approval_event
                event = read("\n".join(data), last_id)
                if event is not None:
                    yield event
            elif name == "reload":
                yield LiveEvent(reference="", kind="reload", id=last_id)
            name, data = "message", list[str]()
        elif line.startswith(":"):
            continue
        else:
            field, _colon, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
            elif field == "id" and "\0" not in value:
                last_id = value


def _approval_event(text: str, event_id: str) -> LiveEvent | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("approval"), int):
        return None
    return LiveEvent(
        reference=str(data.get("reference") or ""),
        kind="approval",
        agent=str(data.get("requestedBy") or ""),
        action=str(data.get("status") or ""),
        at=str(data.get("at") or ""),
        id=event_id,
        approval=data["approval"],
    )


def _live_event(text: str, event_id: str) -> LiveEvent | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("reference"), str):
        return None
    return LiveEvent(
        reference=data["reference"],
        kind=str(data.get("kind") or "changed"),
        agent=str(data.get("agent") or ""),
        action=str(data.get("action") or ""),
        at=str(data.get("at") or ""),
        id=event_id,
    )
