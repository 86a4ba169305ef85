"""The client against fake servers: headers, retries with one key, typed errors, odd bodies."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from epay_desktop.api import (
    ApiError,
    AuthenticationError,
    ConflictError,
    Environment,
    EPaymentClient,
    InvalidInputError,
    MalformedResponseError,
    NetworkError,
    NotAllowedError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    RetryPolicy,
)
from epay_desktop.api.client import SYSTEM_NAME, SYSTEM_VERSION
from epay_desktop.domain import Currency, Money, State
from tests.api.fakes import CREDENTIALS, REF, FakeClock, FakeServer, body_of, payment_body, problem

pytestmark = pytest.mark.anyio

NOK = Currency.NOK


async def test_get_payment_sends_the_headers_the_api_wants() -> None:
    server = FakeServer([httpx.Response(200, json=payment_body())])
    async with server.client() as client:
        payment = await client.get_payment(REF)
    assert payment.state is State.AUTHORIZED
    token_request, get = server.requests
    assert token_request.method == "POST"
    assert token_request.content == b""
    assert token_request.headers["client_id"] == "demo-client"
    assert token_request.headers["client_secret"] == "demo-secret-value"
    assert token_request.headers["Ocp-Apim-Subscription-Key"] == "demo-subscription-key"
    assert get.url.path == f"/epayment/v1/payments/{REF}"
    assert get.headers["Authorization"].startswith("Bearer eyJ")
    assert get.headers["Ocp-Apim-Subscription-Key"] == "demo-subscription-key"
    assert get.headers["Merchant-Serial-Number"] == "123456"
    assert get.headers["Vipps-System-Name"] == SYSTEM_NAME == "epay-desktop"
    assert get.headers["Vipps-System-Version"] == SYSTEM_VERSION
    assert "Idempotency-Key" not in get.headers
    assert "client_secret" not in get.headers


@pytest.mark.parametrize(
    ("operation", "path_end", "expected_body"),
    [
        ("cancel", "cancel", {"cancelTransactionOnly": False}),
        ("capture", "capture", {"modificationAmount": {"currency": "NOK", "value": 500}}),
        ("refund", "refund", {"modificationAmount": {"currency": "NOK", "value": 500}}),
    ],
)
async def test_money_moving_calls_carry_a_key_and_the_right_body(
    operation: str, path_end: str, expected_body: dict[str, object]
) -> None:
    server = FakeServer([httpx.Response(200, json=payment_body())])
    async with server.client() as client:
        if operation == "cancel":
            await client.cancel(REF, idempotency_key="key-1")
        else:
            await getattr(client, operation)(REF, Money(500, NOK), idempotency_key="key-1")
    (request,) = server.api_requests
    assert request.url.path == f"/epayment/v1/payments/{REF}/{path_end}"
    assert request.headers["Idempotency-Key"] == "key-1"
    assert request.headers["Content-Type"] == "application/json"
    assert body_of(request) == expected_body


async def test_create_payment_body_and_answer() -> None:
    server = FakeServer(
        [httpx.Response(201, json={"reference": REF, "redirectUrl": "https://landing.example/?token=x"})]
    )
    async with server.client() as client:
        created = await client.create_payment(
            reference=REF,
            amount=Money(49900, NOK),
            description="Two coffees",
            user_flow="WEB_REDIRECT",
            return_url="https://shop.example/done",
        )
    assert created.reference == REF
    assert created.redirect_url == "https://landing.example/?token=x"
    (request,) = server.api_requests
    assert len(request.headers["Idempotency-Key"]) == 36
    assert body_of(request) == {
        "amount": {"currency": "NOK", "value": 49900},
        "paymentMethod": {"type": "WALLET"},
        "reference": REF,
        "userFlow": "WEB_REDIRECT",
        "paymentDescription": "Two coffees",
        "returnUrl": "https://shop.example/done",
    }


async def test_cancel_transaction_only_is_sent() -> None:
    server = FakeServer([httpx.Response(200, json=payment_body(state="TERMINATED"))])
    async with server.client() as client:
        payment = await client.cancel(REF, cancel_transaction_only=True)
    assert payment.state is State.TERMINATED
    assert body_of(server.api_requests[0]) == {"cancelTransactionOnly": True}


async def test_every_retry_reuses_the_key_and_the_same_bytes() -> None:
    server = FakeServer(
        [
            httpx.ReadError("connection reset"),
            problem(503, "Service Unavailable"),
            httpx.Response(200, json=payment_body(cancelled=1000)),
        ]
    )
    clock = FakeClock()
    async with server.client(clock=clock) as client:
        payment = await client.cancel(REF)
    assert payment.aggregate.cancelled == Money(1000, NOK)
    attempts = server.api_requests
    assert len(attempts) == 3
    assert len({r.headers["Idempotency-Key"] for r in attempts}) == 1
    assert len({r.content for r in attempts}) == 1
    # Capped exponential backoff (jitter pinned at its maximum here): 0.25 s, then 0.5 s.
    assert clock.sleeps == [0.25, 0.5]


async def test_each_call_without_a_key_gets_its_own() -> None:
    server = FakeServer([httpx.Response(200, json=payment_body()) for _ in range(2)])
    async with server.client() as client:
        await client.cancel(REF)
        await client.cancel(REF)
    keys = [r.headers["Idempotency-Key"] for r in server.api_requests]
    assert keys[0] != keys[1]


async def test_429_waits_as_retry_after_says() -> None:
    server = FakeServer(
        [
            httpx.Response(429, headers={"Retry-After": "7"}, json={"statusCode": 429, "message": "Rate"}),
            httpx.Response(200, json=payment_body()),
        ]
    )
    clock = FakeClock()
    async with server.client(clock=clock) as client:
        await client.capture(REF, Money(100, NOK))
    assert clock.sleeps == [7.0]
    assert len(server.api_requests) == 2


async def test_429_longer_than_the_budget_is_a_rate_limited_error() -> None:
    server = FakeServer([httpx.Response(429, headers={"Retry-After": "120"})])
    clock = FakeClock()
    async with server.client(clock=clock, total_budget=30) as client:
        with pytest.raises(RateLimitedError) as caught:
            await client.cancel(REF)
    assert caught.value.retry_after == 120.0
    assert clock.sleeps == []  # never retried sooner than the server allowed
    assert "wait a minute" in caught.value.advice


async def test_retries_are_bounded_and_get_gives_the_last_error() -> None:
    server = FakeServer(lambda request: problem(500, "Internal error", "3010"))
    clock = FakeClock()
    async with server.client(clock=clock, max_attempts=4) as client:
        with pytest.raises(ApiError) as caught:
            await client.get_payment(REF)
    assert caught.value.status == 500
    assert caught.value.error_code == "3010"
    assert len(server.api_requests) == 4
    assert len(clock.sleeps) == 3


async def test_total_time_budget_ends_the_retries() -> None:
    server = FakeServer(lambda request: httpx.Response(503))
    clock = FakeClock()
    async with server.client(clock=clock, max_attempts=100, total_budget=10) as client:
        with pytest.raises(ApiError):
            await client.get_payment(REF)
    assert sum(clock.sleeps) <= 10
    assert len(server.api_requests) < 100


async def test_cancel_whose_answer_never_comes_is_outcome_unknown() -> None:
    server = FakeServer(lambda request: (_ for _ in ()).throw(httpx.ReadTimeout("no answer")))
    async with server.client(max_attempts=3) as client:
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.cancel(REF, idempotency_key="journal-key-1")
    error = caught.value
    assert error.idempotency_key == "journal-key-1"
    assert error.operation == "cancel"
    assert error.reference == REF
    assert isinstance(error.last_error, httpx.ReadTimeout)
    assert error.attempts == 3
    assert {r.headers["Idempotency-Key"] for r in server.api_requests} == {"journal-key-1"}


async def test_5xx_on_a_capture_after_retries_is_outcome_unknown() -> None:
    server = FakeServer(lambda request: problem(502, "Bad gateway"))
    async with server.client(max_attempts=2) as client:
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.capture(REF, Money(100, NOK))
    assert isinstance(caught.value.last_error, ApiError)


async def test_connect_error_means_nothing_happened() -> None:
    server = FakeServer(lambda request: (_ for _ in ()).throw(httpx.ConnectError("refused")))
    async with server.client(max_attempts=2) as client:
        with pytest.raises(NetworkError, match="could not be reached"):
            await client.get_payment(REF)


async def test_connect_errors_only_on_a_cancel_are_a_network_error_not_unknown() -> None:
    calls = 0

    def api(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("refused")

    server = FakeServer(api)
    async with server.client(max_attempts=3) as client:
        with pytest.raises(NetworkError):
            await client.cancel(REF)
    assert calls == 3


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(400, ApiError), (403, AuthenticationError), (404, NotFoundError), (409, ConflictError)],
)
async def test_other_4xx_are_never_retried(status: int, error_type: type[ApiError]) -> None:
    server = FakeServer(lambda request: problem(status, "No", "6040" if status == 400 else None))
    async with server.client() as client:
        with pytest.raises(error_type) as caught:
            await client.cancel(REF)
    assert type(caught.value) is error_type
    assert len(server.api_requests) == 1


async def test_6040_says_refund_instead() -> None:
    server = FakeServer([problem(400, "Cannot cancel a captured payment", "6040")])
    async with server.client() as client:
        with pytest.raises(ApiError) as caught:
            await client.cancel(REF)
    error = caught.value
    assert (error.status, error.error_code, error.trace_id) == (400, "6040", "00-trace-01")
    assert "refund instead" in error.advice
    assert "\n" not in str(error)
    assert "6040" in str(error)
    assert "00-trace-01" in str(error)


async def test_401_refreshes_the_token_once_and_retries_once() -> None:
    server = FakeServer([problem(401, "Unauthorized"), httpx.Response(200, json=payment_body())])
    async with server.client() as client:
        await client.get_payment(REF)
    assert server.token_requests == 2
    first, second = server.api_requests
    assert first.headers["Authorization"] != second.headers["Authorization"]


async def test_401_twice_is_a_clear_authentication_error() -> None:
    server = FakeServer(lambda request: problem(401, "Unauthorized"))
    async with server.client() as client:
        with pytest.raises(AuthenticationError, match="credentials"):
            await client.get_payment(REF)
    assert server.token_requests == 2
    assert len(server.api_requests) == 2


async def test_bad_subscription_key_azure_body() -> None:
    server = FakeServer(
        [],
        token_answer=httpx.Response(
            401,
            json={
                "statusCode": 401,
                "message": "Access denied due to invalid subscription key. Make sure to provide a valid key.",
            },
        ),
    )
    async with server.client() as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.fetch_token()
    assert "invalid subscription key" in caught.value.detail
    assert "gateway" in caught.value.title
    assert server.token_requests == 1


@pytest.mark.parametrize(
    "body",
    [b"", b"   ", b"<html><body>Welcome to the hotel wifi</body></html>", b"{not json", b"[1, 2]", b"null"],
)
async def test_garbage_success_body_is_a_typed_error(body: bytes) -> None:
    server = FakeServer([httpx.Response(200, content=body)])
    async with server.client() as client:
        with pytest.raises(MalformedResponseError):
            await client.get_payment(REF)


async def test_html_error_page_from_a_proxy() -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    server = FakeServer(lambda request: httpx.Response(502, content=page))
    async with server.client(max_attempts=1) as client:
        with pytest.raises(ApiError) as caught:
            await client.get_payment(REF)
    assert caught.value.status == 502
    assert "HTML page" in caught.value.title
    assert "502 Bad Gateway" in caught.value.detail


async def test_force_approve_is_refused_in_production_without_sending() -> None:
    server = FakeServer([])
    async with server.client(environment=Environment.PRODUCTION) as client:
        with pytest.raises(NotAllowedError):
            await client.force_approve(REF)
    assert server.requests == []


async def test_force_approve_in_test_posts_the_customer() -> None:
    server = FakeServer([httpx.Response(200)])
    async with server.client(environment=Environment.TEST) as client:
        await client.force_approve(REF, phone_number="4791234567")
    (request,) = server.api_requests
    assert request.url.path == f"/epayment/v1/test/payments/{REF}/approve"
    assert body_of(request) == {"customer": {"phoneNumber": "4791234567"}}


async def test_force_approve_is_not_repeated_when_the_answer_is_lost() -> None:
    server = FakeServer(lambda request: (_ for _ in ()).throw(httpx.ReadError("reset")))
    async with server.client() as client:
        with pytest.raises(OutcomeUnknownError):
            await client.force_approve(REF)
    assert len(server.api_requests) == 1


@pytest.mark.parametrize("reference", ["short", "../../accesstoken/get", "a" * 65, "order 12345", ""])
async def test_bad_references_are_refused_before_sending(reference: str) -> None:
    server = FakeServer([])
    async with server.client() as client:
        with pytest.raises(InvalidInputError):
            await client.get_payment(reference)
        with pytest.raises(InvalidInputError):
            await client.cancel(reference)
    assert server.requests == []


async def test_bad_amounts_and_keys_are_refused_before_sending() -> None:
    server = FakeServer([])
    async with server.client() as client:
        with pytest.raises(InvalidInputError, match="more than zero"):
            await client.capture(REF, Money(0, NOK))
        with pytest.raises(InvalidInputError, match="more than zero"):
            await client.refund(REF, Money(-5, NOK))
        with pytest.raises(InvalidInputError, match="idempotency key"):
            await client.cancel(REF, idempotency_key="x" * 51)
        with pytest.raises(InvalidInputError, match="user flow"):
            await client.create_payment(
                reference=REF, amount=Money(100, NOK), description="x", user_flow="FAX"
            )
    assert server.requests == []


async def test_hundred_concurrent_calls_on_a_cold_cache_fetch_one_token() -> None:
    server = FakeServer(lambda request: httpx.Response(200, json=payment_body()))
    async with server.client() as client:
        payments = await asyncio.gather(*(client.get_payment(REF) for _ in range(100)))
    assert len(payments) == 100
    assert server.token_requests == 1
    assert client.token_requests == 1


async def test_token_is_reused_until_two_minutes_before_it_expires() -> None:
    server = FakeServer(lambda request: httpx.Response(200, json=payment_body()), token_lifetime="3600")
    clock = FakeClock()
    async with server.client(clock=clock) as client:
        await client.get_payment(REF)
        clock.now += 3600 - 121
        await client.get_payment(REF)
        assert server.token_requests == 1
        clock.now += 2
        await client.get_payment(REF)
        assert server.token_requests == 2


def test_tls_verification_is_on() -> None:
    client = EPaymentClient(Environment.TEST, CREDENTIALS)
    try:
        assert client.session.ssl_context.verify_mode is ssl.CERT_REQUIRED
        assert client.session.ssl_context.check_hostname is True
    finally:
        asyncio.run(client.aclose())


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no trust store knows."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


async def test_a_server_whose_certificate_is_not_trusted_is_refused(tmp_path: Path) -> None:
    """Real TLS on 127.0.0.1 with a self-signed certificate: the client does not talk to it."""
    cert_file, key_file = _self_signed(tmp_path)
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert_file, key_file)
    requests_read: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            requests_read.append(await reader.read(1024))
        except (ssl.SSLError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_side)
    port = server.sockets[0].getsockname()[1]
    client = EPaymentClient(
        Environment.sandbox(f"https://127.0.0.1:{port}"), CREDENTIALS, retry=RetryPolicy.none()
    )
    try:
        with pytest.raises(NetworkError):
            await client.get_payment(REF)
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()
    assert not any(requests_read)  # not one byte of a request (nor a secret) reached it


def test_test_and_production_refuse_plain_http() -> None:
    with pytest.raises(ValueError, match="https"):
        Environment("production", "http://api.vipps.no")


async def _money_moving_call(client: EPaymentClient, operation: str, key: str) -> object:
    if operation == "cancel":
        return await client.cancel(REF, idempotency_key=key)
    if operation == "create":
        return await client.create_payment(
            reference=REF,
            amount=Money(1000, NOK),
            description="Two coffees",
            phone_number="4791234567",
            idempotency_key=key,
        )
    return await getattr(client, operation)(REF, Money(500, NOK), idempotency_key=key)


_UNREADABLE = [b"", b"<html><body>Welcome to the hotel wifi</body></html>", b"{not json", b"[]"]
# JSON, but the money fields are missing (a create answer needs only the reference, so not for create)
_NO_MONEY = b'{"reference": "order-12345678"}'


@pytest.mark.parametrize(
    ("operation", "body"),
    [(op, body) for op in ("cancel", "capture", "refund", "create") for body in _UNREADABLE]
    + [(op, _NO_MONEY) for op in ("cancel", "capture", "refund")],
)
async def test_unreadable_success_answer_to_a_money_moving_call_is_outcome_unknown(
    operation: str, body: bytes
) -> None:
    # The server said 2xx, so the effect may have happened: "malformed" would read as "nothing happened".
    status = 201 if operation == "create" else 200
    server = FakeServer([httpx.Response(status, content=body)])
    async with server.client() as client:
        with pytest.raises(OutcomeUnknownError) as caught:
            await _money_moving_call(client, operation, "key-42")
    error = caught.value
    assert isinstance(error.last_error, MalformedResponseError)
    assert error.idempotency_key == "key-42"
    assert error.reference == REF
    assert error.operation == operation
    assert error.attempts == 1
    assert "could not be read" in str(error)
    assert len(server.api_requests) == 1  # a replay with the key would return the same unreadable body


async def test_unreadable_success_after_a_retry_counts_the_attempts() -> None:
    server = FakeServer([problem(503, "Service Unavailable"), httpx.Response(200, content=b"oops")])
    async with server.client() as client:
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.cancel(REF, idempotency_key="key-7")
    assert caught.value.attempts == 2
    assert {r.headers["Idempotency-Key"] for r in server.api_requests} == {"key-7"}


@pytest.mark.parametrize("read", ["get_payment", "get_events"])
async def test_unreadable_answer_to_a_read_stays_malformed(read: str) -> None:
    server = FakeServer([httpx.Response(200, content=b"<html>proxy</html>")])
    async with server.client() as client:
        with pytest.raises(MalformedResponseError) as caught:
            await getattr(client, read)(REF)
    assert not isinstance(caught.value, OutcomeUnknownError)


async def _created_body(**kwargs: Any) -> object:
    server = FakeServer([httpx.Response(201, json={"reference": REF, "redirectUrl": "https://x.example/t"})])
    async with server.client() as client:
        await client.create_payment(reference=REF, amount=Money(1000, NOK), description="Coffee", **kwargs)
    return body_of(server.api_requests[0])


async def test_a_qr_payment_asks_for_the_target_url_by_default() -> None:
    # Without qrFormat the API would answer with a link to an SVG image, not the URL a phone opens.
    body = await _created_body(user_flow="QR")
    assert isinstance(body, dict)
    assert body["qrFormat"] == {"format": "TEXT/TARGETURL"}


async def test_a_qr_payment_may_ask_for_an_image() -> None:
    png = await _created_body(user_flow="QR", qr_format="IMAGE/PNG", qr_size=300)
    svg = await _created_body(user_flow="QR", qr_format="IMAGE/SVG+XML")
    assert isinstance(png, dict)
    assert isinstance(svg, dict)
    assert png["qrFormat"] == {"format": "IMAGE/PNG", "size": 300}
    assert svg["qrFormat"] == {"format": "IMAGE/SVG+XML"}


@pytest.mark.parametrize("flow", ["PUSH_MESSAGE", "WEB_REDIRECT", "NATIVE_REDIRECT"])
async def test_other_flows_send_no_qr_format(flow: str) -> None:
    extra: dict[str, Any] = {"phone_number": "4791234567"} if flow == "PUSH_MESSAGE" else {}
    if flow == "WEB_REDIRECT":
        extra["return_url"] = "https://shop.example/done"
    body = await _created_body(user_flow=flow, **extra)
    assert isinstance(body, dict)
    assert "qrFormat" not in body


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"user_flow": "PUSH_MESSAGE", "phone_number": "4791234567", "qr_format": "IMAGE/PNG"}, "only to"),
        ({"user_flow": "QR", "qr_format": "image/png"}, "unknown QR format"),
        ({"user_flow": "QR", "qr_format": "IMAGE/SVG+XML", "qr_size": 300}, "only to IMAGE/PNG"),
        ({"user_flow": "QR", "qr_size": 300}, "only to IMAGE/PNG"),  # the default is the target URL
        ({"user_flow": "QR", "qr_format": "IMAGE/PNG", "qr_size": 99}, "100 to 2000"),
        ({"user_flow": "QR", "qr_format": "IMAGE/PNG", "qr_size": 2001}, "100 to 2000"),
    ],
)
async def test_bad_qr_options_are_refused_before_sending(kwargs: dict[str, Any], message: str) -> None:
    server = FakeServer([])
    async with server.client() as client:
        with pytest.raises(InvalidInputError, match=message):
            await client.create_payment(
                reference=REF, amount=Money(1000, NOK), description="Coffee", **kwargs
            )
    assert server.requests == []
