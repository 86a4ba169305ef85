"""The audit log in PostgreSQL: append-only, stamped by the database (see ``migrations``).

Lines about intents are written by the journal's trigger; this module writes the other actions (adding,
importing, creating payments) and reads the log. The CSV export is the SQLite store's writer.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from epay_desktop.domain import Money
from epay_desktop.store.audit import AuditEntry, write_csv
from epay_desktop.store.db import money_columns, money_from_columns, utc_now
from epay_desktop.store.postgres.database import Connection, PgDatabase

_COLUMNS = (
    "id, at, os_user, profile, msn, action, reference, amount, currency, result, detail, idempotency_key"
)


def _entry(row: tuple[Any, ...]) -> AuditEntry:
    id_, at, user, profile, msn, action, reference, amount, currency, result, detail, key = row
    return AuditEntry(
        id=int(id_),
        at=at,
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


class PgAuditLog:
    def __init__(self, db: PgDatabase) -> None:
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
        values = (
            now or utc_now(),
            os_user,
            profile,
            msn,
            action,
            reference,
            *money_columns(amount),
            result,
            detail,
            idempotency_key,
        )

        def work(conn: Connection) -> int:
            row = conn.execute(
                "INSERT INTO audit (at, os_user, profile, msn, action, reference, amount, currency, "
                "result, detail, idempotency_key) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "RETURNING id",
                values,
            ).fetchone()
            assert row is not None  # INSERT ... RETURNING gives the row it inserted
            return int(row[0])

        return self.db.write("writing the audit log", work)

    def entries(self, limit: int = 1000, offset: int = 0) -> list[AuditEntry]:
        """Newest first."""
        rows = self.db.read(
            "reading the audit log",
            lambda c: c.execute(
                f"SELECT {_COLUMNS} FROM audit ORDER BY id DESC LIMIT %s OFFSET %s", (limit, offset)
            ).fetchall(),
        )
        return [_entry(r) for r in rows]

    def export_csv(self, path: Path) -> int:
        """Write the whole log (oldest first) with the SQLite store's CSV writer; returns the lines."""
        rows = self.db.read(
            "reading the audit log",
            lambda c: c.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY id").fetchall(),
        )
        return write_csv(path, (_entry(r) for r in rows))
