"""Review findings 4 and 5: once an attempt of a money-moving call may have taken effect, no later
error may read as "nothing happened". A refusal of a retry, or a failing token fetch before a retry,
is ``OutcomeUnknownError`` (``last_error`` says what the later try ran into), so the event log decides."""

from __future__ import annotations

import httpx
import pytest

from epay_desktop.api import (
    ApiError,
    AuthenticationError,
    Environment,
    EPaymentClient,
    NetworkError,
    OutcomeUnknownError,
    RetryPolicy,
)
from epay_desktop.domain import Currency, Money
from tests.api.fakes import CREDENTIALS, REF, FakeClock, FakeServer, payment_body, problem

pytestmark = pytest.mark.anyio

NOK = Currency.NOK


def _lost_then(answer: httpx.Response) -> list[httpx.Response | Exception]:
    # The first try reached the server (a read failed after sending); the retry gets ``answer``.
    return [httpx.ReadError("connection reset after the request was sent"), answer]


@pytest.mark.parametrize("operation", ["cancel", "capture", "refund"])
async def test_a_refused_retry_after_a_lost_answer_is_outcome_unknown(operation: str) -> None:
    server = FakeServer(_lost_then(problem(400, "Cannot cancel", "6190")))
    async with server.client() as client:
        calls = {
            "cancel": lambda: client.cancel(REF, idempotency_key="key-1"),
            "capture": lambda: client.capture(REF, Money(500, NOK), idempotency_key="key-1"),
            "refund": lambda: client.refund(REF, Money(500, NOK), idempotency_key="key-1"),
        }
        with pytest.raises(OutcomeUnknownError) as caught:
            await calls[operation]()
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


async def test_a_token_refused_before_a_retry_is_outcome_unknown() -> None:
    clock = FakeClock()

    def api(request: httpx.Request) -> httpx.Response:
        # The cancel reaches the server, the answer is lost, the token runs out meanwhile, and the
        # token endpoint refuses from now on.
        clock.now += 6
        server.token_answer = problem(401, "Unauthorized")
        raise httpx.ReadError("connection reset after the request was sent")

    server = FakeServer(api, token_lifetime="10")
    async with server.client(clock=clock) as client:
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.cancel(REF, idempotency_key="key-2")
    assert isinstance(caught.value.last_error, AuthenticationError)
    assert caught.value.idempotency_key == "key-2"
    assert len(server.api_requests) == 1
    assert server.token_requests == 2
    assert caught.value.attempts == 1  # the retry was never sent


async def test_a_token_unreachable_before_a_retry_is_outcome_unknown() -> None:
    clock = FakeClock()
    lost = False

    def api(request: httpx.Request) -> httpx.Response:
        nonlocal lost
        clock.now += 6
        lost = True
        raise httpx.ReadError("connection reset after the request was sent")

    server = FakeServer(api, token_lifetime="10")

    def network(request: httpx.Request) -> httpx.Response:
        if lost and request.url.path == "/accesstoken/get":
            raise httpx.ConnectError("the token endpoint cannot be reached")
        return server(request)

    policy = RetryPolicy(max_attempts=4, sleep=clock.sleep, clock=clock, jitter=lambda: 1.0)
    async with EPaymentClient(
        Environment.sandbox("http://fake.example"),
        CREDENTIALS,
        transport=httpx.MockTransport(network),
        retry=policy,
    ) as client:
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.refund(REF, Money(100, NOK), idempotency_key="key-3")
    assert isinstance(caught.value.last_error, NetworkError)
    assert len(server.api_requests) == 1


async def test_a_token_failure_before_the_first_try_is_not_unknown() -> None:
    server = FakeServer([httpx.Response(200, json=payment_body())])
    server.token_answer = problem(401, "Unauthorized")
    async with server.client() as client:
        with pytest.raises(AuthenticationError):
            await client.cancel(REF, idempotency_key="key-4")
    assert server.api_requests == []
