"""The real API surface of the sandbox: tokens, headers, create, and the payment rules (FACTS.md §2–§12).

Every answer here is validated against the official spec by the ``client`` fixture's hook."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from epay_desktop.sandbox import SandboxConfig, create_app
from tests.sandbox.conftest import BASE_URL, Api, new_key, sandbox_of
from tests.support.sandbox_server import DEMO_CREDENTIALS

pytestmark = pytest.mark.anyio


def code(response: httpx.Response) -> str | None:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    for item in response.json().get("extraDetails") or []:
        if item["name"] == "ErrorCode":
            return str(item["reason"])
    return None


# -- access token -----------------------------------------------------------------------------------


async def test_token_fields_are_all_strings_and_path_is_case_insensitive(client: httpx.AsyncClient) -> None:
    for path in ("/accesstoken/get", "/accessToken/get"):
        response = await client.post(path, headers=DEMO_CREDENTIALS)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {
            "token_type",
            "expires_in",
            "ext_expires_in",
            "expires_on",
            "not_before",
            "resource",
            "access_token",
        }
        assert all(isinstance(value, str) for value in body.values())
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == "3600"
        assert int(body["expires_on"]) - int(body["not_before"]) == 3600


@pytest.mark.parametrize("missing", ["client_id", "client_secret", "Ocp-Apim-Subscription-Key"])
async def test_token_needs_every_credential(client: httpx.AsyncClient, missing: str) -> None:
    headers = {k: v for k, v in DEMO_CREDENTIALS.items() if k != missing}
    assert (await client.post("/accesstoken/get", headers=headers)).status_code == 401


async def test_token_expires_on_the_sandbox_clock(app: Starlette, api: Api) -> None:
    assert (await api.create("expiring-token-1")).status_code == 201
    sandbox_of(app).clock.advance(3599)
    assert (await api.get("expiring-token-1")).status_code == 200
    sandbox_of(app).clock.advance(2)
    response = await api.get("expiring-token-1")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_token_lifetime_is_configurable() -> None:
    app = create_app(SandboxConfig(data="empty", token_lifetime=60))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        body = (await client.post("/accesstoken/get", headers=DEMO_CREDENTIALS)).json()
    assert body["expires_in"] == "60"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"Authorization": None}, 401),
        ({"Authorization": "bearer {token}"}, 401),  # the word Bearer is case-sensitive
        ({"Authorization": "Bearer not.a.token"}, 401),
        ({"Ocp-Apim-Subscription-Key": None}, 401),
        ({"Ocp-Apim-Subscription-Key": "another-key"}, 401),
        ({"Merchant-Serial-Number": None}, 400),
        ({"Merchant-Serial-Number": "12ab"}, 400),
    ],
)
async def test_every_call_needs_token_key_and_msn(api: Api, change: dict[str, Any], status: int) -> None:
    assert (await api.create("headers-check-1")).status_code == 201
    headers = api.headers()
    for name, value in change.items():
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value.format(token=api.token)
    response = await api.client.get("/epayment/v1/payments/headers-check-1", headers=headers)
    assert response.status_code == status


async def test_token_of_another_sandbox_is_refused(api: Api) -> None:
    other = create_app(SandboxConfig(data="empty"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url=BASE_URL) as client:
        foreign = (await client.post("/accesstoken/get", headers=DEMO_CREDENTIALS)).json()["access_token"]
    api.token = foreign
    assert (await api.get("whatever-ref")).status_code == 401


async def test_payments_belong_to_their_serial_number(api: Api) -> None:
    assert (await api.create("msn-owned-1")).status_code == 201
    response = await api.get("msn-owned-1", msn="654321")
    assert response.status_code == 404
    assert code(response) == "5090"


# -- create -----------------------------------------------------------------------------------------


async def test_create_push_message_returns_only_the_reference(api: Api) -> None:
    response = await api.create(
        "push-flow-1", userFlow="PUSH_MESSAGE", customer={"phoneNumber": "4791234567"}, returnUrl=None
    )
    assert response.status_code == 201
    assert response.json() == {"reference": "push-flow-1"}
    web = await api.create("web-flow-1")
    assert web.json()["redirectUrl"].startswith(BASE_URL + "/sandbox/v1/landing?token=")


async def test_references_and_phones_may_be_json_numbers_without_losing_digits(api: Api) -> None:
    big = 1234567890123456789  # 19 digits: beyond a float's exact range
    response = await api.create(big, userFlow="PUSH_MESSAGE", customer={"phoneNumber": 4791234567})
    assert response.status_code == 201
    assert response.json()["reference"] == str(big)
    assert (await api.get(str(big))).json()["reference"] == "1234567890123456789"


@pytest.mark.parametrize(
    ("reference", "ok"),
    [("a" * 8, True), ("a" * 64, True), ("a" * 7, False), ("a" * 65, False), ("bad_ref_1", False)],
)
async def test_reference_rules(api: Api, reference: str, ok: bool) -> None:
    response = await api.create(reference)
    assert response.status_code == (201 if ok else 400)


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"amount": {"currency": "NOK", "value": 10.5}}, 400, "4040"),
        ({"amount": {"currency": "NOK", "value": 99}}, 400, "6010"),
        ({"amount": {"currency": "DKK", "value": 1000}}, 400, "5040"),
        ({"userFlow": "PUSH_MESSAGE", "returnUrl": None}, 400, "4140"),
        ({"returnUrl": "http://insecure.example"}, 400, "4090"),
        ({"userFlow": "PUSH_MESSAGE", "customer": {"phoneNumber": "12"}}, 400, "4070"),
        ({"paymentDescription": "ab"}, 400, None),
        ({"userFlow": "TELEPATHY"}, 400, None),
        ({"metadata": {f"k{i}": "v" for i in range(6)}}, 400, "4100"),
    ],
)
async def test_create_validation(api: Api, change: dict[str, Any], status: int, error: str | None) -> None:
    response = await api.create("validate-1", **change)
    assert response.status_code == status
    assert code(response) == error
    assert (await api.get("validate-1")).status_code == 404  # nothing was created


async def test_idempotency_key_is_required_and_at_most_50(api: Api) -> None:
    headers = api.headers()
    body = {"modificationAmount": {"currency": "NOK", "value": 1}}
    await api.authorized("idem-header-1")
    for key in (None, "k" * 51):
        h = headers if key is None else headers | {"Idempotency-Key": key}
        response = await api.client.post("/epayment/v1/payments/idem-header-1/capture", headers=h, json=body)
        assert response.status_code == 400
    assert (await api.capture("idem-header-1", 1, key="k" * 50)).status_code == 200


async def test_create_idempotency(api: Api, app: Starlette) -> None:
    first = await api.create("create-idem-1", key="K1")
    replay = await api.create("create-idem-1", key="K1")
    assert first.status_code == replay.status_code == 201
    assert first.json() == replay.json()
    conflict = await api.create("create-idem-1", 2000, key="K1")
    assert conflict.status_code == 409
    assert code(conflict) == "4020"
    existing = await api.create("create-idem-1", key="K2")
    assert existing.status_code == 409
    assert code(existing) == "4150"
    assert len((await api.events("create-idem-1")).json()) == 1


# -- cancel -----------------------------------------------------------------------------------------


async def test_cancel_rules(api: Api) -> None:
    await api.authorized("cancel-full-1")
    assert (await api.capture("cancel-full-1", 1000)).status_code == 200
    response = await api.cancel("cancel-full-1")
    assert response.status_code == 400
    assert code(response) == "6040"

    await api.create("cancel-3ds-1")
    assert (await api.customer("cancel-3ds-1", "start-authorizing")).status_code == 200
    response = await api.cancel("cancel-3ds-1")
    assert response.status_code == 400
    assert code(response) == "6250"

    await api.authorized("cancel-only-1")
    response = await api.cancel("cancel-only-1", body={"cancelTransactionOnly": True})
    assert response.status_code == 400
    assert code(response) == "6060"
    assert (await api.get("cancel-only-1")).json()["aggregate"]["cancelledAmount"]["value"] == 0

    await api.create("cancel-only-2")
    response = await api.cancel("cancel-only-2", body={"cancelTransactionOnly": True})
    assert response.status_code == 200
    assert response.json()["state"] == "TERMINATED"

    response = await api.cancel("cancel-only-2")
    assert response.status_code == 400
    assert code(response) == "6190"
    assert "TERMINATED" in response.json()["detail"]


@pytest.mark.parametrize("action", ["reject", "expire"])
async def test_cancel_of_aborted_or_expired_is_a_clear_problem(api: Api, action: str) -> None:
    await api.create("cancel-final-1")
    assert (await api.customer("cancel-final-1", action)).status_code == 200
    response = await api.cancel("cancel-final-1")
    assert response.status_code == 400
    assert code(response) == "6190"
    assert response.json()["title"] == "Payment cannot be cancelled"


async def test_cancel_twice_after_authorization(api: Api) -> None:
    await api.authorized("cancel-twice-1")
    assert (await api.cancel("cancel-twice-1")).status_code == 200
    response = await api.cancel("cancel-twice-1")
    assert response.status_code == 400
    assert code(response) == "6190"


async def test_cancel_body_shapes(api: Api) -> None:
    await api.create("cancel-body-1")
    response = await api.client.post(
        "/epayment/v1/payments/cancel-body-1/cancel",
        headers=api.headers(new_key()) | {"Content-Type": "application/json"},
        content=b"[]",  # a JSON array (the PHP empty-array bug) is refused
    )
    assert response.status_code == 400
    response = await api.client.post(  # no body, no Content-Type: accepted
        "/epayment/v1/payments/cancel-body-1/cancel", headers=api.headers(new_key())
    )
    assert response.status_code == 200


# -- capture, refund ---------------------------------------------------------------------------------


async def test_capture_rules(api: Api) -> None:
    await api.create("capture-1")
    response = await api.capture("capture-1", 100)
    assert response.status_code == 400
    assert code(response) == "6080"
    await api.approve("capture-1")
    assert (await api.capture("capture-1", 300)).json()["aggregate"]["capturedAmount"]["value"] == 300
    assert (await api.capture("capture-1", 300)).json()["aggregate"]["capturedAmount"]["value"] == 600
    response = await api.capture("capture-1", 401)
    assert response.status_code == 400
    assert code(response) == "6090"
    response = await api.capture("capture-1", 100, key="cap-K")
    replay = await api.capture("capture-1", 100, key="cap-K")
    assert replay.json() == response.json()
    assert replay.json()["aggregate"]["capturedAmount"]["value"] == 700
    conflict = await api.capture("capture-1", 200, key="cap-K")
    assert conflict.status_code == 409
    assert code(conflict) == "4010"
    response = await api.capture("capture-1", 1, currency="EUR")
    assert response.status_code == 400
    assert code(response) == "4040"


async def test_refund_rules(api: Api) -> None:
    await api.create("refund-1")
    response = await api.refund("refund-1", 100)
    assert response.status_code == 400
    assert code(response) == "6020"
    await api.approve("refund-1")
    response = await api.refund("refund-1", 1)
    assert response.status_code == 400
    assert code(response) == "6150"
    await api.capture("refund-1", 600)
    assert (await api.refund("refund-1", 200, key="ref-K")).status_code == 200
    assert (await api.refund("refund-1", 200, key="ref-K")).json()["aggregate"]["refundedAmount"][
        "value"
    ] == 200
    conflict = await api.refund("refund-1", 300, key="ref-K")
    assert conflict.status_code == 409
    assert code(conflict) == "4150"
    assert (await api.refund("refund-1", 400)).status_code == 200
    response = await api.refund("refund-1", 1)
    assert response.status_code == 400
    assert code(response) == "6150"


async def test_a_rejected_request_stays_rejected_for_its_key(api: Api) -> None:
    await api.create("stays-rejected-1")
    first = await api.capture("stays-rejected-1", 500, key="early-K")
    assert code(first) == "6080"
    await api.approve("stays-rejected-1")
    again = await api.capture("stays-rejected-1", 500, key="early-K")
    assert again.status_code == 400
    assert code(again) == "6080"
    assert (await api.capture("stays-rejected-1", 500, key="fresh-K")).status_code == 200


async def test_capture_or_refund_of_a_closed_payment(api: Api) -> None:
    await api.create("closed-1")
    await api.customer("closed-1", "reject")
    assert code(await api.capture("closed-1", 1)) == "6200"
    assert code(await api.refund("closed-1", 1)) == "6210"
    response = await api.approve("closed-1")
    assert response.status_code == 400
    assert code(response) == "10020"


# -- event log, expiry, rate limits -----------------------------------------------------------------


async def test_event_log_one_event_per_change(api: Api) -> None:
    await api.create("events-1", 1000, key="create-K")
    await api.approve("events-1")
    await api.capture("events-1", 250, key="cap-K")
    await api.refund("events-1", 50, key="ref-K")
    await api.cancel("events-1", key="can-K")
    events = (await api.events("events-1")).json()
    assert [(e["name"], e["amount"]["value"], e["idempotencyKey"]) for e in events] == [
        ("CREATED", 1000, "create-K"),
        ("AUTHORIZED", 1000, "create-K"),
        ("CAPTURED", 250, "cap-K"),
        ("REFUNDED", 50, "ref-K"),
        ("CANCELLED", 750, "can-K"),
    ]
    assert len({e["pspReference"] for e in events}) == 5
    assert all(e["success"] is True for e in events)
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    assert (await api.get("events-1")).json()["pspReference"] == events[0]["pspReference"]


async def test_unanswered_payment_expires_after_ten_minutes(app: Starlette, api: Api) -> None:
    await api.create("expires-1")
    sandbox_of(app).clock.advance(599)
    assert (await api.get("expires-1")).json()["state"] == "CREATED"
    sandbox_of(app).clock.advance(1)
    assert (await api.get("expires-1")).json()["state"] == "EXPIRED"
    assert [e["name"] for e in (await api.events("expires-1")).json()] == ["CREATED", "EXPIRED"]


async def test_rate_limits_per_reference_and_endpoint() -> None:
    # agent-toolkit epayment_references_operations.md (table "Rate limit per reference") and
    # epayment_references_errors.md "Rate limits": create, capture, cancel, refund 5/min each per
    # reference + MSN; get payment and get event log 120/min each per reference + subscription key.
    app = create_app(SandboxConfig(data="empty", frozen_clock=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        api = Api(client)
        await api.fetch_token()
        await api.authorized("rate-ref-1", 1000)
        for _ in range(5):
            assert (await api.capture("rate-ref-1", 1)).status_code == 200
        limited = await api.capture("rate-ref-1", 1)
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        # Refund has its own budget of five for the same reference.
        for _ in range(5):
            assert (await api.refund("rate-ref-1", 1)).status_code == 200
        assert (await api.refund("rate-ref-1", 1)).status_code == 429
        assert (await api.create("rate-ref-2")).status_code == 201  # another reference has its own budget
        sandbox_of(app).clock.advance(60)
        assert (await api.capture("rate-ref-1", 1)).status_code == 200
        statuses = [(await api.get("rate-ref-2")).status_code for _ in range(121)]
        assert statuses.count(200) == 120
        assert statuses[-1] == 429
        assert (await api.events("rate-ref-2")).status_code == 200  # the event log counts apart
