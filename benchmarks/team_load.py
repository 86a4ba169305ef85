"""Team mode under load: PostgreSQL, two ``epay-team`` instances and the standalone sandbox, each its own
process, and simulated agents that watch the live stream and move money on a register of payments.

What it prints:

- cancels through ``epay-team`` against cancels sent straight to the sandbox with the same client code
  (the engine's journal, the roles and the database are the difference): p50/p99 and their ratio, both
  measured in the same run, interleaved by the same agents;
- the propagation delay of a money move to the other agents: from the database's note of the move's
  end (written in the transaction that records the outcome) to its arrival on every other agent's
  live stream, half of them on the other instance: p50/p99/max (target: p99 under 1 s);
- doubled and lost operations, checked against the sandbox's own event logs: every operation the team
  recorded as done has exactly one event with its Idempotency-Key, every one recorded as failed has
  none, and nothing is left pending (stuck); a cancelled payment has one CANCELLED event.

PostgreSQL is a throwaway cluster started as the tests start it (``tests/support/postgres.py``, fsync
off): figures of the service and its fan-out, not of a disk.

Run: ``uv run python benchmarks/team_load.py [--agents 50] [--payments 10000] [--seconds 60]``
(``--seconds 10 --payments 2000`` for a quick run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from epay_desktop.api import Credentials, Environment, EPaymentClient, EPaymentError  # noqa: E402
from epay_desktop.domain import Currency, Money  # noqa: E402
from epay_desktop.services import DEMO_PROFILE  # noqa: E402
from epay_desktop.services.accounts import Role, TeamAccounts  # noqa: E402
from epay_desktop.store import NewEntry  # noqa: E402
from epay_desktop.store.postgres import PgStore  # noqa: E402
from tests.support.postgres import start_cluster  # noqa: E402

MSN = DEMO_PROFILE.merchant_serial_number
CREDENTIALS = Credentials("demo-client", "demo-secret", "demo-subscription-key", MSN)
PASSWORD = "load test password"
DIRECT_SHARE = 0.15  # of an agent's cancels go straight to the sandbox: the baseline
CAPTURE_SHARE = 0.2  # of an agent's moves through the team are partial captures


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} stopped at start (exit {process.returncode})")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not start")


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class Tally:
    team_cancel_ms: list[float] = field(default_factory=list)
    team_capture_ms: list[float] = field(default_factory=list)
    direct_cancel_ms: list[float] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)
    propagation_ms: list[float] = field(default_factory=list)
    notes_received: int = 0
    done_keys: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (reference, operation)
    touched: set[str] = field(default_factory=set)
    direct_done: set[str] = field(default_factory=set)
    stream_ends: int = 0


async def seed(sandbox: str, count: int, concurrency: int = 24) -> list[str]:
    references = [f"load-{n:06d}-{random.randrange(10**6):06d}" for n in range(count)]
    pending = iter(references)
    async with EPaymentClient(Environment.sandbox(sandbox), CREDENTIALS) as client:

        async def worker() -> None:
            for reference in pending:
                await client.create_payment(
                    reference=reference,
                    amount=Money(10000, Currency.NOK),
                    description="Load",
                    phone_number="4791234567",
                )
                await client.force_approve(reference)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return references


async def watch(
    url: str, token: str, agent: str, tally: Tally, ready: asyncio.Event, stop: asyncio.Event
) -> None:
    """One agent's live stream: the arrival of every note of another agent's finished move."""
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(30, read=None)) as client,
        client.stream(
            "GET", f"{url}/api/v1/merchants/{MSN}/live", headers={"Authorization": f"Bearer {token}"}
        ) as answer,
    ):
        if answer.status_code != 200:
            raise SystemExit(f"live stream refused: {answer.status_code}")
        fields: dict[str, str] = {}
        async for line in answer.aiter_lines():
            if stop.is_set():
                return
            if line.startswith(":"):
                ready.set()
                continue
            if line:
                name, _, value = line.partition(":")
                fields[name] = value.lstrip(" ")
                continue
            if "data" in fields:
                arrived = time.time()
                tally.notes_received += 1
                if '"kind":"done"' not in fields["data"]:
                    fields = {}
                    continue
                data: dict[str, Any] = json.loads(fields["data"])
                if data["agent"] != agent:
                    sent = datetime.fromisoformat(data["at"]).timestamp()
                    tally.propagation_ms.append((arrived - sent) * 1000)
            fields = {}
    if not stop.is_set():
        tally.stream_ends += 1


async def act(
    name: str,
    token: str,
    urls: list[str],
    team_pool: list[str],
    direct_pool: list[str],
    sandbox: str,
    tally: Tally,
    deadline: float,
    think_ms: float,
) -> None:
    rng = random.Random(name)
    headers = {"Authorization": f"Bearer {token}"}
    # Idle connections are let go before uvicorn's 5 s keep-alive ends: else a request sent just as the
    # server closes one is lost on the way ("disconnected without sending a response").
    limits = httpx.Limits(keepalive_expiry=2.0)
    async with (
        httpx.AsyncClient(timeout=60, limits=limits) as http,
        EPaymentClient(Environment.sandbox(sandbox), CREDENTIALS) as direct,
    ):
        while time.monotonic() < deadline:
            await asyncio.sleep(rng.expovariate(1000 / think_ms))
            if time.monotonic() >= deadline:
                return
            if rng.random() < DIRECT_SHARE and direct_pool:
                reference = direct_pool.pop()
                started = time.perf_counter()
                try:
                    await direct.cancel(reference)
                except EPaymentError as error:
                    tally.answers[f"direct {type(error).__name__}"] += 1
                    continue
                tally.direct_cancel_ms.append((time.perf_counter() - started) * 1000)
                tally.direct_done.add(reference)
                continue
            # Chosen at random from the whole register: agents collide on payments now and then.
            reference = rng.choice(team_pool)
            operation = "capture" if rng.random() < CAPTURE_SHARE else "cancel"
            body = {"amount": {"value": 100, "currency": "NOK"}} if operation == "capture" else None
            url = rng.choice(urls)
            tally.touched.add(reference)
            started = time.perf_counter()
            try:
                answer = await http.post(
                    f"{url}/api/v1/merchants/{MSN}/payments/{reference}/{operation}",
                    json=body,
                    headers=headers,
                )
            except httpx.TransportError as error:
                # No answer: whatever happened is in the journal, and the check below counts it.
                tally.answers[f"{operation} {type(error).__name__}"] += 1
                continue
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status_code == 200:
                result = answer.json()
                tally.done_keys[result["idempotency_key"]] = (reference, operation)
                (tally.team_cancel_ms if operation == "cancel" else tally.team_capture_ms).append(elapsed)
                tally.answers[f"{operation} 200"] += 1
            else:
                code = answer.json().get("error", "?")
                tally.answers[f"{operation} {answer.status_code} {code}"] += 1


async def verify(sandbox: str, conninfo: str, tally: Tally) -> dict[str, int]:
    """Every operation against the sandbox's event logs (see the module docstring)."""
    import psycopg

    with psycopg.connect(conninfo) as conn:
        intents = conn.execute("SELECT reference, operation, idempotency_key, status FROM intents").fetchall()
    counts: Counter[str] = Counter(str(status) for *_rest, status in intents)
    references = sorted(tally.touched | tally.direct_done)
    logs: dict[str, list[Any]] = {}
    async with EPaymentClient(Environment.sandbox(sandbox), CREDENTIALS) as client:
        gate = asyncio.Semaphore(16)

        async def read(reference: str) -> None:
            async with gate:
                logs[reference] = await client.get_events(reference)

        await asyncio.gather(*(read(r) for r in references))
    doubled = lost = wrong = 0
    for reference, _operation, key, status in intents:
        events = [e for e in logs.get(str(reference), []) if e.idempotency_key == key]
        if status in ("succeeded", "reconciled"):
            lost += len(events) == 0
            doubled += len(events) > 1
        elif status == "failed":
            wrong += len(events) > 0  # recorded as failed, yet it moved money
    for key, (reference, _operation) in tally.done_keys.items():
        lost += not any(e.idempotency_key == key for e in logs.get(reference, []))
    for events in logs.values():
        doubled += max(0, sum(e.name.value == "CANCELLED" for e in events) - 1)
    for reference in tally.direct_done:
        lost += not any(e.name.value == "CANCELLED" for e in logs[reference])
    return {
        "intents": len(intents),
        "succeeded": counts["succeeded"] + counts["reconciled"],
        "failed": counts["failed"],
        "stuck": counts["pending"],
        "doubled": doubled,
        "lost": lost,
        "failed_but_moved": wrong,
        "logs_read": len(logs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think-ms", type=float, default=1000.0, help="mean pause between an agent's moves")
    args = parser.parse_args()

    cluster = start_cluster()
    processes: list[subprocess.Popen[bytes]] = []
    folder = Path(tempfile.mkdtemp(prefix="team-load-"))
    try:
        conninfo = cluster.new_database("load")
        sandbox_port = free_port()
        sandbox = f"http://127.0.0.1:{sandbox_port}"
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "epay_desktop.sandbox", "--port", str(sandbox_port), "--data", "empty",
                 "--no-rate-limits"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
        wait_up(f"{sandbox}/sandbox/v1/stats", processes[-1], "the sandbox")

        started = time.perf_counter()
        references = asyncio.run(seed(sandbox, args.payments))
        print(
            f"seeded {len(references)} approved payments at the sandbox "
            f"in {time.perf_counter() - started:.0f} s"
        )
        cut = int(len(references) * (1 - DIRECT_SHARE))
        team_pool, direct_pool = references[:cut], references[cut:]

        names = [f"agent{n:02d}" for n in range(args.agents)]
        with PgStore(conninfo) as store:
            store.register.add(MSN, [NewEntry(r, source="load") for r in team_pool])

            async def staff() -> None:
                accounts = TeamAccounts(store)
                for name in names:
                    await accounts.add_agent(name, PASSWORD, Role.AGENT, by="team_load")

            asyncio.run(staff())

        config = folder / "team.toml"
        config.write_text(
            f"database = {conninfo!r}\n\n[[merchants]]\nmsn = {MSN!r}\nenvironment = 'sandbox'\n"
            f"base_url = {sandbox!r}\nclient_id = 'demo-client'\nclient_secret = 'demo-secret'\n"
            "subscription_key = 'demo-subscription-key'\n",
            encoding="utf-8",
        )
        urls = []
        for _ in range(2):
            port = free_port()
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "epay_desktop.team", "serve", "--config", str(config), "--port",
                     str(port)],
                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
            )  # fmt: skip
            urls.append(f"http://127.0.0.1:{port}")
            wait_up(f"{urls[-1]}/api/v1/live/status", processes[-1], "epay-team")

        tally = Tally()
        result = asyncio.run(run_agents(args, names, urls, team_pool, direct_pool, sandbox, tally))
        statuses = [httpx.get(f"{u}/api/v1/live/status", timeout=10).json() for u in urls]
        checked = asyncio.run(verify(sandbox, conninfo, tally))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        cluster.stop()

    report(args, tally, result, statuses, checked)


async def run_agents(
    args: argparse.Namespace,
    names: list[str],
    urls: list[str],
    team_pool: list[str],
    direct_pool: list[str],
    sandbox: str,
    tally: Tally,
) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=60) as http:
        tokens = {}
        for number, name in enumerate(names):
            answer = await http.post(
                f"{urls[number % 2]}/api/v1/login", json={"name": name, "password": PASSWORD}
            )
            tokens[name] = answer.json()["token"]
    stop = asyncio.Event()
    readies = [asyncio.Event() for _ in names]
    watchers = [
        asyncio.create_task(watch(urls[n % 2], tokens[name], name, tally, readies[n], stop))
        for n, name in enumerate(names)
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=60)
    deadline = time.monotonic() + args.seconds
    began = time.perf_counter()
    await asyncio.gather(
        *(
            act(name, tokens[name], urls, team_pool, direct_pool, sandbox, tally, deadline, args.think_ms)
            for name in names
        )
    )
    took = time.perf_counter() - began
    await asyncio.sleep(2.0)  # the last notes reach the streams
    stop.set()
    for task in watchers:
        task.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)
    return {"seconds": took}


def report(
    args: argparse.Namespace,
    tally: Tally,
    result: dict[str, float],
    statuses: list[dict[str, Any]],
    checked: dict[str, int],
) -> None:
    team, direct = tally.team_cancel_ms, tally.direct_cancel_ms
    moves = len(team) + len(tally.team_capture_ms)
    print(
        f"\n{args.agents} agents, {args.payments} payments, {result['seconds']:.0f} s, "
        "2 epay-team instances, "
        f"mean think {args.think_ms:.0f} ms; cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}"
    )
    print(f"answers: {dict(sorted(tally.answers.items()))}")
    print(f"moves confirmed through the team: {moves} ({moves / result['seconds']:.1f}/s)")
    print("\n| measure | through epay-team | straight to the sandbox | ratio |")
    print("|---|---|---|---|")
    for label, share in (("p50", 0.5), ("p99", 0.99)):
        ours, theirs = percentile(team, share), percentile(direct, share)
        print(f"| cancel {label} | {ours:.0f} ms | {theirs:.0f} ms | {ours / theirs:.2f}× |")
    print(f"| cancels measured | {len(team)} | {len(direct)} | |")
    if tally.team_capture_ms:
        print(f"| capture p50 / p99 (team) | {percentile(tally.team_capture_ms, 0.5):.0f} / "
              f"{percentile(tally.team_capture_ms, 0.99):.0f} ms | | |")  # fmt: skip
    prop = tally.propagation_ms
    mean = statistics.fmean(prop) if prop else float("nan")
    met = "met" if prop and percentile(prop, 0.99) < 1000 else "NOT met"
    print(
        f"\npropagation to the other agents ({len(prop)} deliveries of 'done', {tally.notes_received} notes "
        f"in all): p50 {percentile(prop, 0.5):.0f} ms, p99 {percentile(prop, 0.99):.0f} ms, "
        f"max {max(prop, default=float('nan')):.0f} ms, mean {mean:.0f} ms (target p99 < 1000 ms: {met})"
    )
    print(f"streams ended early: {tally.stream_ends}; pollers: {[s.get('polling') for s in statuses]}")
    c = checked
    print(
        f"checked against the sandbox's event logs ({c['logs_read']} payments): intents {c['intents']}, "
        f"done {c['succeeded']}, failed {c['failed']}, stuck {c['stuck']}, doubled {c['doubled']}, "
        f"lost {c['lost']}, failed-but-moved {c['failed_but_moved']}"
    )


if __name__ == "__main__":
    main()
