"""The sandbox's own controls under ``/sandbox/v1`` (no auth): list payments, play the customer's part,
faults, reset, the clock and stats. Reached over HTTP like the API itself (in-process through a
transport, or a sandbox on another machine); this module never imports the sandbox."""

from __future__ import annotations

from typing import Any, Final, NamedTuple

import httpx

from epay_desktop.api.errors import InvalidInputError, MalformedResponseError, NetworkError
from epay_desktop.api.inputs import check_reference
from epay_desktop.api.lifecycle import AsyncClosing
from epay_desktop.api.parse import load_json, parse_payment, parse_problem
from epay_desktop.api.session import DEFAULT_TIMEOUT
from epay_desktop.domain import Payment
from epay_desktop.i18n import _

__all__ = ["CUSTOMER_ACTIONS", "CustomerAnswer", "SandboxControls"]

CUSTOMER_ACTIONS: Final = ("approve", "reject", "start-authorizing", "finish-authorizing", "expire")


class CustomerAnswer(NamedTuple):
    payment: Payment
    authorizing: bool  # the customer is in 3-D Secure now (the sandbox says so)


class SandboxControls(AsyncClosing):
    """``async with SandboxControls(base_url, transport=...) as controls: ...``"""

    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, transport=transport, timeout=DEFAULT_TIMEOUT)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        *,
        msn: str | None = None,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        headers = {"Accept": "application/json"}
        if msn is not None:
            headers["Merchant-Serial-Number"] = msn
        try:
            response = await self._http.request(method, path, json=body, params=params, headers=headers)
        except httpx.TransportError as exc:
            raise NetworkError(
                _("The sandbox at {url} could not be reached ({reason}).").format(
                    url=self.base_url, reason=type(exc).__name__
                ),
                operation=f"sandbox {path}",
                cause=exc,
            ) from exc
        if response.status_code >= 400:
            raise parse_problem(response.status_code, response.content, response.headers)
        if not response.content.strip():
            return None
        return load_json(response.content, what=f"sandbox {path}", status=response.status_code)

    async def list_payments(
        self, msn: str, offset: int = 0, limit: int = 100
    ) -> tuple[list[dict[str, Any]], int]:
        data = await self._call(
            "GET", "/sandbox/v1/payments", msn=msn, params={"offset": offset, "limit": limit}
        )
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise MalformedResponseError("sandbox payments: expected {items: [...], total: n}")
        items = [item for item in data["items"] if isinstance(item, dict)]
        total = data.get("total")
        return items, total if isinstance(total, int) else len(items)

    async def customer(self, msn: str, reference: str, action: str) -> Payment:
        return (await self.act(msn, reference, action)).payment

    async def act(self, msn: str, reference: str, action: str) -> CustomerAnswer:
        """Play the customer; the answer also says whether the customer is in 3-D Secure now (the
        sandbox's ``authorizing``, which the real API's payment does not carry)."""
        if action not in CUSTOMER_ACTIONS:
            raise InvalidInputError(
                f"unknown customer action {action!r}; use one of {', '.join(CUSTOMER_ACTIONS)}"
            )
        check_reference(reference)
        data = await self._call("POST", f"/sandbox/v1/payments/{reference}/customer/{action}", msn=msn)
        authorizing = isinstance(data, dict) and data.get("authorizing") is True
        return CustomerAnswer(parse_payment(data), authorizing)

    async def set_faults(
        self,
        latency_ms: int = 0,
        error_rates: dict[str, float] | None = None,
        drop_after_commit: int = 0,
        *,
        processing_ms: int = 0,
        capture_failures: int = 0,
        funds_unavailable: int = 0,
    ) -> dict[str, Any]:
        """Set every fault at once (what is not given is off). ``processing_ms``: a modification holds
        its payment that long (another gets 423); ``capture_failures`` / ``funds_unavailable``: the
        next N captures are refused with 6280 / 6260."""
        body = {
            "latencyMs": latency_ms,
            "errorRates": error_rates or {"500": 0.0, "503": 0.0, "429": 0.0},
            "dropAfterCommit": drop_after_commit,
            "processingMs": processing_ms,
            "captureFailures": capture_failures,
            "fundsUnavailable": funds_unavailable,
        }
        data = await self._call("PUT", "/sandbox/v1/faults", body=body)
        return data if isinstance(data, dict) else {}

    async def get_faults(self) -> dict[str, Any]:
        data = await self._call("GET", "/sandbox/v1/faults")
        return data if isinstance(data, dict) else {}

    async def reset(self, data: str = "demo") -> None:
        await self._call("POST", "/sandbox/v1/reset", body={"data": data})

    async def advance_clock(self, seconds: float) -> None:
        await self._call("POST", "/sandbox/v1/clock/advance", body={"seconds": seconds})

    async def stats(self) -> dict[str, Any]:
        data = await self._call("GET", "/sandbox/v1/stats")
        return data if isinstance(data, dict) else {}
