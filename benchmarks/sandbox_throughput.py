"""Requests per second of the sandbox under uvicorn on loopback, against a bare Starlette endpoint
measured the same way in the same run (target: the sandbox at least 0.5x the bare rate).

    uv run python benchmarks/sandbox_throughput.py [--requests 1500] [--seconds 5] [--concurrency 8]

Each server runs in its own subprocess (uvicorn, 127.0.0.1, a free port); the load comes from this
process with httpx over keep-alive connections. Absolute numbers mean little on a shared machine:
read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import httpx

CREDENTIALS = {
    "client_id": "demo-client",
    "client_secret": "demo-secret",
    "Ocp-Apim-Subscription-Key": "demo-subscription-key",
}


def serve(kind: str) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from epay_desktop.sandbox import SandboxConfig, create_app
    from epay_desktop.sandbox.server import base_url, bind, build_server

    async def bare(request: Request) -> JSONResponse:
        return JSONResponse({"reference": request.path_params["reference"], "state": "AUTHORIZED"})

    if kind == "bare":
        app = Starlette(routes=[Route("/bare/{reference}", bare, methods=["GET", "POST"])])
    else:
        app = create_app(SandboxConfig(data="demo", rate_limits=False))
    sock = bind("127.0.0.1", 0)
    print(base_url(sock), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        build_server(app).run(sockets=[sock])


async def measure(
    name: str, one: Callable[[int], Awaitable[int]], requests: int, seconds: float, concurrency: int
) -> float:
    """Run ``one(i)`` (returns how many HTTP requests it made) until the count or time runs out."""
    counter = itertools.count()
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while done < requests and time.perf_counter() < deadline:
            # Not ``done += await one(...)``: that reads ``done`` before the await and writes back a
            # stale sum, losing the other workers' counts (it undercounted by about the concurrency).
            made = await one(next(counter))
            done += made

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    rate = done / (time.perf_counter() - start)
    print(f"  {name:<34} {done:6d} requests  {rate:8.0f} req/s")
    return rate


def start(kind: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind],
        stdout=subprocess.PIPE,
        text=True,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


async def run(requests: int, seconds: float, concurrency: int) -> None:
    bare_process, bare_url = start("bare")
    sandbox_process, sandbox_url = start("sandbox")
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    try:
        async with (
            httpx.AsyncClient(base_url=bare_url, limits=limits) as bare,
            httpx.AsyncClient(base_url=sandbox_url, limits=limits) as sandbox,
        ):
            token = (await sandbox.post("/accesstoken/get", headers=CREDENTIALS)).json()["access_token"]
            headers = {
                "Authorization": f"Bearer {token}",
                "Ocp-Apim-Subscription-Key": CREDENTIALS["Ocp-Apim-Subscription-Key"],
                "Merchant-Serial-Number": "123456",
            }

            async def bare_get(i: int) -> int:
                response = await bare.get(f"/bare/fjordkaffe-ord-{i}")
                assert response.status_code == 200
                return 1

            async def sandbox_get(i: int) -> int:
                response = await sandbox.get(
                    f"/epayment/v1/payments/fjordkaffe-ord-{100201 + i % 43}", headers=headers
                )
                assert response.status_code == 200, response.text
                return 1

            async def sandbox_flow(i: int) -> int:
                reference = f"bench-{time.monotonic_ns()}-{i}"
                body = {
                    "amount": {"currency": "NOK", "value": 4900},
                    "paymentMethod": {"type": "WALLET"},
                    "reference": reference,
                    "userFlow": "QR",
                }
                created = await sandbox.post(
                    "/epayment/v1/payments", headers=headers | {"Idempotency-Key": reference}, json=body
                )
                approved = await sandbox.post(
                    f"/epayment/v1/test/payments/{reference}/approve", headers=headers
                )
                cancelled = await sandbox.post(
                    f"/epayment/v1/payments/{reference}/cancel",
                    headers=headers | {"Idempotency-Key": reference},
                )
                assert (created.status_code, approved.status_code, cancelled.status_code) == (201, 200, 200)
                return 3

            print(f"sandbox throughput, uvicorn on loopback, concurrency {concurrency}")
            await measure("warm-up (bare)", bare_get, requests // 5, seconds, concurrency)
            await measure("warm-up (sandbox)", sandbox_get, requests // 5, seconds, concurrency)
            bare_rate = await measure("bare Starlette GET", bare_get, requests, seconds, concurrency)
            get_rate = await measure("sandbox GET payment", sandbox_get, requests, seconds, concurrency)
            flow_rate = await measure(
                "sandbox create->approve->cancel", sandbox_flow, requests, seconds, concurrency
            )
            bare_again = await measure("bare Starlette GET (again)", bare_get, requests, seconds, concurrency)
            baseline = (bare_rate + bare_again) / 2
            print(f"  ratio GET payment / bare:          {get_rate / baseline:.2f}x  (target >= 0.5x)")
            print(f"  ratio flow requests / bare:        {flow_rate / baseline:.2f}x  (target >= 0.5x)")
    finally:
        for process in (bare_process, sandbox_process):
            process.terminate()
            process.wait(timeout=10)
            if process.stdout:
                process.stdout.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", choices=("bare", "sandbox"))
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
    else:
        asyncio.run(run(args.requests, args.seconds, args.concurrency))


if __name__ == "__main__":
    main()
