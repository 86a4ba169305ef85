"""The team desk reading the team server's list: a row that cannot be read is said (``skipped``), never
dropped in silence, and never guessed; the others are shown. A hostile or broken server cannot be made
from the real ``epay-team``, so its answer is served by ``httpx.MockTransport``."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from epay_desktop.api.team_client import TeamClient
from epay_desktop.domain import Currency, Money, State
from epay_desktop.services import Profile, ProfileKind
from epay_desktop.services.team_desk import TeamDesk

GOOD = {
    "reference": "order-1001",
    "merchantSerialNumber": "123456",
    "description": "Pizza",
    "createdAt": "2026-12-01T15:02:11+00:00",
    "fetchedAt": "2026-12-01T15:40:00.120000+00:00",
    "fetchError": "",
    "lastEventAt": "2026-12-01T15:39:58+00:00",
    "payment": {
        "reference": "order-1001",
        "state": "AUTHORIZED",
        "amount": {"currency": "NOK", "value": 10000},
        "aggregate": {
            "authorizedAmount": {"currency": "NOK", "value": 10000},
            "capturedAmount": {"currency": "NOK", "value": 2500},
            "cancelledAmount": {"currency": "NOK", "value": 0},
            "refundedAmount": {"currency": "NOK", "value": 0},
        },
        "pspReference": "psp-1",
        "paymentDescription": "Pizza",
        "paymentMethod": "WALLET",
        "redirectUrl": None,
        "metadata": {},
        "captureGuaranteedUntil": None,
    },
    "pending": None,
    "lastAction": {
        "operation": "capture",
        "status": "succeeded",
        "amount": {"currency": "NOK", "value": 2500},
        "by": "kari",
        "at": "2026-12-01T15:39:00+00:00",
        "finishedBy": "kari",
        "finishedAt": "2026-12-01T15:39:01+00:00",
        "outcome": "Captured 25.00 NOK.",
    },
}


def desk_over(answer: dict[str, Any]) -> TeamDesk:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
    client = TeamClient("https://team.example.no", token="t", transport=transport)
    profile = Profile("Desk", ProfileKind.TEAM, "123456", base_url="https://team.example.no", agent="ola")
    return TeamDesk(profile, client, agent="ola", role="agent")


def test_a_row_is_read_with_who_did_what_last() -> None:
    async def main() -> None:
        desk = desk_over({"merchantSerialNumber": "123456", "payments": [GOOD]})
        (row,) = await desk.load_register()
        await desk.aclose()
        assert row.payment is not None
        assert row.payment.state is State.AUTHORIZED
        assert row.payment.aggregate.captured == Money(2500, Currency.NOK)
        assert row.events is None  # the list has no event logs: read on first use, never invented
        assert row.description == "Pizza"
        assert desk.activity["order-1001"].by == "kari"
        assert desk.activity["order-1001"].operation == "capture"
        assert desk.skipped == []

    asyncio.run(main())


def test_an_unreadable_row_is_said_and_the_others_are_shown() -> None:
    broken_money = {
        **GOOD,
        "reference": "order-1002",
        "payment": {**GOOD["payment"], "amount": {"value": 1.5}},
    }
    no_reference = {key: value for key, value in GOOD.items() if key != "reference"}
    bad_state_time = {**GOOD, "reference": "order-1003", "createdAt": 17}

    async def main() -> None:
        desk = desk_over({"payments": [broken_money, GOOD, no_reference, bad_state_time]})
        rows = await desk.load_register()
        await desk.aclose()
        assert [r.reference for r in rows] == ["order-1001", "order-1003"]
        assert rows[1].created_at is None  # an unreadable time is unknown, not guessed
        assert len(desk.skipped) == 2
        assert desk.skipped[0].startswith("row 1 of the team's list")
        assert desk.skipped[1].startswith("row 3 of the team's list")

    asyncio.run(main())


def test_the_server_and_the_desktop_share_one_row_form() -> None:
    """What ``wire.tracked_json`` writes (the server's answer, the desk's cache) ``tracked_from_json``
    reads back as the same row, events and all."""
    from epay_desktop.services.wire import tracked_from_json, tracked_json

    row = tracked_from_json({**GOOD, "events": []})
    assert row.payment is not None
    assert row.events == ()
    again = tracked_from_json(tracked_json(row, events=True))
    assert again == row
    assert tracked_from_json(tracked_json(row)).events is None  # a list form carries no logs
