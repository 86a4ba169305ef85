"""How much the client costs per call, against a bare ``httpx.AsyncClient`` doing the same request to
the same sandbox in the same run (target: at most 1.2×), and the refresh of 1,000 payments (GET payment
+ GET events each) with bounded concurrency, in payments per second and as a ratio to the bare client.

    uv run python benchmarks/client_overhead.py [--calls 400] [--payments 1000] [--concurrency 8]

The sandbox runs under uvicorn in its own process on 127.0.0.1 (so its work does not share our GIL), and
also in-process through ``httpx.ASGITransport``. The bare client sends the same headers with a token
fetched once and only decodes the JSON; ours also checks input, manages the token, and parses into
domain records. Blocks of the two alternate so drift on a noisy machine hits both alike; medians are
printed. Absolute times mean little on these machines: read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import httpx

from epay_desktop.api import Credentials, Environment, EPaymentClient
from epay_desktop.api.client import SYSTEM_NAME, SYSTEM_VERSION
from epay_desktop.domain import Currency, Money

# Concurrent creates, as a busy till would make them. (A ~44 ms per request once seen here was Nagle +
# delayed ACK on accepted connections without TCP_NODELAY; the sandbox now sets it on every connection,
# see sandbox/server.py NoDelayH11Protocol and tests/sandbox/test_nodelay.py.)
CREATE_CONCURRENCY = 16
MSN = "123456"
CREDENTIALS = Credentials("demo-client", "demo-secret", "demo-subscription-key", MSN)


@contextlib.contextmanager
def sandbox_process() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "epay_desktop.sandbox", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--data", "empty", "--no-rate-limits"]
    # The server runs from bytecode, as installed (a checkout may set PYTHONDONTWRITEBYTECODE).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/sandbox/v1/stats", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the sandbox did not start: {process.stderr.read()!r}") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


def bare_headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Ocp-Apim-Subscription-Key": CREDENTIALS.subscription_key,
        "Merchant-Serial-Number": MSN,
        "Vipps-System-Name": SYSTEM_NAME,
        "Vipps-System-Version": SYSTEM_VERSION,
    }


@contextlib.asynccontextmanager
async def clients(
    base_url: str, transport_factory: Callable[[], httpx.AsyncBaseTransport | None]
) -> AsyncIterator[tuple[EPaymentClient, httpx.AsyncClient, dict[str, str]]]:
    ours = EPaymentClient(Environment.sandbox(base_url), CREDENTIALS, transport=transport_factory())
    bare = httpx.AsyncClient(base_url=base_url, transport=transport_factory(), timeout=20)
    try:
        token = await ours.fetch_token()
        yield ours, bare, bare_headers(token)
    finally:
        await ours.aclose()
        await bare.aclose()


async def create_payments(client: EPaymentClient, count: int) -> list[str]:
    references = [f"bench-{i:08d}" for i in range(count)]
    limit = asyncio.Semaphore(CREATE_CONCURRENCY)

    async def one(ref: str) -> None:
        async with limit:
            await client.create_payment(
                reference=ref,
                amount=Money(10000, Currency.NOK),
                description="Benchmark",
                phone_number="4791234567",
            )

    await asyncio.gather(*(one(r) for r in references))
    return references


async def timed(n: int, call: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    for _ in range(n):
        await call()
    return (time.perf_counter() - start) / n


async def per_call(
    base_url: str, factory: Callable[[], httpx.AsyncBaseTransport | None], calls: int, ref: str
) -> None:
    async with clients(base_url, factory) as (ours, bare, headers):
        path = f"/epayment/v1/payments/{ref}"

        async def bare_get() -> object:
            response = await bare.get(path, headers=headers)
            response.raise_for_status()
            return response.json()

        async def ours_get() -> object:
            return await ours.get_payment(ref)

        await timed(20, bare_get)  # warm up both: connections, caches
        await timed(20, ours_get)
        bare_times, our_times = [], []
        block = max(10, calls // 10)
        for _ in range(10):
            bare_times.append(await timed(block, bare_get))
            our_times.append(await timed(block, ours_get))
        b, o = statistics.median(bare_times), statistics.median(our_times)
        print(
            f"  GET payment, {block * 10} calls each: bare {b * 1e3:.3f} ms/call, "
            f"client {o * 1e3:.3f} ms/call, ratio {o / b:.2f}× (target ≤ 1.2×)"
        )


async def refresh(
    base_url: str, factory: Callable[[], httpx.AsyncBaseTransport | None], refs: list[str], concurrency: int
) -> None:
    async with clients(base_url, factory) as (ours, bare, headers):

        async def bare_one(ref: str) -> None:
            for path in (f"/epayment/v1/payments/{ref}", f"/epayment/v1/payments/{ref}/events"):
                response = await bare.get(path, headers=headers)
                response.raise_for_status()
                response.json()

        async def ours_one(ref: str) -> None:
            await ours.get_payment(ref)
            await ours.get_events(ref)

        async def run_all(one: Callable[[str], Awaitable[None]]) -> float:
            limit = asyncio.Semaphore(concurrency)

            async def bounded(ref: str) -> None:
                async with limit:
                    await one(ref)

            start = time.perf_counter()
            await asyncio.gather(*(bounded(r) for r in refs))
            return time.perf_counter() - start

        bare_runs, our_runs = [], []
        for _ in range(3):
            bare_runs.append(await run_all(bare_one))
            our_runs.append(await run_all(ours_one))
        b, o = statistics.median(bare_runs), statistics.median(our_runs)
        print(
            f"  refresh {len(refs)} payments (payment + events), concurrency {concurrency}: "
            f"bare {len(refs) / b:.0f}/s, client {len(refs) / o:.0f}/s, ratio {o / b:.2f}× time"
        )


async def main_async(args: argparse.Namespace) -> None:
    with sandbox_process() as url:
        async with EPaymentClient(Environment.sandbox(url), CREDENTIALS) as setup:
            refs = await create_payments(setup, args.payments)
        print(f"Sandbox over HTTP (uvicorn, separate process) at {url}:")
        await per_call(url, lambda: None, args.calls, refs[0])
        await refresh(url, lambda: None, refs, args.concurrency)

    from epay_desktop.sandbox import SandboxConfig, create_app

    app = create_app(SandboxConfig(data="empty", rate_limits=False))
    local = "http://sandbox.epay.local"

    def factory() -> httpx.AsyncBaseTransport:
        return httpx.ASGITransport(app=app)

    async with EPaymentClient(Environment.sandbox(local), CREDENTIALS, transport=factory()) as setup:
        refs = await create_payments(setup, args.payments)
    print("Sandbox in-process (httpx.ASGITransport):")
    await per_call(local, factory, args.calls, refs[0])
    await refresh(local, factory, refs, args.concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--payments", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
