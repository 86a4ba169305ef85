"""Ten copies of one idempotent request at once give one effect; faults do what they promise."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette

from epay_desktop.sandbox import AnswerDropped
from tests.sandbox.conftest import Api, sandbox_of

pytestmark = pytest.mark.anyio


async def test_ten_concurrent_replays_give_one_effect(api: Api) -> None:
    await api.authorized("concurrent-1", 1000)
    answers = await asyncio.gather(*(api.capture("concurrent-1", 100, key="same-K") for _ in range(10)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    events = (await api.events("concurrent-1")).json()
    assert [e["name"] for e in events].count("CAPTURED") == 1
    cancels = await asyncio.gather(*(api.cancel("concurrent-1", key="cancel-K") for _ in range(10)))
    assert {c.json()["aggregate"]["cancelledAmount"]["value"] for c in cancels} == {900}


async def test_concurrent_creates_with_one_key(api: Api) -> None:
    answers = await asyncio.gather(*(api.create("concurrent-create-1", key="create-K") for _ in range(10)))
    assert {a.status_code for a in answers} == {201}
    assert len((await api.events("concurrent-create-1")).json()) == 1


async def test_drop_after_commit_commits_then_loses_the_answer(api: Api, client: httpx.AsyncClient) -> None:
    await api.authorized("dropped-1", 1000)
    put = await client.put("/sandbox/v1/faults", json={"dropAfterCommit": 1})
    assert put.json()["dropAfterCommit"] == 1
    with pytest.raises(httpx.ReadError) as caught:  # what a client sees in-process: a transport error
        await api.cancel("dropped-1", key="lost-K")
    assert isinstance(caught.value, AnswerDropped)
    assert (await client.get("/sandbox/v1/faults")).json()["dropAfterCommit"] == 0
    payment = (await api.get("dropped-1")).json()
    assert payment["aggregate"]["cancelledAmount"]["value"] == 1000  # the effect was committed
    retry = await api.cancel("dropped-1", key="lost-K")  # the idempotent retry gets the stored answer
    assert retry.status_code == 200
    assert retry.json()["aggregate"]["cancelledAmount"]["value"] == 1000


async def test_injected_errors_and_latency(api: Api, client: httpx.AsyncClient, app: Starlette) -> None:
    await api.create("faulty-1")
    faults = {"latencyMs": 1, "errorRates": {"503": 1.0}, "dropAfterCommit": 0}
    assert (await client.put("/sandbox/v1/faults", json=faults)).status_code == 200
    response = await api.get("faulty-1")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert (await client.get("/sandbox/v1/faults")).json()["latencyMs"] == 1
    await client.put("/sandbox/v1/faults", json={"errorRates": {"500": 0.5, "429": 0.5}})
    statuses = {(await api.get("faulty-1")).status_code for _ in range(30)}
    assert statuses == {500, 429}
    await client.put("/sandbox/v1/faults", json={})
    assert (await api.get("faulty-1")).status_code == 200
    assert sandbox_of(app).faults.error_rates == {"500": 0.0, "503": 0.0, "429": 0.0}


@pytest.mark.parametrize(
    "body",
    [
        {"latencyMs": -1},
        {"errorRates": {"404": 0.5}},
        {"errorRates": {"500": 0.7, "503": 0.7}},
        {"latencyMs": 1.5},
    ],
)
async def test_bad_fault_settings_are_refused(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    response = await client.put("/sandbox/v1/faults", json=body)
    assert response.status_code == 400
    assert (await client.get("/sandbox/v1/faults")).json()["latencyMs"] == 0
