"""The rules the 2024–2026 texts added, each pinned to its source (files in tests/reference/vipps-epayment).

Every answer here is validated against the 1.8.1 spec (spec_overrides.py applied) by the ``client``
fixture's hook."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import yaml
from starlette.applications import Starlette

from epay_desktop.sandbox import SandboxConfig
from tests.sandbox.conftest import Api, new_key, sandbox_of
from tests.sandbox.openapi_check import SPEC_DIR, SpecChecker, epayment_spec
from tests.sandbox.test_api import code

pytestmark = pytest.mark.anyio

DAY = 24 * 3600
RECEIPT = {
    "orderLines": [
        {
            "name": "Socks",
            "id": "line-1",
            "totalAmount": 1000,
            "totalAmountExcludingTax": 800,
            "totalTaxAmount": 200,
            "taxPercentage": 25,
        }
    ],
    "bottomLine": {"currency": "NOK"},
}


def _when(response: httpx.Response, field: str) -> datetime:
    return datetime.fromisoformat(response.json()[field].replace("Z", "+00:00"))


async def _advance(app: Starlette, seconds: float, *apis: Api) -> None:
    """Move the sandbox clock; tokens last an hour of it, so each client fetches a new one."""
    sandbox_of(app).clock.advance(seconds)
    for api in apis:
        await api.fetch_token()


async def _authorized_at(api: Api, reference: str) -> datetime:
    events = (await api.events(reference)).json()
    stamp = next(e["timestamp"] for e in events if e["name"] == "AUTHORIZED")
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


# -- the spec the answers are checked against ------------------------------------------------------


def test_answers_are_checked_against_the_newest_spec() -> None:
    # SOURCES.md "Added 2026-12-01": epayment-1.8.1.yaml is the newest spec found.
    raw = yaml.safe_load((SPEC_DIR / "epayment-1.8.1.yaml").read_text(encoding="utf-8"))
    assert raw["info"]["version"] == "1.8.1"
    assert epayment_spec() is epayment_spec()


async def test_a_wrong_answer_fails_the_spec_check(api: Api, checker: SpecChecker) -> None:
    assert (await api.create("spec-check-1")).status_code == 201
    response = await api.get("spec-check-1")
    broken = httpx.Response(200, json=response.json() | {"state": "CAPTURED"}, request=response.request)
    with pytest.raises(AssertionError, match="does not match the spec"):
        checker.check(broken)


# -- cancel: Idempotency-Key recommended, not required --------------------------------------------


async def test_cancel_without_idempotency_key(api: Api, client: httpx.AsyncClient) -> None:
    # agent-toolkit/epayment_references_operations.md, table: Cancel | Idempotency key "Recommended";
    # epayment-1.8.1.yaml lists no Idempotency-Key parameter on /v1/payments/{Reference}/cancel.
    await api.authorized("keyless-cancel-1", 1000)
    response = await client.post("/epayment/v1/payments/keyless-cancel-1/cancel", headers=api.headers())
    assert response.status_code == 200, response.text
    assert response.json()["aggregate"]["cancelledAmount"]["value"] == 1000
    events = (await api.events("keyless-cancel-1")).json()
    assert events[-1]["name"] == "CANCELLED"
    assert events[-1]["idempotencyKey"] is None
    # Without a key nothing is replayed: a second cancel is its own attempt, and nothing is left.
    again = await client.post("/epayment/v1/payments/keyless-cancel-1/cancel", headers=api.headers())
    assert again.status_code == 400
    assert code(again) == "6190"


async def test_capture_and_refund_still_need_the_key(api: Api, client: httpx.AsyncClient) -> None:
    # operations.md: Capture and Refund | Idempotency key "Yes"; 1.8.1 Idempotency-Key required: true.
    await api.authorized("keyed-capture-1", 1000)
    for op in ("capture", "refund"):
        response = await client.post(
            f"/epayment/v1/payments/keyed-capture-1/{op}",
            headers=api.headers(),
            json={"modificationAmount": {"currency": "NOK", "value": 100}},
        )
        assert response.status_code == 400
        assert response.json()["extraDetails"][0]["name"] == "Idempotency-Key"


# -- deadlines on the sandbox clock ----------------------------------------------------------------


async def test_norway_capture_and_cancel_end_after_180_days(app: Starlette, api: Api) -> None:
    # payment-lifecycle_SKILL.md "Capture attempt deadlines" (Norway 180 days; HTTP 400) and "Cancel"
    # (same deadline); epayment_references_errors.md 6100 "Capture period expired", 6030 "Cancel
    # period expired".
    await api.authorized("deadline-no-1", 1000)
    authorized = await _authorized_at(api, "deadline-no-1")
    clock = sandbox_of(app).clock
    await _advance(app, 180 * DAY - (clock.now() - authorized).total_seconds(), api)
    assert (await api.capture("deadline-no-1", 100)).status_code == 200  # on the last moment: fine
    clock.advance(1)
    late = await api.capture("deadline-no-1", 100)
    assert (late.status_code, code(late)) == (400, "6100")
    cancel = await api.cancel("deadline-no-1")
    assert (cancel.status_code, code(cancel)) == (400, "6030")
    # Refund lasts 365 days (errors.md 6220): still possible.
    assert (await api.refund("deadline-no-1", 100)).status_code == 200


async def test_denmark_deadline_is_14_days(app: Starlette, api: Api) -> None:
    # payment-lifecycle_SKILL.md: "Denmark, Finland | 14 days by default, unless late capture".
    dk = Api(api.client, msn="223344")
    dk.token = api.token
    assert (await dk.create("deadline-dk-1", 1000, "DKK")).status_code == 201
    assert (await dk.approve("deadline-dk-1")).status_code == 200
    await _advance(app, 14 * DAY + 1, dk)
    late = await dk.capture("deadline-dk-1", 100, currency="DKK")
    assert (late.status_code, code(late)) == (400, "6100")
    cancel = await dk.cancel("deadline-dk-1")
    assert (cancel.status_code, code(cancel)) == (400, "6030")


@pytest.mark.parametrize(
    "config",
    [SandboxConfig(data="empty", rate_limits=False, frozen_clock=True, late_capture=frozenset({"223344"}))],
)
async def test_late_capture_extends_denmark_to_180_days(app: Starlette, api: Api) -> None:
    # payment-lifecycle_SKILL.md "Late capture for MobilePay sales units": up to 180 days.
    dk = Api(api.client, msn="223344")
    dk.token = api.token
    assert (await dk.create("late-capture-1", 1000, "DKK")).status_code == 201
    assert (await dk.approve("late-capture-1")).status_code == 200
    await _advance(app, 100 * DAY, dk)
    assert (await dk.capture("late-capture-1", 100, currency="DKK")).status_code == 200
    await _advance(app, 81 * DAY, dk)
    late = await dk.capture("late-capture-1", 100, currency="DKK")
    assert code(late) == "6100"


async def test_refund_ends_after_365_days(app: Starlette, api: Api) -> None:
    # epayment_references_errors.md 6220 "Refund is possible within 365 days of reservation";
    # operations.md "Refund": "within 365 days of the reservation".
    await api.authorized("refund-period-1", 1000)
    assert (await api.capture("refund-period-1", 1000)).status_code == 200
    await _advance(app, 365 * DAY + 1, api)
    late = await api.refund("refund-period-1", 100)
    assert (late.status_code, code(late)) == (400, "6220")


async def test_capture_guaranteed_until(app: Starlette, api: Api) -> None:
    # operations.md "Get payment": captureGuaranteedUntil, "the date a successful capture is
    # guaranteed"; payment-lifecycle_SKILL.md: it can be earlier than the market's deadline (the
    # sandbox takes Visa's 7 days).
    assert (await api.create("guarantee-1")).status_code == 201
    assert "captureGuaranteedUntil" not in (await api.get("guarantee-1")).json()
    assert (await api.approve("guarantee-1")).status_code == 200
    response = await api.get("guarantee-1")
    authorized = await _authorized_at(api, "guarantee-1")
    assert _when(response, "captureGuaranteedUntil") - authorized == timedelta(days=7)


# -- new error codes with faults that trigger them -------------------------------------------------


async def test_capture_failed_try_again_later_then_same_key_succeeds(
    client: httpx.AsyncClient, api: Api
) -> None:
    # epayment_references_errors.md 6280 "Capture failed, please try again later: Retry the capture
    # with the same idempotency key after a short wait"; operations.md "Capture".
    await api.authorized("capture-failed-1", 1000)
    assert (await client.put("/sandbox/v1/faults", json={"captureFailures": 1})).status_code == 200
    failed = await api.capture("capture-failed-1", 400, key="cap-6280")
    assert (failed.status_code, code(failed)) == (400, "6280")
    assert failed.json()["title"] == "Capture failed, please try again later"
    assert (await api.get("capture-failed-1")).json()["aggregate"]["capturedAmount"]["value"] == 0
    retry = await api.capture("capture-failed-1", 400, key="cap-6280")
    assert retry.status_code == 200
    assert retry.json()["aggregate"]["capturedAmount"]["value"] == 400
    assert (await client.get("/sandbox/v1/faults")).json()["captureFailures"] == 0


async def test_funds_unavailable(client: httpx.AsyncClient, api: Api) -> None:
    # epayment_references_errors.md 6260 "Funds unavailable: ... Funds may become available later".
    await api.authorized("funds-gone-1", 1000)
    await client.put("/sandbox/v1/faults", json={"fundsUnavailable": 1})
    refused = await api.capture("funds-gone-1", 1000, key="cap-6260")
    assert (refused.status_code, code(refused)) == (400, "6260")
    assert (await api.capture("funds-gone-1", 1000, key="cap-6260")).status_code == 200


async def test_423_order_processing_while_a_modification_runs(client: httpx.AsyncClient, api: Api) -> None:
    # epayment_references_errors.md 6160 "Order processing: Another operation holds the payment.
    # Retry shortly" and "423 Locked: The payment is locked by a concurrent operation".
    await api.authorized("locked-1", 1000)
    await client.put("/sandbox/v1/faults", json={"processingMs": 200})
    first, second = await asyncio.gather(
        api.capture("locked-1", 100, key="lock-a"), api.capture("locked-1", 200, key="lock-b")
    )
    assert sorted([first.status_code, second.status_code]) == [200, 423]
    locked = first if first.status_code == 423 else second
    assert code(locked) == "6160"
    assert locked.json()["title"] == "Order processing"
    await client.put("/sandbox/v1/faults", json={})
    key, value = ("lock-a", 100) if locked is first else ("lock-b", 200)
    assert (await api.capture("locked-1", value, key=key)).status_code == 200  # same key, later: fine
    assert (await api.get("locked-1")).json()["aggregate"]["capturedAmount"]["value"] == 300


# -- test amounts that fail on purpose -------------------------------------------------------------


@pytest.mark.parametrize("amount", [151, 182, 183, 184, 186, 187, 197, 202])
async def test_failing_test_amounts_refuse_the_approval(api: Api, amount: int) -> None:
    # test-and-go-live_SKILL.md "Amounts that trigger specific failures" (197 and 202 Norway only).
    reference = f"fail-amount-{amount}"
    assert (await api.create(reference, amount)).status_code == 201
    refused = await api.approve(reference)
    assert (refused.status_code, code(refused)) == (400, "10010")
    assert (await api.get(reference)).json()["state"] == "CREATED"


async def test_norway_only_test_amounts_pass_in_denmark(api: Api) -> None:
    dk = Api(api.client, msn="223344")
    dk.token = api.token
    assert (await dk.create("dk-amount-197", 197, "DKK")).status_code == 201
    assert (await dk.approve("dk-amount-197")).status_code == 200


async def test_unknown_result_for_an_hour(app: Starlette, api: Api) -> None:
    # test-and-go-live_SKILL.md: "201 | Unknown result for 1 hour".
    assert (await api.create("unknown-201", 201)).status_code == 201
    assert (await api.approve("unknown-201")).status_code == 200
    assert (await api.get("unknown-201")).json()["state"] == "CREATED"
    busy = await api.cancel("unknown-201")
    assert code(busy) == "6250"  # errors.md 6250: the payment is being processed
    await _advance(app, 3600, api)
    assert (await api.get("unknown-201")).json()["state"] == "AUTHORIZED"


@pytest.mark.parametrize(("amount", "expected"), [(123, "5100"), (124, "6220")])
async def test_failing_refund_amounts(api: Api, amount: int, expected: str) -> None:
    # test-and-go-live_SKILL.md "Refunds": 123 cannot refund, 124 refund period expired.
    await api.authorized(f"refund-amount-{amount}", 1000)
    assert (await api.capture(f"refund-amount-{amount}", 1000)).status_code == 200
    refused = await api.refund(f"refund-amount-{amount}", amount)
    assert (refused.status_code, code(refused)) == (400, expected)


# -- profile sharing -------------------------------------------------------------------------------


async def test_user_details_and_sub_where_a_scope_was_asked(api: Api) -> None:
    # epayment_references_features.md "Profile sharing" and 1.8.1 ProfileResponse.sub ("populated once
    # state is AUTHORIZED"), UserDetails (email, firstName, lastName, mobileNumber required).
    assert (await api.create("profile-1", profile={"scope": "name email birthDate"})).status_code == 201
    before = (await api.get("profile-1")).json()
    assert before["profile"] == {}
    assert "userDetails" not in before
    assert (await api.approve("profile-1")).status_code == 200
    after = (await api.get("profile-1")).json()
    assert after["profile"]["sub"]
    assert {"email", "firstName", "lastName", "mobileNumber", "dateOfBirth"} <= after["userDetails"].keys()
    await api.authorized("no-profile-1")
    plain = (await api.get("no-profile-1")).json()
    assert plain["profile"] == {}
    assert "userDetails" not in plain


@pytest.mark.parametrize(("scope", "expected"), [("name shoeSize", "4080"), ("name nin", "5030")])
async def test_profile_scopes(api: Api, scope: str, expected: str) -> None:
    # errors.md 4080 "Invalid scope", 5030 "Illegal scope" (nin without permission).
    response = await api.create(f"scope-{expected}", profile={"scope": scope})
    assert (response.status_code, code(response)) == (400, expected)


# -- create fields of the 1.8.1 spec and the 2026 error list ---------------------------------------


@pytest.mark.parametrize(
    ("raw_metadata", "expected"),
    [
        ('{"a": "1", "a": "2"}', "4110"),  # duplicate keys
        ('{"' + "k" * 101 + '": "v"}', "4120"),  # key length
        ('{"k": "' + "v" * 501 + '"}', "4130"),  # value length
        ("{" + ", ".join(f'"k{i}": "v"' for i in range(6)) + "}", "4100"),  # capacity
    ],
)
async def test_metadata_codes(api: Api, client: httpx.AsyncClient, raw_metadata: str, expected: str) -> None:
    # epayment_references_errors.md 4100 capacity, 4110 duplicate keys, 4120 key length, 4130 value length.
    body = (
        '{"amount": {"currency": "NOK", "value": 1000}, "paymentMethod": {"type": "WALLET"}, '
        f'"reference": "metadata-{expected}", "userFlow": "QR", "metadata": {raw_metadata}}}'
    )
    response = await client.post(
        "/epayment/v1/payments",
        headers=api.headers(new_key()) | {"Content-Type": "application/json"},
        content=body.encode(),
    )
    assert (response.status_code, code(response)) == (400, expected)


@pytest.mark.parametrize(
    ("ahead", "receipt", "expected"),
    [
        (timedelta(minutes=5), RECEIPT, "6120"),
        (timedelta(days=61), RECEIPT, "6110"),
        (timedelta(days=2), None, "6130"),
    ],
)
async def test_long_living_payment_codes(
    api: Api, app: Starlette, ahead: timedelta, receipt: Any, expected: str
) -> None:
    # epayment_references_errors.md 6110 too late (60 days), 6120 too soon (10 minutes), 6130 needs a
    # receipt; epayment_references_features.md "Long-living payments".
    at = sandbox_of(app).clock.now() + ahead
    extra: dict[str, Any] = {"userFlow": "QR", "expiresAt": at.isoformat()}
    if receipt is not None:
        extra["receipt"] = receipt
    response = await api.create(f"long-living-{expected}", **extra)
    assert (response.status_code, code(response)) == (400, expected)


async def test_long_living_payment_with_receipt(api: Api, app: Starlette) -> None:
    at = sandbox_of(app).clock.now() + timedelta(days=30)
    response = await api.create("long-living-ok", userFlow="QR", expiresAt=at.isoformat(), receipt=RECEIPT)
    assert response.status_code == 201, response.text


async def test_msn_and_phone_lengths_of_the_newest_spec(api: Api) -> None:
    # 1.8.1 MSN ^[0-9]{4,10}$; CustomerPhoneNumber ^\d{9,15}$.
    ten = Api(api.client, msn="1234567890")
    ten.token = api.token
    assert (await ten.create("msn-ten-1")).status_code == 201
    eleven = Api(api.client, msn="12345678901")
    eleven.token = api.token
    assert (await eleven.create("msn-eleven-1")).status_code == 400
    nine = await api.create("phone-nine-1", userFlow="PUSH_MESSAGE", customer={"phoneNumber": "358401234"})
    assert nine.status_code == 201, nine.text
    eight = await api.create("phone-eight-1", userFlow="PUSH_MESSAGE", customer={"phoneNumber": "35840123"})
    assert code(eight) == "4070"


async def test_blocked_sources_are_for_denmark_and_finland(api: Api) -> None:
    # epayment_references_features.md "Block payment sources": "Norwegian sales units get error 5010";
    # 1.8.1 BlockedPaymentSources "when using WALLET", "only for Danish and Finnish markets".
    method = {"type": "WALLET", "blockedSources": ["COMMERCIAL_CARDS"]}
    norway = await api.create("blocked-no-1", paymentMethod=method)
    assert (norway.status_code, code(norway)) == (400, "5010")
    dk = Api(api.client, msn="223344")
    dk.token = api.token
    assert (await dk.create("blocked-dk-1", 1000, "DKK", paymentMethod=method)).status_code == 201


async def test_minimum_user_age(api: Api) -> None:
    # 1.8.1 CreatePaymentRequest.minimumUserAge: integer 0..100, nullable.
    assert (await api.create("age-18-1", minimumUserAge=18)).status_code == 201
    assert (await api.create("age-null-1", minimumUserAge=None)).status_code == 201
    too_old = await api.create("age-101-1", minimumUserAge=101)
    assert too_old.status_code == 400
    assert too_old.json()["extraDetails"][0]["name"] == "minimumUserAge"


async def test_card_passthrough_and_its_currencies(api: Api) -> None:
    # 1.8.1 PaymentMethodType CARD_PASSTHROUGH and Currency SEK/USD/GBP are "only for CARD_PASSTHROUGH"
    # (PSPs); errors.md 4160 "Invalid payment method type", 5040 "Invalid currency for merchant".
    passthrough = await api.create("passthrough-1", paymentMethod={"type": "CARD_PASSTHROUGH"})
    assert (passthrough.status_code, code(passthrough)) == (400, "4160")
    sek = await api.create("sek-payment-1", 1000, "SEK")
    assert (sek.status_code, code(sek)) == (400, "5040")


async def test_return_url_length(api: Api) -> None:
    # 1.8.1 CreatePaymentRequest.returnUrl maxLength 2500.
    long_url = "https://fjordkaffe.example/" + "a" * 2500
    response = await api.create("return-url-1", returnUrl=long_url)
    assert response.status_code == 400
    assert response.json()["extraDetails"][0]["name"] == "returnUrl"


@pytest.mark.parametrize(
    ("customer", "expected"),
    [({"personalQr": "qr"}, "4060"), ({"personalQr": "x" * 256}, "4060"), ({"customerToken": 7}, "4050")],
)
async def test_personal_qr_and_customer_token(api: Api, customer: dict[str, Any], expected: str) -> None:
    # 1.8.1 PersonalQrCode.personalQr 5..255; errors.md 4060 "Invalid PersonalQr", 4050 "Invalid
    # CustomerToken".
    response = await api.create("customer-refused-1", userFlow="PUSH_MESSAGE", customer=customer)
    assert response.status_code == 400
    assert code(response) == expected


async def test_a_scanned_personal_qr_is_a_customer(api: Api) -> None:
    qr = {"personalQr": "https://qr.vipps.no/p/4712345678"}
    assert (await api.create("customer-qr-1", userFlow="PUSH_MESSAGE", customer=qr)).status_code == 201
