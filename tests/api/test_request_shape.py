"""Each request the session builds is the one ``httpx.AsyncClient.build_request`` would build from the
same parts (URL under the base, the client's default headers and ours, in its order, the body), with
the client's timeouts; and no cookie an answer sets is kept or sent back. The sandbox in-process."""

from __future__ import annotations

import httpx
import pytest

from epay_desktop.api import Credentials, Environment, EPaymentClient, new_idempotency_key
from epay_desktop.api.session import DEFAULT_TIMEOUT, SYSTEM_NAME, SYSTEM_VERSION, ApiRequest
from epay_desktop.domain import Currency, Money
from epay_desktop.sandbox import SandboxConfig, create_app

pytestmark = pytest.mark.anyio

BASE_URL = "http://sandbox.epay.local/"
CREDENTIALS = Credentials("demo-client", "demo-secret", "demo-subscription-key", "123456")


class Recording(httpx.AsyncBaseTransport):
    """In front of the sandbox: keeps every request, and sets a cookie on every answer."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = await self.inner.handle_async_request(request)
        answer.headers["Set-Cookie"] = "ARRAffinity=abc; Path=/"
        return answer


def expected(
    method: str, path: str, headers: list[tuple[str, str]], content: bytes | None = None
) -> httpx.Request:
    plain = httpx.AsyncClient(base_url=BASE_URL)
    ours = {
        "Accept": "application/json, application/problem+json",
        "Ocp-Apim-Subscription-Key": CREDENTIALS.subscription_key,
        "Merchant-Serial-Number": CREDENTIALS.merchant_serial_number,
        "Vipps-System-Name": SYSTEM_NAME,
        "Vipps-System-Version": SYSTEM_VERSION,
        "Vipps-System-Plugin-Name": SYSTEM_NAME,
        "Vipps-System-Plugin-Version": SYSTEM_VERSION,
    }
    ours.update(headers)
    return plain.build_request(method, path, headers=ours, content=content)


async def test_requests_are_built_as_the_client_would_build_them() -> None:
    recording = Recording(httpx.ASGITransport(app=create_app(SandboxConfig(data="empty", rate_limits=False))))
    async with EPaymentClient(Environment.sandbox(BASE_URL), CREDENTIALS, transport=recording) as client:
        created = await client.create_payment(
            reference="shape-12345678",
            amount=Money(1000, Currency.NOK),
            description="Shape check",
            phone_number="4791234567",
        )
        await client.force_approve(created.reference)
        await client.get_payment(created.reference)
        key = new_idempotency_key()
        await client.capture(created.reference, Money(400, Currency.NOK), idempotency_key=key)
        await client.get_payment(created.reference)
    token_request, create_request, _approve, get_request, capture_request, second_get = recording.requests
    token = get_request.headers["Authorization"].removeprefix("Bearer ")

    want = expected(
        "POST",
        "/accesstoken/get",
        [("client_id", CREDENTIALS.client_id), ("client_secret", CREDENTIALS.client_secret)],
    )
    assert (token_request.method, token_request.url) == (want.method, want.url)
    assert token_request.headers.raw == want.headers.raw

    want = expected(
        "GET", f"/epayment/v1/payments/{created.reference}", [("Authorization", f"Bearer {token}")]
    )
    assert (get_request.method, get_request.url) == (want.method, want.url)
    assert get_request.headers.raw == want.headers.raw

    body = capture_request.content
    assert body == b'{"modificationAmount":{"currency":"NOK","value":400}}'
    want = expected(
        "POST",
        f"/epayment/v1/payments/{created.reference}/capture",
        [
            ("Content-Type", "application/json"),
            ("Idempotency-Key", key),
            ("Authorization", f"Bearer {token}"),
        ],
        content=body,
    )
    assert (capture_request.method, capture_request.url) == (want.method, want.url)
    assert capture_request.headers.raw == want.headers.raw
    assert create_request.headers["Idempotency-Key"]

    for sent in recording.requests:
        assert sent.extensions["timeout"] == DEFAULT_TIMEOUT.as_dict()
        assert "cookie" not in sent.headers  # every answer set one: none is kept or sent back
    assert second_get.headers.raw == get_request.headers.raw


class Failing(httpx.AsyncBaseTransport):
    """A connection that breaks after the request went out, as the transport reports it (no request)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset")


async def test_the_client_timeouts_given_are_on_every_request_and_each_answer_knows_its_request() -> None:
    timeout = httpx.Timeout(3.0, connect=1.5)
    recording = Recording(httpx.ASGITransport(app=create_app(SandboxConfig(data="empty", rate_limits=False))))
    async with EPaymentClient(
        Environment.sandbox(BASE_URL), CREDENTIALS, transport=recording, timeout=timeout
    ) as client:
        created = await client.create_payment(
            reference="shape-timeouts1",
            amount=Money(1000, Currency.NOK),
            description="Timeouts",
            phone_number="4791234567",
        )
        answer = await client.session.send(
            ApiRequest("GET", f"/epayment/v1/payments/{created.reference}", operation="get payment")
        )
    assert [sent.extensions["timeout"] for sent in recording.requests] == [timeout.as_dict()] * 3
    assert answer.request is recording.requests[-1]


async def test_a_transport_error_names_the_request_and_a_closed_client_sends_nothing() -> None:
    failing = Failing()
    client = EPaymentClient(Environment.sandbox(BASE_URL), CREDENTIALS, transport=failing)
    request = ApiRequest("POST", "/accesstoken/get", operation="get access token", authorized=False)
    with pytest.raises(httpx.ReadError) as raised:
        await client.session._exchange(
            httpx.Request("POST", BASE_URL + "accesstoken/get", extensions={"timeout": {}})
        )
    assert raised.value.request.url == httpx.URL(BASE_URL + "accesstoken/get")
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await client.session.send(request)


class Answering(httpx.AsyncBaseTransport):
    """Answers every request with a body already read and no request tied to it (as a transport may)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"access_token": "t", "expires_in": 3600}')


async def test_an_answer_read_by_the_transport_is_tied_to_its_request() -> None:
    async with EPaymentClient(Environment.sandbox(BASE_URL), CREDENTIALS, transport=Answering()) as client:
        answer = await client.session.send(
            ApiRequest("POST", "/accesstoken/get", operation="get access token", authorized=False)
        )
    assert answer.request.url == httpx.URL(BASE_URL + "accesstoken/get")
