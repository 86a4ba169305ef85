"""The PostgreSQL store against the SQLite store, same work, same run; prints ratios (PG / SQLite).

- load: ``register.all`` of 10,000 payments with snapshots (what the window does on start);
- journal: intents begun, attempted and finished one after another (each a committed transaction);
- contended: 8 threads beginning and finishing intents on 8 payments (one store, one pool / one file);
- race: two stores beginning on the same payment at once, many rounds: counts of winners (must be 1).

PostgreSQL is a throwaway cluster started as the tests start it (``tests/support/postgres.py``), with
fsync off like the tests: the ratio compares the engines and the code paths, not the disks.

Run: ``uv run python benchmarks/store_backends.py [--payments 10000] [--intents 300] [--rounds 50]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from epay_desktop.domain import Aggregate, Currency, EventName, Money, Payment, PaymentEvent, State
from epay_desktop.store import (
    IntentPendingError,
    IntentStatus,
    NewEntry,
    Operation,
    PaymentStore,
    PgStore,
    Store,
)
from tests.support.postgres import start_cluster

MSN = "123456"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def nok(value: int) -> Money:
    return Money(value, Currency.NOK)


def fill(store: PaymentStore, payments: int) -> None:
    entries = [
        NewEntry(f"ref-{n:06d}", description="Kaffe", created_at=T0 + timedelta(seconds=n))
        for n in range(payments)
    ]
    store.register.add(MSN, entries)
    for n in range(payments):
        reference = f"ref-{n:06d}"
        payment = Payment(
            reference, nok(10000), State.AUTHORIZED, Aggregate(nok(10000), nok(0), nok(0), nok(0))
        )
        events = [PaymentEvent(reference, "psp", EventName.AUTHORIZED, nok(10000), T0, None, True)]
        store.register.save_snapshot(MSN, payment, events, fetched_at=T0)


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def journal_cycle(store: PaymentStore, reference: str, key: str) -> None:
    try:
        intent = store.journal.begin(
            operation=Operation.CANCEL,
            profile="Bench",
            msn=MSN,
            reference=reference,
            amount=nok(100),
            idempotency_key=key,
            os_user="bench",
        )
    except IntentPendingError:
        return
    store.journal.note_attempt(intent.id)
    store.journal.finish(intent.id, IntentStatus.SUCCEEDED, "ok", os_user="bench")


def sequential(store: PaymentStore, count: int, tag: str) -> None:
    for n in range(count):
        journal_cycle(store, f"seq-{n:05d}", f"{tag}-seq-{n}")


def contended(store: PaymentStore, count: int, tag: str) -> None:
    def worker(thread: int) -> None:
        for n in range(count // 8):
            journal_cycle(store, f"hot-{thread}", f"{tag}-hot-{thread}-{n}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(worker, range(8)))


def race(first: PaymentStore, second: PaymentStore, rounds: int, tag: str) -> list[int]:
    winners: list[int] = []
    for n in range(rounds):
        barrier = threading.Barrier(2)

        def attempt(store: PaymentStore, side: str, n: int = n, barrier: threading.Barrier = barrier) -> int:
            barrier.wait()
            try:
                store.journal.begin(
                    operation=Operation.CANCEL,
                    profile="Bench",
                    msn=MSN,
                    reference=f"race-{n}",
                    amount=nok(100),
                    idempotency_key=f"{tag}-race-{n}-{side}",
                    os_user=side,
                )
                return 1
            except IntentPendingError:
                return 0

        with ThreadPoolExecutor(max_workers=2) as pool:
            won = sum(pool.map(lambda args: attempt(*args), [(first, "a"), (second, "b")]))
        winners.append(won)
    return winners


def measure(
    store: PaymentStore, other: PaymentStore, name: str, args: argparse.Namespace
) -> dict[str, float]:
    fill(store, args.payments)
    start = time.perf_counter()
    loaded = store.register.all(MSN)
    row = {"load": time.perf_counter() - start}
    assert len(loaded) == args.payments
    row["journal"] = timed(lambda: sequential(store, args.intents, name))
    row["contended"] = timed(lambda: contended(store, args.intents, name))
    winners = race(store, other, args.rounds, name)
    row["one_winner"] = sum(1 for w in winners if w == 1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--intents", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()

    cluster = start_cluster()
    results: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bench.sqlite3"
            conninfo = cluster.new_database("bench")
            openers: dict[str, Callable[[], PaymentStore]] = {
                "sqlite": lambda: Store(path),
                "postgres": lambda: PgStore(conninfo),
            }
            for name, opener in openers.items():
                store, other = opener(), opener()
                try:
                    results[name] = measure(store, other, name, args)
                finally:
                    other.close()
                    store.close()
    finally:
        cluster.stop()

    sqlite, postgres = results["sqlite"], results["postgres"]
    print(f"payments {args.payments}, intents {args.intents}, race rounds {args.rounds}")
    for key, label in (
        ("load", f"register.all of {args.payments} payments"),
        ("journal", f"{args.intents} begin+attempt+finish, one after another"),
        ("contended", f"{args.intents} begin+attempt+finish, 8 threads"),
    ):
        print(
            f"{label:<48} sqlite {sqlite[key] * 1000:8.1f} ms  postgres {postgres[key] * 1000:8.1f} ms  "
            f"ratio {postgres[key] / sqlite[key]:5.2f}"
        )
    for name, row in results.items():
        print(
            f"race on one payment, {name}: {int(row['one_winner'])}/{args.rounds} rounds "
            "had exactly one winner"
        )


if __name__ == "__main__":
    main()
