"""The payments list, as the person sees it (search and filter applied), to a CSV file.

Columns: reference, description, created (UTC, ISO 8601), API state, business state, currency, amount,
authorized, captured, cancelled, refunded (major units, "." as the decimal mark: a spreadsheet in any
language reads them as numbers), pspReference, last updated. Every text cell is formula-safe (as the
audit log's export): a cell starting with = + - @ gets a leading apostrophe.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from epay_desktop.domain import Money, TrackedPayment, business_state
from epay_desktop.store import safe_cell

__all__ = ["PAYMENTS_CSV_HEADER", "write_payments_csv"]

PAYMENTS_CSV_HEADER = (
    "reference",
    "description",
    "created_utc",
    "api_state",
    "business_state",
    "currency",
    "amount",
    "authorized",
    "captured",
    "cancelled",
    "refunded",
    "psp_reference",
    "updated_utc",
)


def _plain(money: Money) -> str:
    return money.plain().rsplit(" ", 1)[0]


def write_payments_csv(rows: Iterable[TrackedPayment], path: Path) -> int:
    """Write ``rows`` to ``path`` (UTF-8 with BOM, so spreadsheets detect it); returns how many."""
    count = 0
    with Path(path).open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PAYMENTS_CSV_HEADER)
        for tracked in rows:
            payment = tracked.payment
            created = tracked.created_at.isoformat() if tracked.created_at else ""
            updated = tracked.updated_at.isoformat() if tracked.updated_at else ""
            if payment is None:
                texts = [
                    tracked.reference,
                    tracked.description,
                    created,
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    updated,
                ]
                numbers: set[int] = set()
            else:
                agg = payment.aggregate
                texts = [
                    tracked.reference,
                    tracked.description or payment.description,
                    created,
                    payment.display_state,
                    business_state(payment, authorizing=tracked.authorizing).value,
                    payment.currency.value,
                    _plain(payment.amount),
                    _plain(agg.authorized),
                    _plain(agg.captured),
                    _plain(agg.cancelled),
                    _plain(agg.refunded),
                    payment.psp_reference,
                    updated,
                ]
                numbers = {6, 7, 8, 9, 10}
            writer.writerow([cell if i in numbers else safe_cell(cell) for i, cell in enumerate(texts)])
            count += 1
    return count
