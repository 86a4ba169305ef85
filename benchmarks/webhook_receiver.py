"""Signed webhook deliveries per second into ``epay-webhooks`` (verify, de-duplicate, store in a real
SQLite register) under uvicorn on loopback, against a bare Starlette endpoint that only reads the body,
measured the same way in the same run.

    uv run python benchmarks/webhook_receiver.py [--seconds 5] [--concurrency 8] [--rate 500]

Two measurements:
1. as fast as it goes (closed loop, ``--concurrency`` connections): the receiver's rate against the
   bare endpoint's (target: at least 0.5x);
2. held at ``--rate`` deliveries per second (open loop, sent on a fixed schedule) for ``--seconds``:
   every delivery must be answered 200 and be in the register afterwards (no loss), and the achieved
   rate must keep up.

Each server runs in its own subprocess (uvicorn, 127.0.0.1, a free port); the load comes from this
process with httpx over keep-alive connections. Every delivery is a distinct event (its own
pspReference), signed like the sandbox signs them. Absolute numbers mean little on a shared machine:
read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

SECRET = "bench-webhook-secret-0123456789abcdef0123456789"
PATH = "/hooks/vipps"
HELD_SENDERS = 8  # as many senders as the flat-out run has connections (more only add client overhead)


def serve(kind: str, register: str) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from epay_desktop.api.webhooks import WebhookEndpoint
    from epay_desktop.services.webhook_inbox import WebhookInbox
    from epay_desktop.webhooks import create_receiver
    from epay_desktop.webhooks.serving import address, bind, build_server

    sock = bind("127.0.0.1", 0)
    url = address(sock) + PATH

    async def bare(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"outcome": "stored"})

    if kind == "bare":
        app = Starlette(routes=[Route(PATH, bare, methods=["POST"])])
    else:
        app = create_receiver(WebhookEndpoint(url, (SECRET,)), WebhookInbox.open(Path(register)))
    print(url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        build_server(app).run(sockets=[sock])


def start(kind: str, register: Path) -> tuple[subprocess.Popen[str], str]:
    # The servers run from bytecode, as installed (a checkout may set PYTHONDONTWRITEBYTECODE).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--register", str(register)],
        stdout=subprocess.PIPE,
        text=True,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def delivery(url: str, n: int) -> tuple[bytes, dict[str, str]]:
    from epay_desktop.sandbox.webhooks.signing import signed_headers

    body = json.dumps(
        {
            "msn": "123456",
            "reference": f"bench-hook-{n // 4:07d}",
            "pspReference": str(1_000_000_000 + n),
            "name": ("CREATED", "AUTHORIZED", "CAPTURED", "REFUNDED")[n % 4],
            "amount": {"currency": "NOK", "value": 4900 if n % 4 < 2 else 100},
            "timestamp": datetime.now(UTC).isoformat(),
            "idempotencyKey": f"bench-{n}",
            "success": True,
        },
        separators=(",", ":"),
    ).encode()
    return body, signed_headers(SECRET, url, body, datetime.now(UTC))


class Load:
    """Signed deliveries to one URL, signed ahead (``ready``) so the sender spends its time sending."""

    def __init__(self, url: str, client: httpx.AsyncClient, ready: int = 3000) -> None:
        self.url = url
        self.client = client
        self.numbers = itertools.count()
        self.signed = [delivery(url, next(self.numbers)) for _ in range(ready)]
        self.failures = 0

    async def one(self) -> None:
        body, headers = self.signed.pop() if self.signed else delivery(self.url, next(self.numbers))
        response = await self.client.post(self.url, content=body, headers=headers)
        if response.status_code != 200:
            self.failures += 1


async def flat_out(name: str, load: Load, seconds: float, concurrency: int) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await load.one()
            done += 1

    start_at = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    rate = done / (time.perf_counter() - start_at)
    print(f"  {name:<40} {done:6d} deliveries {rate:8.0f} /s  ({load.failures} not 200)")
    return rate


async def held(name: str, load: Load, rate: int, seconds: float, concurrency: int) -> tuple[int, float]:
    """Send ``rate`` per second on a fixed schedule (delivery i is due at i/rate s) from ``concurrency``
    senders, so a slow answer does not hold up the schedule; returns (sent, achieved rate)."""
    total = int(rate * seconds)
    slots = iter(range(total))
    start_at = time.perf_counter()

    async def sender() -> None:
        for i in slots:
            wait = start_at + i / rate - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            await load.one()

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    achieved = total / (time.perf_counter() - start_at)
    print(f"  {name:<40} {total:6d} deliveries {achieved:8.0f} /s  ({load.failures} not 200)")
    return total, achieved


def stored(register: Path) -> int:
    from epay_desktop.store import Store

    with Store(register) as store:
        # The list is read without event logs: each payment's log is read on its own.
        logs = [store.register.events_of("123456", row.reference) for row in store.register.all("123456")]
    return sum(len(log or ()) for log in logs)


async def run(seconds: float, concurrency: int, rate: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="epay-webhook-bench-"))
    bare_process, bare_url = start("bare", folder / "unused.sqlite3")
    receiver_process, receiver_url = start("receiver", folder / "flat.sqlite3")
    held_process, held_url = start("receiver", folder / "held.sqlite3")
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    held_limits = httpx.Limits(max_connections=HELD_SENDERS, max_keepalive_connections=HELD_SENDERS)
    try:
        async with (
            httpx.AsyncClient(limits=limits) as bare_client,
            httpx.AsyncClient(limits=limits) as receiver_client,
            httpx.AsyncClient(limits=held_limits) as held_client,
        ):
            bare, receiver = Load(bare_url, bare_client), Load(receiver_url, receiver_client)
            print(f"webhook receiver, uvicorn on loopback, concurrency {concurrency}")
            await flat_out("warm-up (bare)", bare, 1.0, concurrency)
            await flat_out("warm-up (receiver)", receiver, 1.0, concurrency)
            bare_rate = await flat_out("bare Starlette POST", bare, seconds, concurrency)
            receiver_rate = await flat_out("epay-webhooks (verify+store)", receiver, seconds, concurrency)
            bare_again = await flat_out("bare Starlette POST (again)", bare, seconds, concurrency)
            baseline = (bare_rate + bare_again) / 2
            print(f"  ratio receiver / bare:           {receiver_rate / baseline:.2f}x  (target >= 0.5x)")
            _, bare_held = await held(
                f"bare Starlette held at {rate}/s", Load(bare_url, held_client), rate, seconds, HELD_SENDERS
            )
            sent, achieved = await held(
                f"epay-webhooks held at {rate}/s", Load(held_url, held_client), rate, seconds, HELD_SENDERS
            )
            in_register = stored(folder / "held.sqlite3")
            print(
                f"  held: {sent} sent, {in_register} in the register, loss {sent - in_register}; "
                f"achieved {achieved:.0f}/s of {rate}/s ({achieved / rate:.2f}x); the bare endpoint "
                f"achieved {bare_held:.0f}/s (receiver/bare {achieved / bare_held:.2f}x)"
            )
    finally:
        for process in (bare_process, receiver_process, held_process):
            process.terminate()
            process.wait(timeout=10)
            if process.stdout:
                process.stdout.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", choices=("bare", "receiver"))
    parser.add_argument("--register", default="")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=int, default=500)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.register)
    else:
        asyncio.run(run(args.seconds, args.concurrency, args.rate))


if __name__ == "__main__":
    main()
