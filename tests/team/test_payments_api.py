"""The team service's read API (what a desktop lists and shows) and the repeat rule, end to end: the
throwaway PostgreSQL cluster, the sandbox and two ``epay-team`` instances under uvicorn, plain HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from epay_desktop.api import Environment, EPaymentClient
from epay_desktop.services.wire import event_from_json, payment_from_json, tracked_from_json
from epay_desktop.store import Operation
from epay_desktop.store.postgres import PgStore
from tests.team.conftest import CREDENTIALS, MSN, TeamRig, bearer, token
from tests.team.test_team_service import approved_payment, event_names, move, staffed

__all__ = ["staffed"]  # the fixture, used by name below

PAYMENTS = f"/api/v1/merchants/{MSN}/payments"
LIST_KEYS = {
    "reference",
    "merchantSerialNumber",
    "description",
    "createdAt",
    "fetchedAt",
    "fetchError",
    "lastEventAt",
    "state",
    "businessState",
    "payment",
    "pending",
    "lastAction",
}


def get(url: str, who: str, path: str) -> httpx.Response:
    return httpx.get(f"{url}{path}", headers=bearer(who), timeout=60)


def post(url: str, who: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    return httpx.post(f"{url}{path}", json=body or {}, headers=bearer(who), timeout=60)


def listed(url: str, who: str) -> dict[str, dict[str, Any]]:
    answer = get(url, who, PAYMENTS)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["merchantSerialNumber"] == MSN
    return {p["reference"]: p for p in body["payments"]}


def from_the_api(rig: TeamRig, reference: str) -> Any:
    async def read() -> Any:
        async with EPaymentClient(Environment.sandbox(rig.sandbox), CREDENTIALS) as client:
            return await client.get_payment(reference), await client.get_events(reference)

    return asyncio.run(read())


def test_a_viewer_adds_refreshes_lists_and_reads_payments_on_either_instance(staffed: TeamRig) -> None:
    rig = staffed
    reference = approved_payment(rig)
    vera = token(rig.first, "vera")

    added = post(rig.first, vera, PAYMENTS, {"references": [reference, reference, "bad/ref"]})
    assert added.status_code == 201, added.text
    report = added.json()
    assert report["added"] == [reference]
    assert report["alreadyTracked"] == []
    assert [r["text"] for r in report["rejected"]] == ["bad/ref"]
    again = post(rig.second, vera, PAYMENTS, {"references": [reference]})
    assert again.status_code == 200
    assert again.json()["alreadyTracked"] == [reference]

    row = listed(rig.second, vera)[reference]
    assert set(row) == LIST_KEYS
    assert (row["pending"], row["lastAction"]) == (None, None)
    # An added payment is read with its event log before the add answers: when it was made (its
    # CREATED event) and its state show at once, on every instance.
    assert row["state"] == "AUTHORIZED"
    assert row["fetchedAt"] is not None
    _payment, events = from_the_api(rig, reference)
    assert row["createdAt"] == next(e.timestamp for e in events if e.name.value == "CREATED").isoformat()

    refreshed = post(rig.second, vera, f"{PAYMENTS}/{reference}/refresh")
    assert refreshed.status_code == 200, refreshed.text
    details = refreshed.json()
    assert set(details) == LIST_KEYS | {"events"}
    assert details["state"] == "AUTHORIZED"
    assert details["businessState"] == "reserved"
    assert details["payment"]["aggregate"]["authorizedAmount"] == {"currency": "NOK", "value": 10000}
    assert details["payment"]["actions"]["cancel"]["allowed"] is True
    assert [e["name"] for e in details["events"]] == ["CREATED", "AUTHORIZED"]
    # What the desktop reads back is what the API said.
    payment, events = from_the_api(rig, reference)
    assert payment_from_json(details["payment"]) == payment
    assert [event_from_json(e) for e in details["events"]] == events
    kept = tracked_from_json(details)
    assert (kept.reference, kept.merchant_serial_number, kept.payment) == (reference, MSN, payment)
    assert kept.events == tuple(events)
    assert kept.fetched_at is not None
    assert kept.last_event_at == max(e.timestamp for e in events if e.timestamp)

    row = listed(rig.first, vera)[reference]
    assert row["businessState"] == "reserved"
    assert "actions" not in row["payment"]  # a list leaves them to the desktop
    assert row["fetchedAt"] is not None
    assert tracked_from_json(row).events is None  # a list carries no event logs


def test_a_reference_the_api_does_not_know_is_added_with_why_it_cannot_be_read(staffed: TeamRig) -> None:
    rig = staffed
    vera = token(rig.first, "vera")
    unknown = "team-never-made-0001"
    added = post(rig.first, vera, PAYMENTS, {"references": [unknown]})
    assert added.status_code == 201, added.text  # the add itself worked; the read is the row's business
    row = listed(rig.second, vera)[unknown]
    assert row["payment"] is None
    assert row["fetchError"]  # said with the row, as a refresh would


def test_a_move_through_one_instance_shows_in_the_others_list_with_who_did_it(staffed: TeamRig) -> None:
    rig = staffed
    reference = approved_payment(rig)
    kari, vera = token(rig.first, "kari"), token(rig.second, "vera")
    assert post(rig.first, kari, PAYMENTS, {"references": [reference]}).status_code == 201

    captured = move(rig.first, kari, "capture", reference, {"amount": {"value": 2500, "currency": "NOK"}})
    assert captured.status_code == 200, captured.text

    row = listed(rig.second, vera)[reference]
    assert row["businessState"] == "partly captured"
    assert row["payment"]["aggregate"]["capturedAmount"] == {"currency": "NOK", "value": 2500}
    last = row["lastAction"]
    assert (last["operation"], last["status"], last["by"], last["finishedBy"]) == (
        "capture",
        "succeeded",
        "kari",
        "kari",
    )
    assert last["amount"] == {"currency": "NOK", "value": 2500}
    assert row["pending"] is None
    details = get(rig.second, vera, f"{PAYMENTS}/{reference}")
    assert details.status_code == 200
    assert [e["name"] for e in details.json()["events"]][-1] == "CAPTURED"


def test_an_operation_without_an_outcome_is_shown_as_pending_with_who_asked(staffed: TeamRig) -> None:
    rig = staffed
    reference = approved_payment(rig)
    vera = token(rig.first, "vera")
    assert post(rig.first, vera, PAYMENTS, {"references": [reference]}).status_code == 201
    with PgStore(rig.config.database, migrate=False, max_size=1) as store:
        intent = store.journal.begin(
            operation=Operation.CANCEL,
            profile="team",
            msn=MSN,
            reference=reference,
            amount=None,
            idempotency_key="held-by-ola-0001",
            os_user="ola",
        )
    row = listed(rig.second, vera)[reference]
    assert row["pending"]["id"] == intent.id
    assert (row["pending"]["operation"], row["pending"]["by"], row["pending"]["status"]) == (
        "cancel",
        "ola",
        "pending",
    )
    assert row["lastAction"]["status"] == "pending"
    assert row["lastAction"]["finishedBy"] is None


def test_reads_say_what_is_wrong_and_need_a_session(staffed: TeamRig) -> None:
    rig = staffed
    vera = token(rig.first, "vera")
    assert httpx.get(f"{rig.first}{PAYMENTS}", timeout=30).status_code == 401
    assert get(rig.first, "forged", PAYMENTS).status_code == 401
    unknown = get(rig.first, vera, "/api/v1/merchants/999999/payments")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_merchant")
    untracked = get(rig.first, vera, f"{PAYMENTS}/never-added-1")
    assert (untracked.status_code, untracked.json()["error"]) == (404, "not_tracked")
    not_refreshed = post(rig.first, vera, f"{PAYMENTS}/never-added-1/refresh")
    assert (not_refreshed.status_code, not_refreshed.json()["error"]) == (404, "not_tracked")
    for body in ({}, {"references": "order-1"}, {"references": [1, 2]}):
        bad = post(rig.first, vera, PAYMENTS, body)
        assert (bad.status_code, bad.json()["error"]) == (400, "bad_request"), bad.text

    # A payment the API does not have: the failed read is kept with the row, and said.
    assert post(rig.first, vera, PAYMENTS, {"references": ["not-at-the-api-1"]}).status_code == 201
    missing = post(rig.second, vera, f"{PAYMENTS}/not-at-the-api-1/refresh")
    assert (missing.status_code, missing.json()["error"]) == (422, "api_refused")
    assert listed(rig.first, vera)["not-at-the-api-1"]["fetchError"]


def test_a_repeat_capture_within_minutes_needs_again(staffed: TeamRig) -> None:
    rig = staffed
    reference = approved_payment(rig)
    kari, ola = token(rig.first, "kari"), token(rig.second, "ola")
    amount = {"amount": {"value": 1000, "currency": "NOK"}}
    assert move(rig.first, kari, "capture", reference, amount).status_code == 200

    repeat = move(rig.second, ola, "capture", reference, amount)
    assert repeat.status_code == 409, repeat.text
    refused = repeat.json()
    assert refused["error"] == "repeat_not_confirmed"
    assert refused["by"] == "kari"
    assert refused["previous"]["operation"] == "capture"
    assert refused["previous"]["amount"] == {"currency": "NOK", "value": 1000}
    assert '"again": true' in refused["message"]
    assert event_names(rig, reference).count("CAPTURED") == 1

    other_amount = move(rig.second, ola, "capture", reference, {"amount": {"value": 999, "currency": "NOK"}})
    assert other_amount.status_code == 200
    bad_flag = move(rig.second, ola, "capture", reference, {**amount, "again": "yes"})
    assert bad_flag.status_code == 400
    confirmed = move(rig.second, ola, "capture", reference, {**amount, "again": True})
    assert confirmed.status_code == 200, confirmed.text
    assert event_names(rig, reference).count("CAPTURED") == 3
