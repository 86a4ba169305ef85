"""Our client against the official Vipps MobilePay TypeScript SDK (``@vippsmobilepay/sdk`` on npm), both
talking to the same standalone sandbox (uvicorn on 127.0.0.1, its own process). Goal: ours at most
1.0x the SDK in every column.

    uv run python benchmarks/peer_sdk.py [--calls 400] [--flows 120] [--rounds 5]

Columns (each a time per call or per flow; the ratio is ours / SDK):

- GET payment, one at a time;
- GET payment, 16 at a time (time per call = block time / calls);
- create -> approve -> capture -> cancel, one flow at a time, and 16 flows at a time.

Ours includes what the app does around a call: input checks, token cache, parsing into domain records, and
for the flows the journal: each capture and cancel is an intent committed durably to a SQLite register,
its first attempt counted in the same commit, before it is sent, and finished after, by the desk's own
``SendEngine.begin`` and ``SendEngine.finish``: the intent on the loop's thread while the register's disk
has proven fast (``store/commit_pace.py``), else in the register's next group commit, made by its own
committing thread for every write queued meanwhile (``Database.write_durably_soon``: no thread hop per
write); its confirmed outcome, a commit that does not wait for the disk, written at once on the loop's
thread when that cannot wait for anything (else in that group commit too). What
``SendEngine.begin_and_send`` does after a confirmed call (reading the payment and its event log again for
the window) is left out, as the SDK's flow reads nothing either. The SDK returns the decoded JSON and
keeps nothing. At the end it prints how many intents were committed on the loop's thread, what a sync to
disk cost beside the register, and how many requests each side's flow made, as the sandbox counted them
(the same four, token requests included).

The SDK is installed by this script with npm (node 20+) into a folder outside the repository
(``$EPAY_BENCH_CACHE`` or ``~/.cache/epay-desktop-bench``), and runs in one long-lived node process that
this script drives over stdin/stdout, so both sides keep their connections and warm code between
blocks. The SDK has the API's host built in (``https://apitest.vipps.no`` in test mode); the driver
swaps that prefix for the sandbox's URL in the global ``Request`` constructor (one string compare and
slice per request), nothing else. Blocks of the two alternate, so drift on a noisy machine hits both
alike; medians are printed. Absolute times mean little on these machines: read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from epay_desktop.api import Credentials, Environment, EPaymentClient, new_idempotency_key
from epay_desktop.api.client import SYSTEM_NAME, SYSTEM_VERSION
from epay_desktop.domain import Currency, Money
from epay_desktop.services.engine import SendEngine
from epay_desktop.store import Database, Intent, IntentRequest, IntentStatus, Journal, Operation, Store

SDK_PACKAGE = "@vippsmobilepay/sdk@2"
MSN = "123456"
CREDENTIALS = Credentials("demo-client", "demo-secret", "demo-subscription-key", MSN)
PHONE = "4791234567"
CONCURRENCY = 16

DRIVER = r"""
import { Client } from "@vippsmobilepay/sdk";
import readline from "node:readline";

const SANDBOX = process.env.SANDBOX_URL;
const BUILT_IN = "https://apitest.vipps.no";
const NativeRequest = globalThis.Request;
globalThis.Request = class extends NativeRequest {
  constructor(input, init) {
    if (typeof input === "string" && input.startsWith(BUILT_IN)) {
      input = SANDBOX + input.slice(BUILT_IN.length);
    }
    super(input, init);
  }
};

const client = Client({
  merchantSerialNumber: process.env.MSN,
  subscriptionKey: process.env.SUBSCRIPTION_KEY,
  useTestMode: true,
  systemName: process.env.SYSTEM_NAME,
  systemVersion: process.env.SYSTEM_VERSION,
});
const got = await client.auth.getToken(process.env.CLIENT_ID, process.env.CLIENT_SECRET);
if (!got.ok) throw new Error("no token: " + JSON.stringify(got.error));
const token = got.data.access_token;

function must(result, what) {
  if (!result.ok) throw new Error(what + " failed: " + JSON.stringify(result.error));
  return result.data;
}

async function pool(count, concurrency, one) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await one(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function flow(reference) {
  must(await client.payment.create(token, {
    amount: { currency: "NOK", value: 10000 },
    paymentMethod: { type: "WALLET" },
    reference,
    userFlow: "PUSH_MESSAGE",
    customer: { phoneNumber: process.env.PHONE },
    paymentDescription: "Benchmark",
  }), "create");
  must(await client.payment.forceApprove(token, reference, {}), "approve");
  must(await client.payment.capture(token, reference, {
    modificationAmount: { currency: "NOK", value: 4000 },
  }), "capture");
  must(await client.payment.cancel(token, reference), "cancel");
}

const ops = {
  async get({ count, concurrency, reference }) {
    await pool(count, concurrency, async () => {
      const data = must(await client.payment.info(token, reference), "info");
      if (data.reference !== reference) throw new Error("wrong payment");
    });
  },
  async flows({ count, concurrency, prefix }) {
    await pool(count, concurrency, (i) => flow(`${prefix}-${i}`));
  },
};

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = JSON.parse(line);
  const start = process.hrtime.bigint();
  await ops[command.op](command);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(JSON.stringify({ seconds }) + "\n");
}
"""


def cache_folder() -> Path:
    return Path(os.environ.get("EPAY_BENCH_CACHE") or Path.home() / ".cache" / "epay-desktop-bench")


def install_sdk() -> tuple[Path, str]:
    """npm-install the SDK into the cache folder (once) and write the driver beside it."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SystemExit("node and npm are needed (node 20 or newer)")
    folder = cache_folder() / "peer-sdk"
    folder.mkdir(parents=True, exist_ok=True)
    package = folder / "node_modules" / "@vippsmobilepay" / "sdk" / "package.json"
    if not package.exists():
        (folder / "package.json").write_text('{"private": true, "type": "module"}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", SDK_PACKAGE], cwd=folder, check=True)
    version = json.loads(package.read_text())["version"]
    (folder / "driver.mjs").write_text(DRIVER)
    return folder, version


@contextlib.contextmanager
def sandbox_process() -> Iterator[tuple[str, int]]:
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
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/sandbox/v1/stats", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the sandbox did not start: {process.stderr!r}") from None
                time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


class SdkDriver:
    """The node process running the SDK: one JSON command a line in, its elapsed seconds out."""

    def __init__(self, folder: Path, sandbox_url: str) -> None:
        env = dict(
            os.environ,
            SANDBOX_URL=sandbox_url,
            MSN=MSN,
            SUBSCRIPTION_KEY=CREDENTIALS.subscription_key,
            CLIENT_ID=CREDENTIALS.client_id,
            CLIENT_SECRET=CREDENTIALS.client_secret,
            SYSTEM_NAME=SYSTEM_NAME,
            SYSTEM_VERSION=SYSTEM_VERSION,
            PHONE=PHONE,
        )
        self.process = subprocess.Popen(
            ["node", "driver.mjs"],
            cwd=folder,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, **command: Any) -> float:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the SDK driver stopped ({self.process.wait()}) during {command}")
        return float(json.loads(line)["seconds"])

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()


class CountingJournal(Journal):
    """The register's journal, counting the intents committed on the loop's thread."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.begun_at_once = 0
        self.begun = 0

    def begin_at_once(self, request: IntentRequest, *, attempting: bool = False) -> Intent | None:
        self.begun += 1
        intent = super().begin_at_once(request, attempting=attempting)
        self.begun_at_once += intent is not None
        return intent


class NoSnapshots:
    """The engine's ``Snapshots``: the flows here read nothing after a confirmed call."""

    async def keep(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the flows read nothing back")

    async def read_again(self, reference: str, source: str) -> None:
        raise AssertionError("the flows expect no refusal")


class Ours:
    """Our side: the app's client, and for the flows the journal in a real register file."""

    def __init__(self, client: EPaymentClient, store: Store) -> None:
        self.client = client
        self.journal = CountingJournal(store.db)
        self.engine = SendEngine(self.journal, client, NoSnapshots(), profile="Benchmark", operator="bench")

    async def pool(self, count: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
        indexes = iter(range(count))

        async def worker() -> None:
            for i in indexes:
                await one(i)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start

    async def get(self, count: int, concurrency: int, reference: str) -> float:
        async def one(_: int) -> None:
            payment = await self.client.get_payment(reference)
            assert payment.reference == reference

        return await self.pool(count, concurrency, one)

    async def journaled(self, operation: Operation, reference: str, amount: Money | None) -> None:
        # The engine's own begin and finish (``SendEngine.begin_and_send`` without the reads after it,
        # which the SDK's flow does not make either): the intent on this thread when the journal can
        # commit it durably at once (the disk has proven fast, nothing to wait for), else on a worker
        # thread; its first attempt counted in the same commit.
        intent = await self.engine.begin(operation, reference, amount, attempting=True)
        key = intent.idempotency_key
        if operation is Operation.CANCEL:
            await self.client.cancel(reference, idempotency_key=key)
        else:
            assert amount is not None
            await self.client.capture(reference, amount, idempotency_key=key)
        await self.engine.finish(intent, IntentStatus.SUCCEEDED, "Done.")

    async def approved(self, reference: str) -> None:
        """A new payment, approved by the sandbox's customer: the flows' first two requests."""
        await self.client.create_payment(
            reference=reference,
            amount=Money(10000, Currency.NOK),
            description="Benchmark",
            phone_number=PHONE,
            idempotency_key=new_idempotency_key(),
        )
        await self.client.force_approve(reference)

    async def flow(self, reference: str) -> None:
        await self.approved(reference)
        await self.journaled(Operation.CAPTURE, reference, Money(4000, Currency.NOK))
        await self.journaled(Operation.CANCEL, reference, None)

    async def flows(self, count: int, concurrency: int, prefix: str) -> float:
        return await self.pool(count, concurrency, lambda i: self.flow(f"{prefix}-{i}"))

    async def bare_flow(self, reference: str) -> None:
        """The same four requests without the journal (each money call with a fresh key): what the
        journal adds, measured beside it (``--attribute``); not the app's way."""
        await self.approved(reference)
        await self.client.capture(reference, Money(4000, Currency.NOK), idempotency_key=new_idempotency_key())
        await self.client.cancel(reference, idempotency_key=new_idempotency_key())

    async def bare_flows(self, count: int, concurrency: int, prefix: str) -> float:
        return await self.pool(count, concurrency, lambda i: self.bare_flow(f"{prefix}-{i}"))


async def run(args: argparse.Namespace) -> None:
    folder, version = install_sdk()
    with sandbox_process() as (url, _pid), tempfile.TemporaryDirectory(prefix="epay-peer-") as tmp:
        store = await asyncio.to_thread(Store, Path(tmp) / "register.sqlite3")
        # ``--attribute``: the same journal in a register on a RAM disk, where a sync to disk returns at
        # once: the flow without waiting for the disk (not the app's way; it shows the disk's share).
        ram = tempfile.TemporaryDirectory(prefix="epay-peer-ram-", dir="/dev/shm") if args.attribute else None
        in_ram = await asyncio.to_thread(Store, Path(ram.name) / "register.sqlite3") if ram else None
        sdk = SdkDriver(folder, url)
        try:
            async with EPaymentClient(Environment.sandbox(url), CREDENTIALS) as client:
                ours = Ours(client, store)
                ours_in_ram = Ours(client, in_ram) if in_ram else None
                reference = "peer-get-target"
                await ours.flows(1, 1, "peer-warm")
                await client.create_payment(
                    reference=reference,
                    amount=Money(10000, Currency.NOK),
                    description="Benchmark",
                    phone_number=PHONE,
                )
                columns: dict[str, tuple[list[float], list[float], int]] = {}

                def column(name: str, count: int) -> tuple[list[float], list[float], int]:
                    return columns.setdefault(name, ([], [], count))

                # The CPU time each side's own process spent per call or flow (ours: every thread of
                # this process, the journal's included), less disturbed by the other processes of a
                # shared machine than the wall-clock times.
                cpus: dict[str, tuple[list[float], list[float]]] = {}

                def cpu_column(name: str) -> tuple[list[float], list[float]]:
                    return cpus.setdefault(name, ([], []))

                # What each side's flow sends, counted by the sandbox: the same requests, or a cost the
                # other does not pay.
                sent = {
                    "SDK": requests_per_flow(
                        url, lambda: sdk.run(op="flows", count=4, concurrency=1, prefix="sdk-count")
                    ),
                    "ours": await requests_per_flow_async(url, lambda: ours.flows(4, 1, "ours-count")),
                }
                fsyncs = [fsync_cost(Path(tmp))]
                # Warm-up of both (connections, JIT, caches), not counted.
                sdk.run(op="get", count=50, concurrency=CONCURRENCY, reference=reference)
                await ours.get(50, CONCURRENCY, reference)
                sdk.run(op="flows", count=16, concurrency=CONCURRENCY, prefix="sdk-warm")
                await ours.flows(16, CONCURRENCY, "ours-warm")
                if ours_in_ram is not None:
                    await ours.bare_flows(16, CONCURRENCY, "bare-warm")
                    await ours_in_ram.flows(16, CONCURRENCY, "ram-warm")
                # ``--attribute``: per flow column, ours without the journal and ours with the register
                # in RAM, alternated with the two sides above (same blocks, same order rule).
                attributed: dict[str, dict[str, list[float]]] = {}
                # Per flow column: intents committed on the loop's thread, of all begun in its blocks.
                at_once: dict[str, list[int]] = {}
                for r in range(args.rounds):
                    for index, (name, count, concurrency) in enumerate(
                        (
                            ("GET payment, sequential", args.calls, 1),
                            (f"GET payment, {CONCURRENCY} at a time", args.calls, CONCURRENCY),
                            ("create>approve>capture>cancel, sequential", args.flows // 4, 1),
                            (
                                f"create>approve>capture>cancel, {CONCURRENCY} at a time",
                                args.flows,
                                CONCURRENCY,
                            ),
                        )
                    ):
                        sdk_times, our_times, _ = column(name, count)
                        flows = name.startswith("create")
                        # Alternate which goes first, so neither always runs right after the other.
                        order = ("sdk", "ours") if r % 2 == 0 else ("ours", "sdk")
                        for side in order:
                            cpu_before = (
                                process_cpu(sdk.process.pid) if side == "sdk" else time.process_time()
                            )
                            if side == "sdk":
                                if flows:
                                    seconds = sdk.run(
                                        op="flows",
                                        count=count,
                                        concurrency=concurrency,
                                        prefix=f"sdk-{r}-{index}",
                                    )
                                else:
                                    seconds = sdk.run(
                                        op="get", count=count, concurrency=concurrency, reference=reference
                                    )
                                sdk_times.append(seconds / count)
                                cpu_column(name)[0].append(
                                    (process_cpu(sdk.process.pid) - cpu_before) / count
                                )
                            else:
                                if flows:
                                    counted = (ours.journal.begun_at_once, ours.journal.begun)
                                    seconds = await ours.flows(count, concurrency, f"ours-{r}-{index}")
                                    split = at_once.setdefault(name, [0, 0])
                                    split[0] += ours.journal.begun_at_once - counted[0]
                                    split[1] += ours.journal.begun - counted[1]
                                else:
                                    seconds = await ours.get(count, concurrency, reference)
                                our_times.append(seconds / count)
                                cpu_column(name)[1].append((time.process_time() - cpu_before) / count)
                        if flows and ours_in_ram is not None:
                            sides = (
                                ("no journal", "bare", ours.bare_flows),
                                ("journal in RAM (no wait for the disk)", "ram", ours_in_ram.flows),
                            )
                            for label, tag, run_flows in sides if r % 2 == 0 else sides[::-1]:
                                seconds = await run_flows(count, concurrency, f"{tag}-{r}-{index}")
                                attributed.setdefault(name, {}).setdefault(label, []).append(seconds / count)
                fsyncs.append(fsync_cost(Path(tmp)))
        finally:
            sdk.close()
            await asyncio.to_thread(store.close)
            if in_ram is not None:
                await asyncio.to_thread(in_ram.close)
            if ram is not None:
                ram.cleanup()

    print(f"Ours (transport: {transport_name()}) vs @vippsmobilepay/sdk {version} (node {node_version()}),")
    print(f"same sandbox over HTTP at {url}; medians of {args.rounds} alternating blocks; goal ours <= 1.00x")
    print(f"  {'measure':52s} {'ours':>10s} {'SDK':>10s} {'ratio':>7s}")
    worst = 0.0
    for name, (sdk_times, our_times, count) in columns.items():
        s, o = statistics.median(sdk_times), statistics.median(our_times)
        unit = "flow" if name.startswith("create") else "call"
        worst = max(worst, o / s)
        print(
            f"  {name + f' ({count}/block)':52s} {o * 1e3:7.3f} ms {s * 1e3:7.3f} ms {o / s:5.2f}x per {unit}"
        )
    print("  client process CPU time (not a goal; what each side's own process spent):")
    for name, (sdk_cpu, our_cpu) in cpus.items():
        s, o = statistics.median(sdk_cpu), statistics.median(our_cpu)
        unit = "flow" if name.startswith("create") else "call"
        print(f"  {name:52s} {o * 1e3:7.3f} ms {s * 1e3:7.3f} ms {o / s:5.2f}x per {unit}")
    print(f"worst ratio {worst:.2f}x: goal {'met' if worst <= 1.0 else 'MISSED'}")
    if attributed:
        print("  where ours' flow time goes (--attribute; medians of the same alternating blocks, / SDK):")
        for name, by_label in attributed.items():
            s = statistics.median(columns[name][0])
            for label, times in by_label.items():
                o = statistics.median(times)
                what = f"flows, {name.rsplit(', ', 1)[1]}, {label}"
                print(f"  {what:52s} {o * 1e3:7.3f} ms {s * 1e3:7.3f} ms {o / s:5.2f}x per flow")
    print(
        f"a sync to disk (write + fdatasync of 20 KB, as an intent's commit) beside the register: median "
        f"{fsyncs[0] * 1e3:.3f} ms before the blocks, {fsyncs[1] * 1e3:.3f} ms after (the SDK keeps nothing)"
    )
    print(
        f"intents committed on the loop's thread (the disk proven fast, nothing to wait for): "
        f"{ours.journal.begun_at_once} of {ours.journal.begun}; the rest in the register's group commit "
        "(its committing thread, or a thread already committing)"
    )
    for name, (done_at_once, begun) in at_once.items():
        print(f"  {name}: {done_at_once} of {begun}")
    print(
        f"requests per flow at the sandbox (token requests included): ours {sent['ours']:g}, "
        f"SDK {sent['SDK']:g}"
    )
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (read the ratios)")


CHOSEN: list[str] = []  # the transport --transport put in place of the app's


def transport_name() -> str:
    if CHOSEN:
        return CHOSEN[0]
    try:
        from epay_desktop.api.transport import TRANSPORT_NAME
    except ImportError:
        return "httpx's own (httpcore)"
    return TRANSPORT_NAME


def fsync_cost(folder: Path, samples: int = 30) -> float:
    """Median seconds to write 20 KB into a file in ``folder`` and wait for the disk (``fdatasync``):
    what an intent's durable commit waits for on this machine, which varies a lot on a shared one."""
    path = folder / "fsync-probe"
    block = os.urandom(20 * 1024)
    times = []
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        for _ in range(samples):
            os.pwrite(fd, block, 0)
            start = time.perf_counter()
            os.fdatasync(fd)
            times.append(time.perf_counter() - start)
    finally:
        os.close(fd)
        path.unlink()
    return statistics.median(times)


def sandbox_requests(url: str) -> int:
    """How many API requests the sandbox has answered (tokens included; its own controls not)."""
    return int(httpx.get(url + "/sandbox/v1/stats", timeout=5).json()["requests"])


def requests_per_flow(url: str, run_four: Callable[[], object]) -> float:
    before = sandbox_requests(url)
    run_four()
    return (sandbox_requests(url) - before) / 4


async def requests_per_flow_async(url: str, run_four: Callable[[], Awaitable[object]]) -> float:
    before = sandbox_requests(url)
    await run_four()
    return (sandbox_requests(url) - before) / 4


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def node_version() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400, help="GET calls per block")
    parser.add_argument(
        "--flows", type=int, default=120, help="flows per concurrent block (a quarter sequential)"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--attribute",
        action="store_true",
        help="also run each flow block without the journal, and with the register on a RAM disk "
        "(/dev/shm), to show what the journal and the wait for the disk add",
    )
    parser.add_argument(
        "--transport",
        choices=("app", "httpx"),
        default="app",
        help="app: the client's own choice (api/transport.py); httpx: httpx's own pool (httpcore), "
        "with the same TLS context, to re-measure that choice",
    )
    args = parser.parse_args()
    if args.transport == "httpx":
        use_httpx_pool()
    asyncio.run(run(args))


def use_httpx_pool() -> None:
    """Our client on httpx's own transport (the same ``ssl.SSLContext``, verification on)."""
    import httpx

    from epay_desktop.api import session

    def httpx_pool(ssl_context: ssl.SSLContext) -> httpx.AsyncBaseTransport:
        return httpx.AsyncHTTPTransport(verify=ssl_context)

    session.default_transport = httpx_pool  # type: ignore[assignment]
    import sniffio

    CHOSEN.append(f"httpx's own (httpcore), sniffio {sniffio.__version__} installed")


if __name__ == "__main__":
    main()
