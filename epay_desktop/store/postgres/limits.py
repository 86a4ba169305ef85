"""Team mode's per-merchant limits that an admin sets through the service (today: the approval
threshold), kept in PostgreSQL so every instance applies the same one at once. A merchant without a row
keeps the configuration file's threshold; a row whose value is NULL holds nothing for that merchant."""

from __future__ import annotations

from epay_desktop.domain import Currency, Money
from epay_desktop.store.postgres.database import PgDatabase

__all__ = ["PgLimits"]


class PgLimits:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    def thresholds(self) -> dict[str, Money | None]:
        """The thresholds admins set, by serial number (None: no threshold)."""
        rows = self.db.read(
            "reading the merchants' limits",
            lambda c: c.execute(
                "SELECT msn, approval_value, approval_currency FROM merchant_limits"
            ).fetchall(),
        )
        return {
            str(msn): None if value is None else Money(int(value), Currency(str(currency)))
            for msn, value, currency in rows
        }

    def set_threshold(self, msn: str, threshold: Money | None, *, by: str) -> None:
        value, currency = (None, None) if threshold is None else (threshold.value, threshold.currency.value)
        self.db.write(
            "setting a merchant's limit",
            lambda c: c.execute(
                "INSERT INTO merchant_limits (msn, approval_value, approval_currency, changed_by) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (msn) DO UPDATE SET "
                "approval_value = EXCLUDED.approval_value, approval_currency = EXCLUDED.approval_currency, "
                "changed_by = EXCLUDED.changed_by, "
                "changed_at = clock_timestamp()",
                (msn, value, currency, by),
            ),
        )
