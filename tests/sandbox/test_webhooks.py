"""The sandbox's Webhooks API: registration rules, signed payloads, ordered delivery with retries on
the sandbox clock, faults and the deliveries control. Answers of /webhooks/v1 and /sandbox/v1 are
validated against the specs by the ``client`` fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette

from epay_desktop.sandbox.webhooks import EPAYMENT_EVENTS, retry_delay
from epay_desktop.sandbox.webhooks.signing import signed_headers, string_to_sign
from tests.sandbox.conftest import Api, sandbox_of
from tests.support.webhook_receiver import Recorder

pytestmark = pytest.mark.anyio

TARGET = "https://shop.example/hooks/vipps?env=test"

# The worked example of the Webhooks API's "Request authentication" page (tests/reference/webhooks).
EXAMPLE_SECRET = "A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A=="
EXAMPLE_URL = "https://webhook.site/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63"
EXAMPLE_BODY = b'{"some-unique-content":"ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world"}'
EXAMPLE_DATE = datetime(2023, 3, 30, 8, 38, 32, tzinfo=UTC)


def test_signing_reproduces_the_documented_worked_example() -> None:
    headers = signed_headers(EXAMPLE_SECRET, EXAMPLE_URL, EXAMPLE_BODY, EXAMPLE_DATE)
    assert headers["x-ms-date"] == "Thu, 30 Mar 2023 08:38:32 GMT"
    assert headers["x-ms-content-sha256"] == "lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4="
    assert headers["host"] == "webhook.site"
    assert headers["authorization"] == (
        "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256"
        "&Signature=agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U="
    )
    assert string_to_sign(EXAMPLE_URL, headers["x-ms-date"], headers["x-ms-content-sha256"]) == (
        "POST\n/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63\n"
        "Thu, 30 Mar 2023 08:38:32 GMT;webhook.site;lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4="
    )


def test_retry_schedule_follows_the_documented_one() -> None:
    delays = [retry_delay(n) for n in range(1, 32)]
    assert delays[:3] == [timedelta(seconds=2)] * 3
    assert delays[3:5] == [timedelta(seconds=60), timedelta(seconds=120)]
    assert set(delays[5:27]) == {timedelta(hours=1)}
    assert set(delays[28:]) == {timedelta(days=1)}


@pytest.fixture
async def recorder(app: Starlette) -> AsyncIterator[Recorder]:
    recorder = Recorder()
    sandbox_of(app).webhooks.dispatcher.attach("shop.example", recorder.app())
    yield recorder
    await sandbox_of(app).webhooks.aclose()


async def register(api: Api, url: str = TARGET, events: list[str] | None = None) -> httpx.Response:
    return await api.client.post(
        "/webhooks/v1/webhooks",
        headers=api.headers(),
        json={"url": url, "events": list(EPAYMENT_EVENTS) if events is None else events},
    )


async def settle(app: Starlette) -> None:
    await sandbox_of(app).webhooks.dispatcher.idle()


async def test_register_list_delete(api: Api) -> None:
    created = await register(api, events=["epayments.payment.captured.v1"])
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "secret"}
    assert len(body["secret"]) >= 32
    listed = (await api.client.get("/webhooks/v1/webhooks", headers=api.headers())).json()
    assert listed == {
        "webhooks": [{"id": body["id"], "url": TARGET, "events": ["epayments.payment.captured.v1"]}]
    }
    other = api.headers(msn="654321")
    assert (await api.client.get("/webhooks/v1/webhooks", headers=other)).json() == {"webhooks": []}
    deleted = await api.client.delete(f"/webhooks/v1/webhooks/{body['id']}", headers=api.headers())
    assert deleted.status_code == 204
    assert (await api.client.get("/webhooks/v1/webhooks", headers=api.headers())).json() == {"webhooks": []}
    again = await api.client.delete(f"/webhooks/v1/webhooks/{body['id']}", headers=api.headers())
    assert again.status_code == 400


@pytest.mark.parametrize(
    ("url", "events", "field"),
    [
        ("http://shop.example/hooks", ["epayments.payment.captured.v1"], "url"),
        ("https://shop.example:9443/hooks", ["epayments.payment.captured.v1"], "url"),
        ("https://user:pw@shop.example/hooks", ["epayments.payment.captured.v1"], "url"),
        ("not a url", ["epayments.payment.captured.v1"], "url"),
        (TARGET, ["epayments.payment.shipped.v1"], "events"),
        (TARGET, [], "events"),
        (TARGET, ["epayments.payment.captured.v1", "epayments.payment.captured.v1"], "events"),
    ],
)
async def test_register_refuses_what_the_rules_refuse(
    api: Api, url: str, events: list[str], field: str
) -> None:
    response = await register(api, url, events)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["extraDetails"][0]["name"] == field


async def test_loopback_targets_on_any_port_and_common_ports_are_accepted(api: Api) -> None:
    for url in ("http://127.0.0.1:8099/hooks", "http://localhost:1234/x", "https://shop.example:8080/x"):
        assert (await register(api, url)).status_code == 201, url


async def test_at_most_25_registrations_per_event(api: Api) -> None:
    for _ in range(25):
        assert (await register(api, events=["epayments.payment.captured.v1"])).status_code == 201
    refused = await register(api, events=["epayments.payment.captured.v1", "epayments.payment.created.v1"])
    assert refused.status_code == 400
    assert (await register(api, events=["epayments.payment.created.v1"])).status_code == 201


async def test_registration_needs_a_token(app: Starlette) -> None:
    # The spec lists no 401 (the gateway answers it), so this one is not validated against it.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as client:
        body = {"url": TARGET, "events": list(EPAYMENT_EVENTS)}
        response = await client.post("/webhooks/v1/webhooks", json=body)
    assert response.status_code == 401


async def test_events_arrive_signed_in_order_with_the_documented_payload(
    app: Starlette, api: Api, recorder: Recorder
) -> None:
    secret = (await register(api)).json()["secret"]
    await api.authorized("webhook-order-1", 1000)
    assert (await api.capture("webhook-order-1", 400)).status_code == 200
    assert (await api.cancel("webhook-order-1")).status_code == 200
    await settle(app)
    assert recorder.names() == ["CREATED", "AUTHORIZED", "CAPTURED", "CANCELLED"]
    log = (await api.events("webhook-order-1")).json()
    for received, logged in zip(recorder.received, log, strict=True):
        body = received.json
        assert set(body) == {
            "msn",
            "reference",
            "pspReference",
            "name",
            "amount",
            "timestamp",
            "idempotencyKey",
            "success",
        }
        assert body["msn"] == "123456"
        assert body["reference"] == "webhook-order-1"
        assert body["pspReference"] == logged["pspReference"]  # the event's own, as in the event log
        assert body["amount"] == logged["amount"]
        assert body["success"] is True
        assert received.path == "/hooks/vipps"
        date = received.headers["x-ms-date"]
        expected = signed_headers(
            secret,
            TARGET,
            received.body,
            datetime.strptime(date, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC),
        )
        assert received.headers["authorization"] == expected["authorization"]
        assert received.headers["x-ms-content-sha256"] == expected["x-ms-content-sha256"]
        assert received.headers["host"] == "shop.example"
    by_name = {r.json["name"]: r.json for r in recorder.received}
    assert by_name["CAPTURED"]["amount"] == {"currency": "NOK", "value": 400}
    assert by_name["CANCELLED"]["amount"] == {"currency": "NOK", "value": 600}
    assert by_name["CANCELLED"]["idempotencyKey"] is None
    assert by_name["CAPTURED"]["idempotencyKey"] is not None


async def test_only_the_subscribed_events_of_the_own_sales_unit(
    app: Starlette, api: Api, recorder: Recorder
) -> None:
    assert (await register(api, events=["epayments.payment.terminated.v1"])).status_code == 201
    assert (await api.create("webhook-terminated-1")).status_code == 201
    assert (await api.cancel("webhook-terminated-1")).status_code == 200
    other = Api(api.client, msn="654321")
    other.token = api.token
    assert (await other.create("webhook-terminated-2")).status_code == 201
    assert (await other.cancel("webhook-terminated-2")).status_code == 200
    await settle(app)
    assert [(r.json["name"], r.json["reference"]) for r in recorder.received] == [
        ("TERMINATED", "webhook-terminated-1")
    ]


async def test_failures_retry_on_the_sandbox_clock_and_block_only_the_same_payment(
    app: Starlette, api: Api, recorder: Recorder
) -> None:
    # The first AUTHORIZED of payment A fails three times; B's events flow meanwhile.
    failures = {"n": 0}

    def answer(_n: int, body: dict[str, str]) -> int:
        if body["reference"] == "webhook-a-1" and body["name"] == "AUTHORIZED" and failures["n"] < 3:
            failures["n"] += 1
            return 500
        return 200

    recorder.answer = answer
    await register(api)
    await api.authorized("webhook-a-1")
    assert (await api.capture("webhook-a-1", 100)).status_code == 200
    await api.authorized("webhook-b-1")
    await settle(app)

    def names(reference: str) -> list[str]:
        return [r.json["name"] for r in recorder.received if r.json["reference"] == reference]

    # A's CAPTURED waits behind its failing AUTHORIZED; B (another payment) is not held up.
    assert names("webhook-a-1") == ["CREATED", "AUTHORIZED"]
    assert names("webhook-b-1") == ["CREATED", "AUTHORIZED"]
    clock = sandbox_of(app).clock
    for _ in range(3):
        clock.advance(2)
        await settle(app)
    assert names("webhook-a-1") == [
        "CREATED",
        "AUTHORIZED",
        "AUTHORIZED",
        "AUTHORIZED",
        "AUTHORIZED",
        "CAPTURED",
    ]
    deliveries = (await api.client.get("/sandbox/v1/webhooks/deliveries?reference=webhook-a-1")).json()
    authorized = next(
        d for d in deliveries["deliveries"] if d["eventType"] == "epayments.payment.authorized.v1"
    )
    assert [a["status"] for a in authorized["attempts"]] == [500, 500, 500, 200]
    assert authorized["state"] == "delivered"


async def test_a_receiver_that_never_answers_2xx_is_dropped_after_seven_days(
    app: Starlette, api: Api, recorder: Recorder
) -> None:
    recorder.answer = lambda _n, body: 503 if body["name"] == "CREATED" else 200
    await register(api)
    assert (await api.create("webhook-down-1")).status_code == 201
    assert (await api.cancel("webhook-down-1")).status_code == 200
    clock = sandbox_of(app).clock
    await settle(app)
    for _ in range(400):  # bounded: far more steps than the schedule has
        deliveries = (await api.client.get("/sandbox/v1/webhooks/deliveries")).json()["deliveries"]
        if deliveries[0]["state"] != "pending":
            break
        due = datetime.fromisoformat(deliveries[0]["nextAttemptAt"].replace("Z", "+00:00"))
        # The listing's times have milliseconds: step just past the due time.
        clock.advance(max(0.0, (due - clock.now()).total_seconds()) + 0.001)
        await settle(app)
    created, terminated = deliveries
    assert created["state"] == "dropped"
    first = datetime.fromisoformat(created["attempts"][0]["at"].replace("Z", "+00:00"))
    last = datetime.fromisoformat(created["attempts"][-1]["at"].replace("Z", "+00:00"))
    assert timedelta(days=6) < last - first <= timedelta(days=7)
    assert 30 < len(created["attempts"]) < 40
    # Dropping it unblocked the payment's next event.
    assert terminated["state"] == "delivered"
    assert recorder.names()[-1] == "TERMINATED"


async def test_duplicate_and_delay_faults(app: Starlette, api: Api, recorder: Recorder) -> None:
    response = await api.client.put("/sandbox/v1/webhooks/faults", json={"duplicateRate": 1, "delayMs": 30})
    assert response.json() == {"delayMs": 30, "duplicateRate": 1.0}
    await register(api, events=["epayments.payment.created.v1"])
    assert (await api.create("webhook-dup-1")).status_code == 201
    await settle(app)
    assert recorder.names() == ["CREATED", "CREATED"]
    assert recorder.received[0].body == recorder.received[1].body
    bad = await api.client.put("/sandbox/v1/webhooks/faults", json={"duplicateRate": 2})
    assert bad.status_code == 400


async def test_a_deleted_registration_gets_nothing_more(app: Starlette, api: Api, recorder: Recorder) -> None:
    recorder.answer = lambda _n, _body: 500
    registration = (await register(api)).json()
    assert (await api.create("webhook-gone-1")).status_code == 201
    await settle(app)
    await api.client.delete(f"/webhooks/v1/webhooks/{registration['id']}", headers=api.headers())
    sandbox_of(app).clock.advance(10)
    await settle(app)
    assert len(recorder.received) == 1
    deliveries = (await api.client.get("/sandbox/v1/webhooks/deliveries")).json()["deliveries"]
    assert deliveries[0]["state"] == "dropped"


async def test_a_target_that_answers_too_late_is_retried(app: Starlette, api: Api) -> None:
    import asyncio

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    calls: list[float] = []

    async def slow(request: Request) -> Response:
        calls.append(sandbox_of(app).clock.timestamp())
        if len(calls) == 1:
            await asyncio.sleep(5)
        return Response(status_code=200)

    dispatcher = sandbox_of(app).webhooks.dispatcher
    dispatcher.timeout = 0.2  # the real 10 s, shortened
    dispatcher.attach("slow.example", Starlette(routes=[Route("/hook", slow, methods=["POST"])]))
    try:
        await register(api, "https://slow.example/hook", ["epayments.payment.created.v1"])
        assert (await api.create("webhook-slow-1")).status_code == 201
        await settle(app)
        first = dispatcher.deliveries()[0]
        assert first.attempts[0].error == "no answer within 0.2 s"
        assert first.state == "pending"
        sandbox_of(app).clock.advance(2)
        await settle(app)
        assert first.state == "delivered"
        assert len(calls) == 2
    finally:
        await sandbox_of(app).webhooks.aclose()


async def test_with_profile_sharing_authorized_carries_the_users_details(
    app: Starlette, api: Api, recorder: Recorder
) -> None:
    await register(api, events=["epayments.payment.authorized.v1"])
    created = await api.create("webhook-profile-1", profile={"scope": "name phoneNumber"})
    assert created.status_code == 201, created.text
    assert (await api.approve("webhook-profile-1")).status_code == 200
    await settle(app)
    body = recorder.received[0].json
    assert body["name"] == "AUTHORIZED"
    assert body["sub"].startswith("sandbox-sub-")
    assert body["userDetails"] == (await api.get("webhook-profile-1")).json()["userDetails"]


async def test_a_partner_registration_without_a_serial_number_covers_every_sales_unit(
    app: Starlette, api: Api, recorder: Recorder
) -> None:
    headers = {k: v for k, v in api.headers().items() if k != "Merchant-Serial-Number"}
    body = {"url": TARGET, "events": ["epayments.payment.created.v1"]}
    assert (await api.client.post("/webhooks/v1/webhooks", headers=headers, json=body)).status_code == 201
    assert (await api.client.get("/webhooks/v1/webhooks", headers=api.headers())).json() == {"webhooks": []}
    other = Api(api.client, msn="654321")
    other.token = api.token
    assert (await api.create("webhook-partner-1")).status_code == 201
    assert (await other.create("webhook-partner-2")).status_code == 201
    await settle(app)
    assert sorted((r.json["msn"], r.json["reference"]) for r in recorder.received) == [
        ("123456", "webhook-partner-1"),
        ("654321", "webhook-partner-2"),
    ]
