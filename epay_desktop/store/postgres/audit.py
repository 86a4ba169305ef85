"""The audit log in PostgreSQL: append-only, stamped by the database (see ``migrations``).

Lines about intents are written by the journal's trigger; this log writes the other actions (adding,
importing, creating payments) and reads the log, with the queries and CSV writer the SQLite log uses.
"""

from __future__ import annotations

from epay_desktop.store.audit import AuditRecords
from epay_desktop.store.dialect import POSTGRES


class PgAuditLog(AuditRecords):
    dialect = POSTGRES
