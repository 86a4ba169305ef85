"""Review findings 4 and 5: once an attempt of a money-moving call may have taken effect, no later
error may read as "nothing happened". A refusal of a retry, or a failing token fetch before a retry,
is ``OutcomeUnknownError`` (``last_error`` says what the later try ran into), so the event log decides."""

from __future__ import annotations

import httpx
import pytest

from epay_desktop.api import (
    ApiError,
    AuthenticationError,
    OutcomeUnknownError,
)
from epay_desktop.domain import Currency, Money
from tests.api.fakes import REF, FakeServer, payment_body, problem

pytestmark = pytest.mark.anyio

NOK = Currency.NOK


def _lost_then(answer: httpx.Response) -> list[httpx.Response | Exception]:
    # The first try reached the server (a read failed after sending); the retry gets ``answer``.
    return [httpx.ReadError("connection reset after the request was sent"), answer]


@pytest.mark.parametrize("operation", ["cancel", "capture", "refund"])
async def test_a_refused_retry_after_a_lost_answer_is_outcome_unknown(operation: str) -> None:
    server = FakeServer(_lost_then(problem(400, "Cannot cancel", "6190")))
    async with server.client() as client:
        with pytest.raises(OutcomeUnknownError) as caught:
            if operation == "cancel":
                await client.cancel(REF, idempotency_key="key-1")
            elif operation == "capture":
                await client.capture(REF, Money(500, NOK), idempotency_key="key-1")
            else:
                await client.refund(REF, Money(500, NOK), idempotency_key="key-1")
    error = caught.value
    assert isinstance(error.last_error, ApiError)
    assert error.last_error.error_code == "6190"
    assert error.idempotency_key == "key-1"
    assert error.attempts == 2
    assert len(server.api_requests) == 2


async def test_a_refusal_of_the_first_try_stays_a_refusal() -> None:
    server = FakeServer([problem(400, "Cannot cancel", "6190")])
    async with server.client() as client:
        with pytest.raises(ApiError):
            await client.cancel(REF, idempotency_key="key-1")


async def test_a_refused_retry_after_a_5xx_is_outcome_unknown() -> None:
    server = FakeServer([problem(500, "Internal", "3010"), problem(409, "Conflict")])
    async with server.client() as client:
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.capture(REF, Money(500, NOK), idempotency_key="key-1")
    assert isinstance(caught.value.last_error, ApiError)
    assert caught.value.last_error.status == 409


async def test_a_refused_retry_of_a_read_stays_an_api_error() -> None:
    server = FakeServer([httpx.ReadError("reset"), problem(404, "Not found")])
    async with server.client() as client:
        with pytest.raises(ApiError):
            await client.get_payment(REF)


async def test_a_token_failure_before_the_first_try_is_not_unknown() -> None:
    server = FakeServer([httpx.Response(200, json=payment_body())])
    server.token_answer = problem(401, "Unauthorized")
    async with server.client() as client:
        with pytest.raises(AuthenticationError):
            await client.cancel(REF, idempotency_key="key-4")
    assert server.api_requests == []
