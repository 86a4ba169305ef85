"""Start to first painted window with 10,000 payments in the register, against a bare PySide6 window
started the same way in the same run (issue 6, item 6). Target: at most 1.5x the bare window.

Each measurement is a fresh process (interpreter start, imports, QApplication, window, paint), timed by
this parent from just before the spawn to the child's "painted" line. The app child is the real entry
point, ``python -m epay_desktop --profile Benchmark --startup-marks``: it prints "painted" when its
main window painted first and "listed N" once the table painted with the register's N rows. Runs
alternate bare/app so noise hits both alike. Prints medians and ratios; asserts nothing (these machines
are noisy). Bytecode is cached (as in an install); one extra series shows a start without it.

    uv run python benchmarks/startup.py [--payments 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# --- the register --------------------------------------------------------------------------------------


def build_register(home: Path, count: int) -> Path:
    """A register with ``count`` payments, each with a snapshot (payment + 2 to 4 events)."""
    os.environ["EPAY_DESKTOP_HOME"] = str(home)
    sys.path.insert(0, str(ROOT))
    from epay_desktop.domain import Aggregate, Currency, EventName, Money, Payment, PaymentEvent, State
    from epay_desktop.services import Profile, ProfileKind, ProfileStore, register_path
    from epay_desktop.store import Store
    from epay_desktop.store.codec import dump_events, dump_payment

    profile = bench_profile(Profile, ProfileKind)
    ProfileStore().save(profile)
    path = register_path(profile)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(count):
        ref = f"bench-order-{i:07d}"
        amount = Money(1000 + (i * 37) % 90000, Currency.NOK)
        zero = Money(0, Currency.NOK)
        created = start + timedelta(minutes=i)
        kind = i % 4
        if kind == 0:
            payment = Payment(ref, amount, State.CREATED, Aggregate(zero, zero, zero, zero), "psp")
            names = [EventName.CREATED]
        elif kind == 1:
            payment = Payment(ref, amount, State.AUTHORIZED, Aggregate(amount, zero, zero, zero), "psp")
            names = [EventName.CREATED, EventName.AUTHORIZED]
        elif kind == 2:
            payment = Payment(ref, amount, State.AUTHORIZED, Aggregate(amount, amount, zero, zero), "psp")
            names = [EventName.CREATED, EventName.AUTHORIZED, EventName.CAPTURED]
        else:
            payment = Payment(ref, amount, State.AUTHORIZED, Aggregate(amount, zero, amount, zero), "psp")
            names = [EventName.CREATED, EventName.AUTHORIZED, EventName.CANCELLED]
        events = [
            PaymentEvent(ref, f"psp-{n}", name, amount, created + timedelta(seconds=n), f"key-{i}", True)
            for n, name in enumerate(names)
        ]
        rows.append(
            (
                profile.merchant_serial_number,
                ref,
                f"Order {i}: 2x Cappuccino, 1x Kanelbolle",
                created.isoformat(),
                created.isoformat(),
                dump_payment(payment),
                dump_events(events),
                (created + timedelta(minutes=1)).isoformat(),
            )
        )
    with Store(path) as store:
        store.db.write(
            "benchmark data",
            lambda c: c.executemany(
                "INSERT INTO payments (msn, reference, description, created_at, added_at, source, "
                "payment_json, events_json, fetched_at) VALUES (?, ?, ?, ?, ?, 'bench', ?, ?, ?)",
                rows,
            ),
        )
    return path


def bench_profile(profile_cls, kind_cls):  # type: ignore[no-untyped-def]
    # A custom profile pointing at a port nobody listens on: start-up must not need the network.
    return profile_cls("Benchmark", kind_cls.CUSTOM, "123456", "demo-client", "http://127.0.0.1:9")


# --- the children --------------------------------------------------------------------------------------


def child_bare() -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv[:1])

    class Window(QMainWindow):
        painted = False

        def paintEvent(self, event):  # type: ignore[no-untyped-def]
            super().paintEvent(event)
            if not self.painted:
                self.painted = True
                print("painted", flush=True)
                QTimer.singleShot(0, app.quit)

    window = Window()
    window.resize(1280, 760)
    window.show()
    app.exec()


APP_COMMAND = [sys.executable, "-m", "epay_desktop", "--profile", "Benchmark", "--startup-marks"]


# --- the parent ----------------------------------------------------------------------------------------


def measure(kind: str, home: Path, *, bytecode: bool = True) -> dict[str, float]:
    env = dict(
        os.environ,
        EPAY_DESKTOP_HOME=str(home),
        PYTHONPATH=str(ROOT),
        PYTHON_KEYRING_BACKEND="benchmarks.bench_keyring.BenchKeyring",
    )
    # An installed app has its bytecode (pip and PyInstaller compile it); a checkout run with
    # PYTHONDONTWRITEBYTECODE compiles every module on every start. Measure like an install: the
    # bytecode goes to a cache beside the test register (written by the warm-up run), not the checkout.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        del env["PYTHONPYCACHEPREFIX"]
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    # The app child is the real entry point (python -m epay_desktop), not a re-creation of it.
    command = APP_COMMAND if kind == "app" else [sys.executable, __file__, "--child", kind]
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    marks: dict[str, float] = {}
    assert process.stdout is not None
    for line in process.stdout:
        word = line.split()[0] if line.strip() else ""
        marks[word] = time.perf_counter() - start
        if word == "listed":
            marks["rows"] = float(line.split()[1])
    process.wait(timeout=120)
    if process.returncode != 0 or "painted" not in marks:
        raise SystemExit(f"the {kind} child failed ({process.returncode}): {marks}")
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", choices=("bare",), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "bare":
        child_bare()
        return
    with tempfile.TemporaryDirectory(prefix="epay-startup-") as folder:
        home = Path(folder)
        t0 = time.perf_counter()
        path = build_register(home, args.payments)
        print(
            f"register: {args.payments} payments, {path.stat().st_size / 1e6:.1f} MB, built in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        measure("bare", home)  # warm the OS file cache for both
        measure("app", home)
        bare: list[float] = []
        painted: list[float] = []
        listed: list[float] = []
        uncached: list[float] = []
        for _ in range(args.rounds):
            bare.append(measure("bare", home)["painted"])
            marks = measure("app", home)
            painted.append(marks["painted"])
            listed.append(marks["listed"])
            assert int(marks["rows"]) == args.payments, marks
            uncached.append(measure("app", home, bytecode=False)["painted"])
        b, p, s = (statistics.median(x) for x in (bare, painted, listed))
        u = statistics.median(uncached)
        n = args.payments
        print(f"bare PySide6 window, start to first paint:  median {b * 1000:6.0f} ms")
        print(f"epay-desktop window, start to first paint:  median {p * 1000:6.0f} ms  ratio {p / b:4.2f}x")
        print(f"epay-desktop, start to {n} rows painted: median {s * 1000:6.0f} ms  ratio {s / b:4.2f}x")
        print(f"  (without bytecode, all compiled at start: first paint {u * 1000:6.0f} ms, {u / b:4.2f}x)")
        print("target: at most 1.50x the bare window")


if __name__ == "__main__":
    main()
