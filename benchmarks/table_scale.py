"""The payments table at scale (issue 5 item 11). Prints ratios against a baseline from the same run.

- 100,000 payments: time to fill the model (and let the proxy map every row), to sort by amount, to
  filter by text; memory per payment. Baseline: building the same 100,000 records in plain Python.
  Targets: fill and filter each within 3x the baseline.

- ``--repaint``: the real table (``RegisterView``: proxy, delegates, kept pixels) of 1,000 payments
  in a 1280x760 window: what a repaint of one row costs after the row changed (a refresh's new
  record; a busy mark, which changes only the State cell), a screen whose cells changed in nothing
  (copied from the kept pixels) and a screen painted anew (nothing kept). Medians of the paint
  itself (``viewport().repaint(rect)``, synchronous), no baseline: a before/after figure.

The event-loop stall of the real window at 1,000 and 10,000 payments is ``batch_loop_stall.py``'s.

Run: ``uv run python benchmarks/table_scale.py [--rows 100000] [--repaint]``
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTableView

from epay_desktop.domain import (
    Aggregate,
    Currency,
    Money,
    Payment,
    State,
    TrackedPayment,
)
from epay_desktop.ui.table.model import Column, PaymentsModel
from epay_desktop.ui.table.proxy import PaymentsFilterModel

T0 = datetime(2025, 1, 1, tzinfo=UTC)
DESCRIPTIONS = ("Espresso", "Cappuccino", "Kanelbolle", "Termokopp", "Kaffebønner 250 g", "Croissant")


def build_records(n: int) -> list[TrackedPayment]:
    records = []
    nok = Currency.NOK
    for i in range(n):
        amount = 1_000 + (i * 7919) % 500_000
        captured = amount // 2 if i % 3 == 0 else 0
        state = State.AUTHORIZED if i % 5 else State.CREATED
        authorized = amount if state is State.AUTHORIZED else 0
        payment = Payment(
            reference=f"bench-{i:08d}",
            amount=Money(amount, nok),
            state=state,
            aggregate=Aggregate(Money(authorized, nok), Money(captured, nok), Money(0, nok), Money(0, nok)),
            psp_reference=f"psp-{i}",
        )
        records.append(
            TrackedPayment(
                reference=payment.reference,
                merchant_serial_number="123456",
                payment=payment,
                description=DESCRIPTIONS[i % len(DESCRIPTIONS)] + f" #{i}",
                created_at=T0 + timedelta(seconds=i * 37 % 9_999_991),
            )
        )
    return records


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def memory_per_payment(rows: int) -> tuple[float, float]:
    """Bytes per payment of the records, and of what the model adds (measured apart from the timings:
    tracemalloc slows allocation several times over)."""
    tracemalloc.start()
    records = build_records(rows)
    records_bytes = tracemalloc.get_traced_memory()[0]
    model = PaymentsModel()
    model.set_payments(records)
    model_bytes = tracemalloc.get_traced_memory()[0] - records_bytes
    tracemalloc.stop()
    return records_bytes / rows, model_bytes / rows


def table_numbers(rows: int) -> dict[str, float]:
    records: list[TrackedPayment] = []

    def build() -> None:
        records.extend(build_records(rows))

    baseline = timed(build)

    model = PaymentsModel()
    proxy = PaymentsFilterModel()
    proxy.setSourceModel(model)
    view = QTableView()
    view.setModel(proxy)
    view.resize(1200, 800)

    def fill() -> None:
        model.set_payments(records)
        assert proxy.rowCount() == rows  # the proxy has mapped every row

    fill_s = timed(fill)

    def sort() -> None:
        proxy.sort(Column.AMOUNT, Qt.SortOrder.DescendingOrder)
        proxy.rowCount()

    sort_s = timed(sort)

    def filter_text() -> None:
        proxy.set_text("kanelbolle #1")
        assert 0 < proxy.rowCount() < rows

    filter_s = timed(filter_text)
    clear_s = timed(lambda: (proxy.set_text(""), proxy.rowCount()))
    paint_s = timed(lambda: view.grab())
    records_bytes, model_bytes = memory_per_payment(min(rows, 20_000))
    return {
        "rows": rows,
        "baseline_s": baseline,
        "fill_s": fill_s,
        "sort_s": sort_s,
        "filter_s": filter_s,
        "clear_filter_s": clear_s,
        "first_paint_s": paint_s,
        "record_bytes_per_payment": records_bytes,
        "model_bytes_per_payment": model_bytes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repaint", action="store_true", help="measure the real table's repaints only")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)

    if args.repaint:
        repaint_report()
    else:
        table_report(args.rows)
    return 0


def repaint_report(rows: int = 1_000, rounds: int = 60) -> None:
    import dataclasses
    import statistics

    from PySide6.QtCore import QRect

    from epay_desktop.ui.table.view import RegisterView

    records = build_records(rows)
    view = RegisterView("")
    model = PaymentsModel()
    table = view.show_model(model)
    model.set_payments(records)
    view.show_table()
    view.resize(1280, 760)
    view.show()
    QApplication.processEvents()
    viewport = table.viewport()
    painted = view.painted
    assert painted is not None
    shown = [table.rowAt(y) for y in range(5, viewport.height(), table.rowHeight(0))]
    shown = [row for row in shown if row >= 0]

    def row_rect(row: int) -> QRect:
        return QRect(0, table.rowViewportPosition(row), viewport.width(), table.rowHeight(row))

    def paint_ms(change, rect_of) -> float:  # type: ignore[no-untyped-def]
        times = []
        for i in range(rounds):
            row = shown[i % len(shown)]
            change(i, row)
            gc.collect()
            start = time.perf_counter()
            viewport.repaint(rect_of(row))
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1000

    def new_record(i: int, row: int) -> None:
        tracked = proxy_record(row)
        described = dataclasses.replace(tracked, description=f"{tracked.description} ({i})")
        model.update_payment(described)

    def proxy_record(row: int) -> TrackedPayment:
        found = view.proxy.tracked_at(row) if view.proxy is not None else None
        assert found is not None
        return found

    def busy(i: int, row: int) -> None:
        model.set_busy(proxy_record(row).reference, i % 2 == 0)

    screen = QRect(0, 0, viewport.width(), viewport.height())
    print(f"the real table, {rows:,} payments, {len(shown)} rows on screen (medians of {rounds})")
    print(f"  a row, its record changed      {paint_ms(new_record, row_rect):6.2f} ms")
    print(f"  a row, busy mark (State cell)  {paint_ms(busy, row_rect):6.2f} ms")
    print(f"  a screen, nothing changed      {paint_ms(lambda i, r: None, lambda r: screen):6.2f} ms")
    anew = paint_ms(lambda i, r: painted.clear(), lambda r: screen)
    print(f"  a screen, nothing kept         {anew:6.2f} ms")
    view.close()


def table_report(rows: int) -> None:
    t = table_numbers(rows)
    base = t["baseline_s"]
    print(f"{t['rows']:,} payments")
    print(f"  build records (baseline) {base * 1000:8.1f} ms")
    for key, label in (
        ("fill_s", "fill model + proxy map"),
        ("sort_s", "sort by amount"),
        ("filter_s", "filter by text"),
        ("clear_filter_s", "clear the filter"),
        ("first_paint_s", "paint the view once"),
    ):
        print(f"  {label:24s} {t[key] * 1000:8.1f} ms   {t[key] / base:5.2f}x baseline")
    print(
        f"  memory: records {t['record_bytes_per_payment']:.0f} B/payment, "
        f"model on top {t['model_bytes_per_payment']:.0f} B/payment"
    )
    fill_ok = t["fill_s"] <= 3 * base
    filter_ok = t["filter_s"] <= 3 * base
    print(
        f"  target fill <= 3x: {'met' if fill_ok else 'MISSED'}; "
        f"filter <= 3x: {'met' if filter_ok else 'MISSED'}"
    )


if __name__ == "__main__":
    sys.exit(main())
