"""epay-webhooks: verify, de-duplicate, store; refuse what is not genuine without writing anything."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from epay_desktop.domain import EventName, State
from epay_desktop.sandbox.webhooks.signing import signed_headers
from epay_desktop.store import NewEntry
from tests.webhooks.conftest import HOOK_URL, Rig

pytestmark = pytest.mark.anyio


async def test_a_payment_life_reaches_the_register(rig: Rig) -> None:
    await rig.api.authorized("hook-life-1", 1000)
    assert (await rig.api.capture("hook-life-1", 300)).status_code == 200
    assert (await rig.api.cancel("hook-life-1")).status_code == 200
    await rig.settle()
    row = rig.row("hook-life-1")
    assert row is not None
    assert row.payment is not None
    assert row.payment.state is State.AUTHORIZED
    aggregate = row.payment.aggregate
    assert (aggregate.authorized.value, aggregate.captured.value, aggregate.cancelled.value) == (
        1000,
        300,
        700,
    )
    assert [e.name for e in row.events] == [
        EventName.CREATED,
        EventName.AUTHORIZED,
        EventName.CAPTURED,
        EventName.CANCELLED,
    ]
    log = (await rig.api.events("hook-life-1")).json()
    assert [e.psp_reference for e in row.events] == [e["pspReference"] for e in log]
    assert rig.inbox.counts["stored"] == 4


async def test_a_payment_tracked_before_any_read_gets_its_events(rig: Rig) -> None:
    # Added to the register (no event log saved yet), then its webhooks arrive.
    rig.inbox.store.register.add("123456", [NewEntry("hook-added-1")])
    await rig.api.authorized("hook-added-1", 500)
    await rig.settle()
    row = rig.row("hook-added-1")
    assert row is not None
    assert [e.name for e in row.events] == [EventName.CREATED, EventName.AUTHORIZED]
    listed = {t.reference: t for t in rig.inbox.store.register.all("123456")}["hook-added-1"]
    assert listed.last_event_at == row.events[-1].timestamp
    assert rig.inbox.counts["stored"] == 2


async def test_duplicates_are_stored_once(rig: Rig) -> None:
    await rig.api.client.put("/sandbox/v1/webhooks/faults", json={"duplicateRate": 1})
    await rig.api.authorized("hook-dup-1", 500)
    await rig.settle()
    row = rig.row("hook-dup-1")
    assert row is not None
    assert [e.name for e in row.events] == [EventName.CREATED, EventName.AUTHORIZED]
    assert rig.inbox.counts == {"stored": 2, "duplicate": 2}
    attempts = (await rig.api.client.get("/sandbox/v1/webhooks/deliveries")).json()["deliveries"]
    assert all([a["status"] for a in d["attempts"]] == [200, 200] for d in attempts)


async def _post(rig: Rig, body: bytes, headers: dict[str, str], url: str = HOOK_URL) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=rig.receiver)) as client:
        return await client.post(url, content=body, headers=headers)


def _now() -> datetime:
    return datetime.now(UTC)


def _genuine(rig: Rig, body: bytes, url: str = HOOK_URL) -> dict[str, str]:
    return signed_headers(rig.endpoint.secrets[0], url, body, _now())


BODY = json.dumps(
    {
        "msn": "123456",
        "reference": "hook-forged-1",
        "pspReference": "123",
        "name": "CAPTURED",
        "amount": {"currency": "NOK", "value": 100},
        "timestamp": "2026-01-19T16:26:32.099Z",
        "idempotencyKey": None,
        "success": True,
    }
).encode()


async def test_a_genuine_delivery_is_accepted(rig: Rig) -> None:
    response = await _post(rig, BODY, _genuine(rig, BODY))
    assert response.status_code == 200
    assert response.json() == {"outcome": "stored"}
    again = await _post(rig, BODY, _genuine(rig, BODY))
    assert again.json() == {"outcome": "duplicate"}


@pytest.mark.parametrize(
    "tamper",
    ["body", "hash", "signature", "date", "host", "missing", "old", "secret"],
)
async def test_tampered_deliveries_get_401_and_nothing_is_written(rig: Rig, tamper: str) -> None:
    body, headers = BODY, _genuine(rig, BODY)
    url = HOOK_URL
    if tamper == "body":
        body = BODY.replace(b"100", b"900")
    elif tamper == "hash":
        headers["x-ms-content-sha256"] = signed_headers("x", HOOK_URL, b"{}", _now())["x-ms-content-sha256"]
    elif tamper == "signature":
        headers["authorization"] = headers["authorization"][:-6] + "AAAAA="
    elif tamper == "date":
        headers["x-ms-date"] = signed_headers("x", HOOK_URL, body, _now() + timedelta(seconds=1))["x-ms-date"]
    elif tamper == "host":
        url = "https://evil.example/hooks/vipps"
        headers.pop("host")
    elif tamper == "missing":
        headers.pop("authorization")
    elif tamper == "old":
        headers = signed_headers(rig.endpoint.secrets[0], HOOK_URL, body, _now() - timedelta(hours=1))
    elif tamper == "secret":
        headers = signed_headers("not-the-secret", HOOK_URL, body, _now())
    response = await _post(rig, body, headers, url)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "signature"
    assert rig.inbox.store.register.count() == 0


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1,2]", b'{"msn":"123456"}', BODY.replace(b"true", b"null"), b"\xff\xfe"],
)
async def test_genuine_but_unreadable_bodies_get_400(rig: Rig, body: bytes) -> None:
    response = await _post(rig, body, _genuine(rig, body))
    assert response.status_code == 400, response.text
    assert rig.inbox.store.register.count() == 0


async def test_other_paths_and_methods_are_not_5xx(rig: Rig) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=rig.receiver)) as client:
        assert (await client.get(HOOK_URL)).status_code == 405
        assert (await client.post("https://desk.shop.example/other", content=BODY)).status_code == 404
        huge = b"{" + b" " * 100_000 + b"}"
        assert (await client.post(HOOK_URL, content=huge, headers=_genuine(rig, huge))).status_code == 413
        health = await client.get("https://desk.shop.example/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert rig.endpoint.secrets[0] not in health.text


async def test_an_inbox_that_follows_only_tracked_payments_stores_nothing_new(rig: Rig) -> None:
    rig.inbox.track_new = False
    await rig.api.authorized("hook-untracked-1", 500)
    await rig.settle()
    assert rig.row("hook-untracked-1") is None
    assert rig.inbox.counts == {"untracked": 2}
    assert [r.outcome for r in rig.inbox.recent] == ["untracked", "untracked"]


async def test_a_sandbox_clock_moved_days_ahead_does_not_make_deliveries_look_forged(rig: Rig) -> None:
    rig.sandbox.clock.advance(3 * 24 * 3600)
    await rig.api.fetch_token()  # the old one expired on the sandbox clock
    await rig.api.authorized("hook-later-1", 500)
    await rig.settle()
    assert rig.inbox.counts == {"stored": 2}
