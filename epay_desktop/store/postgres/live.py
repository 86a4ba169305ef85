"""The notes of live updates (migration 6): what changed, read back by the team service to tell a
desktop that reconnects what it missed, and the name of the channel the same notes are announced on.
The notes are written by the database's triggers only; nothing here writes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from epay_desktop.store.postgres.database import Connection, PgDatabase

__all__ = ["CHANNEL_PREFIX", "LiveNote", "PgLiveLog"]

# The triggers announce on 'epay_live:' || current_schema(): one database may hold several teams'
# schemas, and each hears only its own.
CHANNEL_PREFIX = "epay_live:"

_COLUMNS = "id, msn, reference, kind, agent, action, at, approval"


@dataclass(frozen=True, slots=True)
class LiveNote:
    id: int
    msn: str
    reference: str
    kind: str  # "changed" | "working" | "done" | "approval"
    agent: str | None  # of "approval": who asked
    action: str | None  # of "approval": how the request ended (sent, failed, expired, rejected)
    at: datetime
    approval: int | None = None  # of "approval": the request's id


def _note(row: tuple[Any, ...]) -> LiveNote:
    id_, msn, reference, kind, agent, action, at, approval = row
    return LiveNote(
        int(id_),
        str(msn),
        str(reference),
        str(kind),
        None if agent is None else str(agent),
        None if action is None else str(action),
        at,
        None if approval is None else int(approval),
    )


class PgLiveLog:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    def channel(self) -> str:
        """The channel this database's triggers announce on (as this connection's schema resolves)."""
        row = self.db.read("reading the schema", lambda c: c.execute("SELECT current_schema()").fetchone())
        return CHANNEL_PREFIX + (str(row[0]) if row and row[0] else "public")

    def newest_id(self) -> int:
        row = self.db.read(
            "reading live updates",
            lambda c: c.execute("SELECT coalesce(max(id), 0) FROM live_events").fetchone(),
        )
        return int(row[0]) if row else 0

    def note(self, note_id: int) -> LiveNote | None:
        """One note by its id (a notification too long to carry it whole names only the id)."""
        row = self.db.read(
            "reading live updates",
            lambda c: c.execute(f"SELECT {_COLUMNS} FROM live_events WHERE id = %s", (note_id,)).fetchone(),
        )
        return _note(row) if row else None

    def since(
        self, after_id: int, *, msn: str | None = None, margin: timedelta, limit: int
    ) -> list[LiveNote] | None:
        """The notes after ``after_id`` (of ``msn``, or of every merchant), oldest first, and those up
        to ``margin`` older than that note: ids are handed out when a change is written and become
        visible when it commits, so a note with a smaller id can commit just after a larger one was
        seen. Such a note may so be told twice; none is missed. ``None`` when more than ``limit`` are
        waiting or ``after_id`` is older than what is kept: the caller cannot replay, only reload."""

        def work(conn: Connection) -> list[LiveNote] | None:
            known = conn.execute("SELECT at FROM live_events WHERE id = %s", (after_id,)).fetchone()
            if known is None:
                oldest = conn.execute("SELECT min(id) FROM live_events").fetchone()
                if oldest is None or oldest[0] is None or int(oldest[0]) > after_id + 1:
                    return None  # pruned (or never was): what was missed cannot be told
                since = None
            else:
                since = known[0] - margin
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM live_events "
                "WHERE (%s::text IS NULL OR msn = %s) AND id <> %s "
                "AND (id > %s OR at >= %s::timestamptz) ORDER BY id LIMIT %s",
                (msn, msn, after_id, after_id, since, limit + 1),
            ).fetchall()
            if len(rows) > limit:
                return None
            return [_note(r) for r in rows]

        return self.db.read("reading live updates", work)

    def prune(self, older_than: datetime) -> int:
        """Forget the notes written before ``older_than``; returns how many."""
        return self.db.write(
            "pruning live updates",
            lambda c: c.execute("DELETE FROM live_events WHERE at < %s", (older_than,)).rowcount,
        )
