"""The audit log: who did what, when, to which payment, with what result; and its CSV export.

Money-moving intents get their lines from the database's triggers on the journal (same statement);
other actions (adding, importing, creating payments, settings) write here. ``AuditRecords`` is the log
over either database (``store.dialect``): ``AuditLog`` in a SQLite file, ``postgres.audit.PgAuditLog``
in PostgreSQL.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from epay_desktop.domain import Money
from epay_desktop.store.db import money_columns, money_from_columns, utc_now
from epay_desktop.store.dialect import SQLITE, Connection, Dialect, SqlDatabase

CSV_COLUMNS = (
    "time_utc",
    "os_user",
    "profile",
    "merchant_serial_number",
    "action",
    "reference",
    "amount",
    "currency",
    "result",
    "detail",
    "idempotency_key",
)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    os_user: str
    profile: str
    merchant_serial_number: str
    action: str
    reference: str
    amount: Money | None
    result: str
    detail: str
    idempotency_key: str = ""


_COLUMNS = (
    "id, at, os_user, profile, msn, action, reference, amount, currency, result, detail, idempotency_key"
)


def _entry(row: tuple[Any, ...], dialect: Dialect) -> AuditEntry:
    id_, at, user, profile, msn, action, reference, amount, currency, result, detail, key = row
    return AuditEntry(
        id=int(id_),
        at=dialect.moment_cell(at) or utc_now(),
        os_user=str(user),
        profile=str(profile),
        merchant_serial_number=str(msn),
        action=str(action),
        reference=str(reference or ""),
        amount=money_from_columns(amount, currency),
        result=str(result),
        detail=str(detail or ""),
        idempotency_key=str(key or ""),
    )


_INSERT_LINE = (
    "INSERT INTO audit (at, os_user, profile, msn, action, reference, amount, currency, "
    "result, detail, idempotency_key, intent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def insert_line(
    conn: Connection,
    dialect: Dialect,
    *,
    at: datetime,
    os_user: str,
    profile: str,
    msn: str,
    action: str,
    result: str,
    reference: str,
    amount: Money | None,
    detail: str,
    idempotency_key: str,
    intent_id: int | None = None,
) -> int:
    """Write one audit line in the caller's transaction (an intent's lines are written by the
    database's triggers on the journal; in PostgreSQL only they may name an intent). Returns its id."""
    return dialect.insert(
        conn,
        _INSERT_LINE,
        (
            dialect.moment_param(at),
            os_user,
            profile,
            msn,
            action,
            reference,
            *money_columns(amount),
            result,
            detail,
            idempotency_key,
            intent_id,
        ),
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _safe_cell(text: str) -> str:
    """``text`` as a spreadsheet will take it as text, never as a formula (OWASP CSV injection): a cell
    that starts, after any leading spaces, with = + - @ (or their full-width forms), a tab or a line
    break gets a leading apostrophe. Every cell goes through here: an operator name, a reference or a
    key typed on the command line can start with "=" as well as a detail can."""
    if text.lstrip(" ")[:1] in _FORMULA_START or text[:1] in _FORMULA_START:
        return "'" + text
    return text


safe_cell = _safe_cell  # for other CSV writers (the list as shown)


def _minor_to_plain(money: Money) -> str:
    return money.plain().rsplit(" ", 1)[0]


class AuditRecords:
    """Who did what, when, with what result; append-only. One implementation over either database."""

    dialect: ClassVar[Dialect]

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def record(
        self,
        *,
        os_user: str,
        profile: str,
        msn: str,
        action: str,
        result: str,
        reference: str = "",
        amount: Money | None = None,
        detail: str = "",
        idempotency_key: str = "",
        now: datetime | None = None,
    ) -> int:
        return self.db.write(
            "writing the audit log",
            lambda conn: insert_line(
                conn,
                self.dialect,
                at=now or utc_now(),
                os_user=os_user,
                profile=profile,
                msn=msn,
                action=action,
                result=result,
                reference=reference,
                amount=amount,
                detail=detail,
                idempotency_key=idempotency_key,
            ),
        )

    def entries(
        self,
        limit: int = 1000,
        offset: int = 0,
        *,
        msn: str | None = None,
        reference: str | None = None,
        before: int | None = None,
        with_unattached: bool = False,
    ) -> list[AuditEntry]:
        """Newest first; only lines of merchant ``msn`` and of payment ``reference`` when given (with
        ``with_unattached`` also the lines of no merchant: a team's logins and accounts), and only
        lines older than line ``before`` (the id of the last line of the page before: paging that
        new lines do not shift)."""
        clauses: list[str] = []
        params: list[Any] = []
        if msn is not None:
            clauses.append("(msn = ? OR msn = '')" if with_unattached else "msn = ?")
            params.append(msn)
        if reference is not None:
            clauses.append("reference = ?")
            params.append(reference)
        if before is not None:
            clauses.append("id < ?")
            params.append(before)
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        sql = self.dialect.sql(f"SELECT {_COLUMNS} FROM audit {where}ORDER BY id DESC LIMIT ? OFFSET ?")
        rows = self.db.read(
            "reading the audit log", lambda c: c.execute(sql, (*params, limit, offset)).fetchall()
        )
        return [_entry(r, self.dialect) for r in rows]

    def export_csv(self, path: Path) -> int:
        """Write the whole log (oldest first, UTF-8 with BOM so spreadsheets read it) atomically.
        Returns the number of lines written (without the header)."""
        rows = self.db.read(
            "reading the audit log",
            lambda c: c.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY id").fetchall(),
        )
        return write_csv(path, [_entry(row, self.dialect) for row in rows])


class AuditLog(AuditRecords):
    """The audit log in a SQLite register."""

    dialect = SQLITE


def write_csv(path: Path, entries: Iterable[AuditEntry]) -> int:
    """Write ``entries`` (in the order given) as the audit CSV, UTF-8 with BOM, atomically; every store
    exports through this one writer. Returns the number of lines written (without the header)."""
    written = 0
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for entry in entries:
            cells = (
                entry.at.isoformat(),
                entry.os_user,
                entry.profile,
                entry.merchant_serial_number,
                entry.action,
                entry.reference,
                _minor_to_plain(entry.amount) if entry.amount else "",
                entry.amount.currency.value if entry.amount else "",
                entry.result,
                entry.detail,
                entry.idempotency_key,
            )
            writer.writerow([cell if _PLAIN_NUMBER.fullmatch(cell) else _safe_cell(cell) for cell in cells])
            written += 1
    os.replace(tmp, path)
    return written
