"""Start to first painted window with 10,000 payments in the register, against a bare PySide6 window
started the same way in the same run. Targets: first paint at most 1.5x the bare window; rows painted
at most 2x with 10,000 payments and 6x with 100,000; at most 1 KB of memory per payment.

Each measurement is a fresh process (interpreter start, imports, QApplication, window, paint), timed by
this parent from just before the spawn to the child's "painted" line. The app child is the real entry
point, ``python -m epay_desktop --profile Benchmark --startup-marks``: it prints "painted" when its
main window painted first, "first N" once the table painted its first rows (a screenful, listed
before the rest is read) and "listed N" once the table painted with the register's N rows; on the way
to the first rows it prints "read" (the first rows read from the register, and what the app did
meanwhile) and "table" (shown in the table, not yet painted), so each run also tells where the time
after the first paint went. Runs
alternate bare/app so noise hits both alike. Prints medians and ratios; asserts nothing (these machines
are noisy). Bytecode is cached (as in an install; PYTHONDONTWRITEBYTECODE is removed for the children);
one extra series shows a start without any (PYTHONPYCACHEPREFIX points at an empty folder, so no
``__pycache__`` is read). Each child runs under ``/usr/bin/time -v`` for its peak resident memory
(Debian package ``time``).

    uv run python benchmarks/startup.py [--payments 1000 10000 100000] [--rounds 3] [--lang nb]

``--lang``: the app's language (its ``--lang``; default: the system's, English under ``C.UTF-8``). A
Norwegian, Danish or Finnish start reads its translation catalog before the first paint (compiled once,
by the warm-up run, into the app's cache folder, as a person's first start does).
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
    logs = []
    payments = []
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
        logs.append(events)
        payments.append(payment)
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
        columns = store.db.read("columns", lambda c: c.execute("PRAGMA table_info(payments)").fetchall())
        if any(column[1] == "state" for column in columns):
            # The payment's list columns and the log's length, as save_snapshot keeps them (schema 5).
            from epay_desktop.store.register import SUMMARY_COLUMNS, summary_cells

            sets = ", ".join(f"{column} = ?" for column in (*SUMMARY_COLUMNS, "events_count"))
            cells = [
                (*summary_cells(payment), len(log), row[0], row[1])
                for row, payment, log in zip(rows, payments, logs, strict=True)
            ]
            store.db.write(
                "benchmark data",
                lambda c: c.executemany(f"UPDATE payments SET {sets} WHERE msn = ? AND reference = ?", cells),
            )
        if any(column[1] == "last_event_at" for column in columns):
            # As save_snapshot keeps it (registers of older versions have no such column).
            newest = [
                (log[-1].timestamp.isoformat(), row[0], row[1]) for row, log in zip(rows, logs, strict=True)
            ]
            store.db.write(
                "benchmark data",
                lambda c: c.executemany(
                    "UPDATE payments SET last_event_at = ? WHERE msn = ? AND reference = ?", newest
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


def measure(kind: str, home: Path, *, bytecode: bool = True, lang: str | None = None) -> dict[str, float]:
    """One start, timed by this parent; ``peak_kib`` is the child's peak resident memory as
    ``/usr/bin/time -v`` reports it (both kinds run under it alike)."""
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
    uncached = None
    if not bytecode:
        # Nothing compiled before may be read: not the checkout's __pycache__, not the virtual
        # environment's, not the warm-up's. Bytecode is looked for (and not written) in an empty folder.
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        uncached = tempfile.TemporaryDirectory(prefix="epay-no-bytecode-")
        env["PYTHONPYCACHEPREFIX"] = uncached.name
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    # The app child is the real entry point (python -m epay_desktop), not a re-creation of it.
    command = APP_COMMAND if kind == "app" else [sys.executable, __file__, "--child", kind]
    if kind == "app" and lang:
        command = [*command, "--lang", lang]
    command = [TIME, "-v", *command]
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    marks: dict[str, float] = {}
    assert process.stdout is not None
    assert process.stderr is not None
    for line in process.stdout:
        word = line.split()[0] if line.strip() else ""
        marks[word] = time.perf_counter() - start
        if word == "listed":
            marks["rows"] = float(line.split()[1])
    report = process.stderr.read()
    process.wait(timeout=300)
    if uncached is not None:
        uncached.cleanup()
    if process.returncode != 0 or "painted" not in marks:
        raise SystemExit(f"the {kind} child failed ({process.returncode}): {marks}\n{report[-2000:]}")
    for line in report.splitlines():
        if "Maximum resident set size" in line:
            marks["peak_kib"] = float(line.rsplit(":", 1)[1])
    return marks


def series(payments: int, rounds: int, lang: str | None = None) -> dict[str, float]:
    """Medians for one register size: bare and app alternate, so noise hits both alike."""
    with tempfile.TemporaryDirectory(prefix="epay-startup-") as folder:
        home = Path(folder)
        t0 = time.perf_counter()
        path = build_register(home, payments)
        print(
            f"register: {payments} payments, {path.stat().st_size / 1e6:.1f} MB, built in "
            f"{time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        measure("bare", home)  # warm the OS file cache and the bytecode cache for both
        measure("app", home, lang=lang)
        runs: dict[str, list[float]] = {
            k: []
            for k in (
                "bare",
                "painted",
                "first",
                "listed",
                "uncached",
                "peak",
                "bpeak",
                "to_first",
                "to_all",
                "to_read",
                "to_table",
            )
        }
        for _ in range(rounds):
            bare = measure("bare", home)
            runs["bare"].append(bare["painted"])
            runs["bpeak"].append(bare["peak_kib"])
            marks = measure("app", home, lang=lang)
            runs["painted"].append(marks["painted"])
            runs["listed"].append(marks["listed"])
            # Versions that paint every row at once say only "listed".
            runs["first"].append(marks.get("first", marks["listed"]))
            runs["peak"].append(marks["peak_kib"])
            # After the app's own first paint: what the list adds, less moved by the bare window's noise.
            runs["to_first"].append(runs["first"][-1] - marks["painted"])
            runs["to_all"].append(marks["listed"] - marks["painted"])
            if "read" in marks and "table" in marks:  # versions that list first and say its steps
                runs["to_read"].append(marks["read"] - marks["painted"])
                runs["to_table"].append(marks["table"] - marks["painted"])
            assert int(marks["rows"]) == payments, marks
            runs["uncached"].append(measure("app", home, bytecode=False, lang=lang)["painted"])
        return {k: statistics.median(v) for k, v in runs.items() if v}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--payments", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lang", help="the app's language (en, nb, da, fi; default: the system's)")
    parser.add_argument("--child", choices=("bare",), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "bare":
        child_bare()
        return
    if "PYTHONDONTWRITEBYTECODE" in os.environ:
        print("(PYTHONDONTWRITEBYTECODE is set here; the timed children run without it, from bytecode)")
    load = os.getloadavg()
    results = {n: series(n, args.rounds, args.lang) for n in args.payments}
    print(
        f"medians; app language {args.lang or 'the system default'}; ratios against the bare PySide6 "
        "window's first paint in the same run; load average "
        f"(1 min) {load[0]:.2f} at the start, {os.getloadavg()[0]:.2f} at the end"
    )
    print(
        f"{'payments':>9} {'bare paint':>11} {'app paint':>16} {'first rows':>17} {'all rows':>17} "
        f"{'no bytecode':>17} {'peak RSS app':>13} {'bare':>9}"
    )
    for n, r in results.items():
        b = r["bare"]
        print(
            f"{n:>9} {b * 1e3:8.0f} ms {r['painted'] * 1e3:6.0f} ms {r['painted'] / b:5.2f}x "
            f"{r['first'] * 1e3:7.0f} ms {r['first'] / b:5.2f}x "
            f"{r['listed'] * 1e3:7.0f} ms {r['listed'] / b:5.2f}x {r['uncached'] * 1e3:7.0f} ms "
            f"{r['uncached'] / b:5.2f}x {r['peak'] / 1024:9.1f} MiB {r['bpeak'] / 1024:5.1f} MiB"
        )
    print("after the app's first paint (medians): first rows / all rows")
    for n, r in results.items():
        print(f"{n:>9} +{r['to_first'] * 1e3:.0f} ms / +{r['to_all'] * 1e3:.0f} ms")
    if all("to_table" in r for r in results.values()):
        print(
            "the way to the first rows (medians, after the app's first paint): first rows read (Qt's "
            "enums built meanwhile) / shown in the table (made and laid out) / painted"
        )
        for n, r in results.items():
            steps = (r["to_read"], r["to_table"], r["to_first"])
            print(f"{n:>9} " + " / ".join(f"+{step * 1e3:.0f} ms" for step in steps))
    sizes = sorted(results)
    if len(sizes) > 1:
        low, high = sizes[0], sizes[-1]
        per = (results[high]["peak"] - results[low]["peak"]) * 1024 / (high - low)
        print(f"memory per payment (peak RSS, {low:,} to {high:,} payments): {per:.0f} bytes (goal <= 1024)")
        for n in sizes[1:-1]:
            mid = (results[n]["peak"] - results[low]["peak"]) * 1024 / (n - low)
            print(f"  ({low:,} to {n:,} payments: {mid:.0f} bytes)")
    print(
        "goals: first paint <= 1.50x; rows painted <= 2x at 10,000 payments, <= 6x at 100,000 "
        "(first rows: a screenful painted before the rest is read; all rows: every row in the table)"
    )


TIME = "/usr/bin/time"


if __name__ == "__main__":
    main()
