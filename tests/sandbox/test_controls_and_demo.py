"""The /sandbox/v1 controls and the demo data set."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI

from epay_desktop.sandbox import SandboxConfig, create_app
from epay_desktop.sandbox.controls_openapi import CONTROLS_OPENAPI
from tests.sandbox.conftest import BASE_URL, Api, sandbox_of
from tests.sandbox.openapi_check import SpecChecker

pytestmark = pytest.mark.anyio


def shape(item: dict[str, Any]) -> str:
    agg = {k: v["value"] for k, v in item["aggregate"].items()}
    state = item["state"]
    if state == "CREATED":
        return "authorizing" if item["authorizing"] else "waiting"
    if state != "AUTHORIZED":
        return state.lower()
    authorized, captured = agg["authorizedAmount"], agg["capturedAmount"]
    cancelled, refunded = agg["cancelledAmount"], agg["refundedAmount"]
    if cancelled:
        return "cancelled-after-capture" if captured else "cancelled"
    if refunded:
        return "fully-refunded" if refunded == captured else "partly-refunded"
    if captured:
        return "fully-captured" if captured == authorized else "partly-captured"
    return "authorized"


async def _listing(client: httpx.AsyncClient, msn: str, **params: int) -> dict[str, Any]:
    response = await client.get(
        "/sandbox/v1/payments", params=params, headers={"Merchant-Serial-Number": msn}
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_controls_document_is_a_valid_openapi_document(client: httpx.AsyncClient) -> None:
    served = (await client.get("/sandbox/v1/openapi.json")).json()
    assert served == CONTROLS_OPENAPI
    OpenAPI.from_dict(served)  # raises when the document is not valid OpenAPI


async def test_demo_data_covers_every_shape_deterministically(checker: SpecChecker) -> None:
    listings = []
    for _ in range(2):
        app = create_app(SandboxConfig(data="demo", seed=0))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
            listings.append(await _listing(client, "123456", limit=1000))
            dkk = await _listing(client, "223344")
            eur = await _listing(client, "334455")
            api = Api(client)
            await api.fetch_token()
            for item in listings[-1]["items"][:10]:  # demo payments answer the real API, spec-valid
                checker.check(await api.get(item["reference"]))
                checker.check(await api.events(item["reference"]))
    first, second = listings
    assert first["total"] >= 40

    def stable(listing: dict[str, Any]) -> list[Any]:
        return [(i["reference"], i["amount"], i["aggregate"], i["state"]) for i in listing["items"]]

    assert stable(first) == stable(second)
    shapes = Counter(shape(i) for i in first["items"])
    expected = {
        "waiting", "authorizing", "authorized", "partly-captured", "fully-captured", "partly-refunded",
        "fully-refunded", "cancelled", "cancelled-after-capture", "terminated", "aborted", "expired",
    }  # fmt: skip
    assert set(shapes) == expected
    assert all(i["reference"].startswith("fjordkaffe-ord-") for i in first["items"])
    assert all("x " in i["paymentDescription"] for i in first["items"])
    assert dkk["total"] >= 3
    assert {i["amount"]["currency"] for i in dkk["items"]} == {"DKK"}
    assert eur["total"] >= 3
    assert {i["amount"]["currency"] for i in eur["items"]} == {"EUR"}


async def test_listing_pages(app: Any, api: Api, client: httpx.AsyncClient) -> None:
    for i in range(5):
        await api.create(f"paging-ref-{i}")
    page = await _listing(client, "123456", offset=1, limit=2)
    assert page["total"] == 5
    assert page["offset"] == 1
    assert page["limit"] == 2
    assert len(page["items"]) == 2
    everything = await _listing(client, "123456")
    assert {i["reference"] for i in everything["items"]} == {f"paging-ref-{i}" for i in range(5)}
    assert (await _listing(client, "999999"))["total"] == 0
    bad = await client.get(
        "/sandbox/v1/payments", params={"limit": "-1"}, headers={"Merchant-Serial-Number": "1234"}
    )
    assert bad.status_code == 400


async def test_customer_actions(api: Api) -> None:
    await api.create("customer-ref-1")
    response = await api.customer("customer-ref-1", "start-authorizing")
    assert response.json()["state"] == "CREATED"
    response = await api.customer("customer-ref-1", "finish-authorizing")
    assert response.json()["state"] == "AUTHORIZED"
    again = await api.customer("customer-ref-1", "reject")
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert (await api.customer("customer-ref-1", "dance")).status_code == 404
    assert (await api.customer("no-such-ref-1", "approve")).status_code == 404


async def test_clock_reset_and_stats(app: Any, api: Api, client: httpx.AsyncClient) -> None:
    await api.create("clock-ref-1")
    assert (await client.post("/sandbox/v1/clock/advance", json={"seconds": 600})).status_code == 200
    assert (await api.get("clock-ref-1")).json()["state"] == "EXPIRED"
    assert (await client.post("/sandbox/v1/clock/advance", json={"seconds": -5})).status_code == 400
    stats = (await client.get("/sandbox/v1/stats")).json()
    assert stats["tokenRequests"] == 1
    assert stats["requests"] == 3  # token, create, get: controls are not counted
    reset = await client.post("/sandbox/v1/reset", json={"data": "demo"})
    assert reset.json()["payments"] >= 50
    assert (await api.get("clock-ref-1")).status_code == 404
    assert (await client.post("/sandbox/v1/reset", json={"data": "nonsense"})).status_code == 400
    await client.post("/sandbox/v1/reset", json={"data": "empty"})
    assert not sandbox_of(app).engine.payments


async def test_landing_page_lets_a_person_play_the_customer(api: Api, client: httpx.AsyncClient) -> None:
    url = (await api.create("landing-ref-1")).json()["redirectUrl"]
    page = await client.get(url)
    assert page.status_code == 200
    assert "landing-ref-1" in page.text
    assert "approve" in page.text
    assert (await client.get("/sandbox/v1/landing?token=nope")).status_code == 404
