"""The last list a Team profile's desk was shown, kept on this computer, so a desktop started while the
team server is out of reach (or whose login cannot be checked) still opens on it, read-only.

One JSON file per Team profile under the user's data folder (``team-lists/<profile's stem>.json``):
the rows in the form the server sends them (``wire.tracked_json``, with who did what last), who was
logged in and as what, and when the desk last read anything from the server. No token, password or
secret is in it (the session token stays in the keyring). It is written whole to a temporary file and
moved over the old one, so a crash leaves the old file or the new one, never half of one. A file that
cannot be read, of another format or version, or of another server or merchant is ignored with a log
line: the desk then opens with an empty list, never crashes.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from epay_desktop import paths
from epay_desktop.api.errors import MalformedResponseError
from epay_desktop.domain import TrackedPayment
from epay_desktop.services.profiles import Profile
from epay_desktop.services.team_rows import Activity, activity_of
from epay_desktop.services.wire import moment, moment_from_json, tracked_from_json, tracked_json

__all__ = ["CACHE_FORMAT", "CACHE_VERSION", "CachedList", "TeamListCache", "activity_json"]

log = logging.getLogger(__name__)

CACHE_FORMAT = "epay-desktop team list"
CACHE_VERSION = 1


@dataclass(frozen=True, slots=True)
class CachedList:
    """What the desk was last shown: the rows, who did what last to them, who was logged in (``agent``,
    ``role``) and when the desk last read from the server (``fetched_at``)."""

    rows: tuple[TrackedPayment, ...]
    activity: Mapping[str, Activity]
    agent: str
    role: str
    fetched_at: datetime | None


def activity_json(activity: Activity) -> dict[str, Any]:
    """An ``Activity`` in the server's own form (``lastAction``, or ``pending`` while it runs): read
    back by ``team_rows.activity_of``."""
    return {
        "operation": activity.operation,
        "status": activity.status,
        "by": activity.by,
        "at": moment(activity.at),
        "outcome": activity.outcome,
    }


class TeamListCache:
    """The cached list of one Team profile (see the module docstring)."""

    def __init__(self, path: Path, profile: Profile) -> None:
        self.path = path
        self._server = profile.base_url or ""
        self._msn = profile.merchant_serial_number

    @classmethod
    def of(cls, profile: Profile) -> TeamListCache:
        folder = paths.data_dir() / "team-lists"
        return cls(folder / f"{profile.register_stem}.json", profile)

    def save(
        self,
        rows: Iterable[TrackedPayment],
        activity: Mapping[str, Activity],
        *,
        agent: str,
        role: str,
        fetched_at: datetime | None,
    ) -> None:
        """Write the list whole (atomically). Blocking: call it off the event loop."""
        items = []
        for row in rows:
            item = tracked_json(row, events=True)
            done = activity.get(row.reference)
            if done is not None:
                item["pending" if done.pending else "lastAction"] = activity_json(done)
            items.append(item)
        data = {
            "format": CACHE_FORMAT,
            "version": CACHE_VERSION,
            "server": self._server,
            "merchantSerialNumber": self._msn,
            "agent": agent,
            "role": role,
            "fetchedAt": moment(fetched_at),
            "rows": items,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, before the move
            "w",
            encoding="utf-8",
            dir=self.path.parent,
            prefix=f".{self.path.stem}.",
            suffix=".tmp",
            delete=False,
        )
        try:
            with handle:
                # One string, then one write: several times faster than json.dump's many small writes.
                handle.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(handle.name, self.path)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise

    def load(self) -> CachedList | None:
        """The cached list, or None when there is none or it cannot be used (said in the log)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            log.warning("the cached team list %s cannot be read, ignored: %s", self.path, error)
            return None
        try:
            return self._parse(json.loads(text))
        except (ValueError, TypeError, KeyError, RecursionError, MalformedResponseError) as error:
            log.warning(
                "the cached team list %s is damaged or of another version, ignored: %s", self.path, error
            )
            return None

    def _parse(self, data: Any) -> CachedList | None:
        if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
            raise ValueError("not a cached team list")
        if data.get("version") != CACHE_VERSION:
            raise ValueError(f"version {data.get('version')!r}, this desktop reads {CACHE_VERSION}")
        if (data.get("server"), data.get("merchantSerialNumber")) != (self._server, self._msn):
            log.info("the cached team list %s is of another server or merchant, ignored", self.path)
            return None
        items = data.get("rows")
        if not isinstance(items, list):
            raise ValueError("its rows are not a list")
        rows, activity = [], {}
        for item in items:
            row = tracked_from_json(item, self._msn)  # one unreadable row: the file is not trusted
            rows.append(row)
            done = activity_of(item)
            if done is not None:
                activity[row.reference] = done
        return CachedList(
            tuple(rows),
            activity,
            agent=str(data.get("agent") or ""),
            role=str(data.get("role") or ""),
            fetched_at=moment_from_json(data.get("fetchedAt")),
        )
