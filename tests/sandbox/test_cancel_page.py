"""The cancel page's three example responses, reproduced field for field (epayment-cancel.md)."""

from __future__ import annotations

import pytest

from tests.sandbox.conftest import Api

pytestmark = pytest.mark.anyio

REF = "UNIQUE-PAYMENT-REFERENCE"


def _amount(value: int) -> dict[str, object]:
    return {"currency": "NOK", "value": value}


def _aggregate(authorized: int, cancelled: int, captured: int, refunded: int) -> dict[str, object]:
    return {
        "authorizedAmount": _amount(authorized),
        "cancelledAmount": _amount(cancelled),
        "capturedAmount": _amount(captured),
        "refundedAmount": _amount(refunded),
    }


async def test_cancel_before_authorization_terminates(api: Api) -> None:
    assert (await api.create(REF, 1000)).status_code == 201
    psp = (await api.get(REF)).json()["pspReference"]
    response = await api.cancel(REF)  # the page's curl: no body
    assert response.status_code == 200
    assert response.json() == {
        "amount": _amount(1000),
        "state": "TERMINATED",
        "aggregate": _aggregate(0, 1000, 0, 0),
        "pspReference": psp,
        "reference": REF,
    }


async def test_cancel_after_authorization_stays_authorized(api: Api) -> None:
    payment = await api.authorized(REF, 1000)
    response = await api.cancel(REF, body={"cancelTransactionOnly": False})
    assert response.status_code == 200
    assert response.json() == {
        "amount": _amount(1000),
        "state": "AUTHORIZED",
        "aggregate": _aggregate(1000, 1000, 0, 0),
        "pspReference": payment["pspReference"],
        "reference": REF,
    }


async def test_cancel_after_partial_capture_releases_the_rest(api: Api) -> None:
    await api.authorized(REF, 1000)
    captured = await api.capture(REF, 250)
    assert captured.json()["aggregate"] == _aggregate(1000, 0, 250, 0)  # the page's "before"
    response = await api.cancel(REF)
    assert response.status_code == 200
    assert response.json()["aggregate"] == _aggregate(1000, 750, 250, 0)  # the page's "after"
    assert response.json()["state"] == "AUTHORIZED"
    again = await api.capture(REF, 1)
    assert again.status_code == 400
    assert again.json()["extraDetails"] == [{"name": "ErrorCode", "reason": "6070"}]
