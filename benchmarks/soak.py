"""Soak test of "exactly once": many trials of captures and refunds through the window's desk and the
command line, against the standalone sandbox over real HTTP, with faults and kills; then every
journal and the sandbox's event logs are compared.

    uv run python benchmarks/soak.py [--trials 1000] [--seed 1]

What runs, all on 127.0.0.1:
- ``epay-sandbox --state FILE`` in a subprocess, with injected 500/503/429 answers and answers dropped
  after the effect was committed; it is killed (SIGKILL) and restarted on the same port now and then;
- workers, each a subprocess: two desks on ONE register (two copies of the app, each on the app's event
  loop: asyncio on Qt's, offscreen) and two ``epay`` runners sharing one CLI journal (``cli.main(argv)``,
  as typed). A trial: a new payment, approved, then a capture and (every other trial) a refund of part
  of it. Workers are killed (SIGKILL) at random; a restarted worker first does what a person would:
  recovery (desk: ``recover_pending``, then resume or abandon what needs a decision; CLI: the same
  command again), and runs the interrupted operation again as an operator re-running it would
  (refused as a repeat, never sent twice);
- at the end, with the faults off: a last recovery of every journal, then the check.

It prints trials, doubled (an operation whose effect is in the event log more than once), lost (a
success recorded with no effect in the log, or "failed, nothing moved" with an effect), stuck (an
intent still without an outcome after the last recovery), wrong amounts (an effect of another amount
than asked), and exits 1 if any is not zero. Waits the client would honour (Retry-After: 1 s) are
shortened in the desk workers so the run stays minutes, not hours; nothing else is changed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
MSN = "123456"
CREDENTIALS = {
    "client_id": "demo-client",
    "client_secret": "demo-secret",
    "Ocp-Apim-Subscription-Key": "demo-subscription-key",
}
FAULTS = {"latencyMs": 0, "errorRates": {"500": 0.04, "503": 0.01, "429": 0.01}}


# --- the ledger: what each worker meant to do, written before it does it ------------------------------


def note(ledger: Path, **entry: Any) -> None:
    with ledger.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_ledger(ledger: Path) -> list[dict[str, Any]]:
    if not ledger.exists():
        return []
    entries = []
    for line in ledger.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):  # a line cut short by a kill
            entries.append(json.loads(line))
    return entries


# --- workers ------------------------------------------------------------------------------------------


def _fast_retry() -> Any:
    from epay_desktop.api import RetryPolicy

    async def short_sleep(seconds: float) -> None:
        await asyncio.sleep(min(seconds, 0.05))

    return RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, sleep=short_sleep)


async def desk_worker(args: argparse.Namespace) -> None:
    from epay_desktop.api import Credentials, Environment, EPaymentClient, EPaymentError, SandboxControls
    from epay_desktop.domain import Currency, Money
    from epay_desktop.services import DeskError, PaymentDesk, Profile, ProfileKind

    rng = random.Random(f"{args.seed}-{args.name}-{time.time_ns()}")
    ledger = Path(args.ledger)
    profile = Profile("Soak", ProfileKind.CUSTOM, MSN, "demo-client", args.base_url)
    credentials = Credentials("demo-client", "demo-secret", "demo-subscription-key", MSN)
    client = EPaymentClient(Environment.sandbox(args.base_url), credentials, retry=_fast_retry())
    controls = SandboxControls(args.base_url)
    desk = await PaymentDesk.open(profile, client, Path(args.register), operator=f"soak-{args.name}")
    nok = Currency.NOK

    async def attempt(entry: dict[str, Any]) -> str:
        amount = Money(entry["amount"], nok)
        try:
            if entry["op"] == "capture":
                await desk.capture(entry["ref"], amount)
            else:
                await desk.refund(entry["ref"], amount)
        except (EPaymentError, DeskError) as error:
            return type(error).__name__
        return "ok"

    entries = read_ledger(ledger)
    # As a person would after a crash: the recovery, and what needs a decision resumed or abandoned.
    with contextlib.suppress(EPaymentError, DeskError):
        for result in await desk.recover_pending():
            if result.needs_decision or not result.finished:
                with contextlib.suppress(EPaymentError, DeskError):
                    if rng.random() < 0.5:
                        await desk.abandon_intent(result.intent_id)
                    else:
                        await desk.resume_intent(result.intent_id)
    done = {e["done"] for e in entries if "done" in e}
    for entry in [e for e in entries if "op" in e and e["id"] not in done][-1:]:
        note(ledger, done=entry["id"], result="rerun:" + await attempt(entry))  # the operator runs it again
    trials = len({e["trial"] for e in entries if "trial" in e})
    while trials < args.trials:
        trial = f"{args.name}-{trials}"
        try:
            tracked = await desk.create_payment(Money(10_000, nok), "Soak", "4791234567")
            await controls.customer(MSN, tracked.reference, "approve")
        except (EPaymentError, DeskError):
            note(ledger, trial=trial, ref=None)
            trials += 1
            continue
        note(ledger, trial=trial, ref=tracked.reference)
        trials += 1
        captured = rng.randrange(100, 9_000)
        ops = [("capture", captured)] + (
            [("refund", rng.randrange(50, captured))] if rng.random() < 0.5 else []
        )
        for index, (op, value) in enumerate(ops):
            entry = {"id": f"{trial}-{index}", "ref": tracked.reference, "op": op, "amount": value}
            note(ledger, **entry)
            result = await attempt(entry)
            note(ledger, done=entry["id"], result=result)
            if result != "ok":
                break
    await desk.aclose()
    await controls.aclose()
    await client.aclose()


def cli_worker(args: argparse.Namespace) -> None:
    from epay_desktop.cli import main

    rng = random.Random(f"{args.seed}-{args.name}-{time.time_ns()}")
    ledger = Path(args.ledger)
    base = ["--base-url", args.base_url]

    def epay(*argv: str) -> int:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return main([*base, *argv], stdin=io.StringIO(""))

    def attempt(entry: dict[str, Any]) -> str:
        amount = f"{entry['amount'] / 100:.2f}"
        for _ in range(3):  # exit 3 (unknown): the same command again resumes it with its key
            code = epay(entry["op"], entry["ref"], amount)
            if code != 3:
                return {0: "ok", 1: "refused", 2: "usage", 4: "network"}.get(code, str(code))
        return "unknown"

    entries = read_ledger(ledger)
    done = {e["done"] for e in entries if "done" in e}
    for entry in [e for e in entries if "op" in e and e["id"] not in done][-1:]:
        note(ledger, done=entry["id"], result="rerun:" + attempt(entry))
    trials = len({e["trial"] for e in entries if "trial" in e})
    while trials < args.trials:
        trial = f"{args.name}-{trials}"
        reference = f"soak-{args.name}-{trials:05d}-{rng.randrange(10**6):06d}"
        trials += 1
        if (
            epay("create", "100", "-d", "Soak", "--reference", reference) != 0
            or epay("approve", reference) != 0
        ):
            note(ledger, trial=trial, ref=None)
            continue
        note(ledger, trial=trial, ref=reference)
        captured = rng.randrange(100, 9_000)
        ops = [("capture", captured)] + (
            [("refund", rng.randrange(50, captured))] if rng.random() < 0.5 else []
        )
        for index, (op, value) in enumerate(ops):
            entry = {"id": f"{trial}-{index}", "ref": reference, "op": op, "amount": value}
            note(ledger, **entry)
            result = attempt(entry)
            note(ledger, done=entry["id"], result=result)
            if result != "ok":
                break


# --- the orchestra --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env() -> dict[str, str]:
    """The environment of the sandbox and the workers: run from bytecode, as installed (a checkout may
    set PYTHONDONTWRITEBYTECODE, and every restart after a kill would compile the app again)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


class Sandbox:
    def __init__(self, state: Path, port: int) -> None:
        self.state, self.port = state, port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        command = [sys.executable, "-m", "epay_desktop.sandbox", "--port", str(self.port), "--data", "empty"]
        command += ["--state", str(self.state), "--no-rate-limits"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=child_env()
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(self.url + "/sandbox/v1/faults", timeout=1)
                return
            time.sleep(0.05)
        raise RuntimeError("the sandbox did not start")

    def faults(self, drop: int = 0, on: bool = True) -> None:
        body = dict(FAULTS) if on else {"latencyMs": 0, "errorRates": {"500": 0, "503": 0, "429": 0}}
        with contextlib.suppress(httpx.HTTPError):
            httpx.put(self.url + "/sandbox/v1/faults", json=body | {"dropAfterCommit": drop}, timeout=5)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Worker:
    def __init__(
        self, name: str, kind: str, folder: Path, register: Path, home: Path, url: str, args: Any
    ) -> None:
        self.name, self.kind = name, kind
        self.ledger = folder / f"{name}.jsonl"
        self.command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "worker",
            kind,
            "--name",
            name,
            "--ledger",
            str(self.ledger),
            "--register",
            str(register),
            "--base-url",
            url,
            "--trials",
            str(args.quota),
            "--seed",
            str(args.seed),
        ]
        self.env = child_env() | {"EPAY_DESKTOP_HOME": str(home), "PYTHONPATH": str(ROOT)}
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0
        self.quota = args.quota

    def trials(self) -> int:
        return len({e["trial"] for e in read_ledger(self.ledger) if "trial" in e})

    def finished(self) -> bool:
        return self.process is not None and self.process.poll() == 0 and self.trials() >= self.quota

    def ensure_running(self) -> None:
        if self.process is None or (self.process.poll() is not None and not self.finished()):
            self.process = subprocess.Popen(self.command, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.kills += 1


def orchestrate(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="epay-soak-") as tmp:
        folder = Path(tmp)
        sandbox = Sandbox(folder / "sandbox.sqlite3", free_port())
        sandbox.start()
        sandbox.faults()
        register = folder / "register.sqlite3"
        home = folder / "home"
        per_kind = max(1, args.trials // 4)
        args.quota = per_kind
        workers = [
            Worker("desk-a", "desk", folder, register, home, sandbox.url, args),
            Worker("desk-b", "desk", folder, register, home, sandbox.url, args),  # same register
            Worker("cli-a", "cli", folder, register, home, sandbox.url, args),
            Worker("cli-b", "cli", folder, register, home, sandbox.url, args),  # same CLI journal
        ]
        started = time.monotonic()
        try:
            while not all(w.finished() for w in workers):
                for worker in workers:
                    worker.ensure_running()
                time.sleep(rng.uniform(0.2, 1.2))
                roll = rng.random()
                if roll < 0.35:
                    rng.choice(workers).kill()
                elif roll < 0.45:
                    sandbox.kill()
                    sandbox.start()
                    sandbox.faults()
                elif roll < 0.75:
                    sandbox.faults(drop=rng.randint(1, 2))
                if time.monotonic() - started > args.limit:
                    print(f"time limit of {args.limit} s reached", file=sys.stderr)
                    break
            for worker in workers:
                if worker.process is not None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        worker.process.wait(120)
                    worker.kill()
            sandbox.faults(on=False)
            final_recovery(folder, register, home, sandbox.url)
            figures = check(workers, register, home, sandbox.url)
        finally:
            for worker in workers:
                worker.kill()
            sandbox.stop()
        elapsed = time.monotonic() - started
        figures["worker kills"] = sum(w.kills for w in workers)
        figures["sandbox kills"] = sandbox.kills
        print(f"soak: {elapsed:.0f} s, seed {args.seed}")
        for name, value in figures.items():
            print(f"  {name:<14} {value}")
        bad = figures["doubled"] + figures["lost"] + figures["stuck"] + figures["wrong amounts"]
        return 1 if bad or figures["trials"] < args.trials else 0


def final_recovery(folder: Path, register: Path, home: Path, url: str) -> None:
    """With the faults off, finish every intent left without an outcome, as a person would."""
    env = child_env() | {"EPAY_DESKTOP_HOME": str(home), "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "finish",
            "--register",
            str(register),
            "--base-url",
            url,
        ],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=600,
    )


async def finish_everything(args: argparse.Namespace) -> None:
    from epay_desktop.api import Credentials, Environment, EPaymentClient, EPaymentError
    from epay_desktop.cli import main
    from epay_desktop.services import DeskError, PaymentDesk, Profile, ProfileKind
    from epay_desktop.services.elsewhere import cli_journal_path
    from epay_desktop.store import Store

    profile = Profile("Soak", ProfileKind.CUSTOM, MSN, "demo-client", args.base_url)
    credentials = Credentials("demo-client", "demo-secret", "demo-subscription-key", MSN)
    async with EPaymentClient(Environment.sandbox(args.base_url), credentials, retry=_fast_retry()) as client:
        desk = await PaymentDesk.open(profile, client, Path(args.register), operator="soak-final")
        for _ in range(3):
            for result in await desk.recover_pending():
                if not result.finished:
                    with contextlib.suppress(EPaymentError, DeskError):
                        await desk.resume_intent(result.intent_id)
        await desk.aclose()
    path = cli_journal_path()
    if path.exists():
        with Store(path) as store:
            pending = store.journal.pending()
        for intent in pending:
            argv = ["--base-url", args.base_url, intent.operation.value, intent.reference]
            if intent.amount is not None:
                argv.append(f"{intent.amount.value / 100:.2f}")
            argv += ["--key", intent.idempotency_key, "--resend"]
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                await asyncio.to_thread(main, argv, stdin=io.StringIO(""))


def check(workers: list[Worker], register: Path, home: Path, url: str) -> dict[str, int]:
    from epay_desktop.store import IntentStatus, Store

    intents = []
    with Store(register) as store:
        intents += store.journal.all(limit=1_000_000)
    cli_journal = home / "data" / "cli-journal.sqlite3"
    if cli_journal.exists():
        with Store(cli_journal) as store:
            intents += store.journal.all(limit=1_000_000)
    asked: dict[str, dict[str, int]] = {}
    trials = 0
    for worker in workers:
        for entry in read_ledger(worker.ledger):
            if "trial" in entry:
                trials += 1
            if "op" in entry:
                asked.setdefault(entry["ref"], {})[entry["op"]] = entry["amount"]
    with httpx.Client(base_url=url, timeout=30) as http:
        token = http.post("/accessToken/get", headers=CREDENTIALS).json()["access_token"]
        headers = {
            "Authorization": f"Bearer {token}",
            "Ocp-Apim-Subscription-Key": CREDENTIALS["Ocp-Apim-Subscription-Key"],
            "Merchant-Serial-Number": MSN,
        }
        events = {
            ref: http.get(f"/epayment/v1/payments/{ref}/events", headers=headers).json() for ref in asked
        }
    figures = {
        "trials": trials,
        "operations": sum(len(ops) for ops in asked.values()),
        "doubled": 0,
        "lost": 0,
    }
    figures |= {"stuck": 0, "wrong amounts": 0}
    name_of = {"capture": "CAPTURED", "refund": "REFUNDED"}
    for ref, ops in asked.items():
        for op, amount in ops.items():
            effects = [e for e in events[ref] if e["name"] == name_of[op] and e.get("success", True)]
            if len(effects) > 1:
                figures["doubled"] += 1
            figures["wrong amounts"] += sum(1 for e in effects if e["amount"]["value"] != amount)
    for intent in intents:
        if intent.status is IntentStatus.PENDING:
            figures["stuck"] += 1
            continue
        keyed = [
            e for e in events.get(intent.reference, []) if e.get("idempotencyKey") == intent.idempotency_key
        ]
        moved = [e for e in keyed if e["name"] in ("CAPTURED", "REFUNDED", "CANCELLED")]
        confirmed = intent.status in (IntentStatus.SUCCEEDED, IntentStatus.RECONCILED)
        if (confirmed and not moved) or (not confirmed and moved):
            figures["lost"] += 1
    return figures


# --- entry points ----------------------------------------------------------------------------------------


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="role")
    run = sub.add_parser("run")
    for target in (parser, run):
        target.add_argument("--trials", type=int, default=1000)
        target.add_argument("--seed", type=int, default=1)
        target.add_argument("--limit", type=float, default=1800.0, help="seconds before giving up")
    worker = sub.add_parser("worker")
    worker.add_argument("kind", choices=("desk", "cli"))
    finish = sub.add_parser("finish")
    for target in (worker, finish):
        target.add_argument("--register", required=True)
        target.add_argument("--base-url", required=True)
    worker.add_argument("--name", required=True)
    worker.add_argument("--ledger", required=True)
    worker.add_argument("--trials", type=int, required=True)
    worker.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    import logging

    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def on_the_apps_loop(main: Any) -> None:
    """Run a desk worker on the event loop the app runs on (``ui/aio.run_app``: asyncio on Qt's event
    loop, its timers Qt's), offscreen: the money path is soaked on the loop it runs on in the window."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from epay_desktop.ui.aio import run_app

    app = QApplication.instance() or QApplication(sys.argv[:1])
    run_app(main)
    del app


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.role == "worker":
        with quiet_logs():
            if args.kind == "desk":
                on_the_apps_loop(lambda: desk_worker(args))
            else:
                cli_worker(args)
        return 0
    if args.role == "finish":
        with quiet_logs():
            asyncio.run(finish_everything(args))
        return 0
    return orchestrate(args)


if __name__ == "__main__":
    raise SystemExit(main())
