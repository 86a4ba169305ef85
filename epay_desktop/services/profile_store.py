"""The profiles file (``profiles.json`` under ``paths.config_dir()``): the saved profiles, the one last
used and the language chosen, written whole and atomically. No secrets in it, ever (they are in the OS
keyring, ``services.secrets``). The profile itself, its checks and its register file are in
``services.profiles``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from epay_desktop import paths
from epay_desktop.i18n import _, ngettext
from epay_desktop.services.profiles import DEMO_PROFILE, Profile, ProfileError, register_path

log = logging.getLogger(__name__)


class ProfileStoreError(RuntimeError):
    """The profiles file cannot be read; it is left untouched."""


class ProfileStore:
    """The profiles file (``profiles.json`` under the config dir). No secrets in it, ever.

    The Demo profile is always there (first) and cannot be deleted."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.config_dir() / "profiles.json"

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"version": 1, "profiles": [], "lastUsed": DEMO_PROFILE.name}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except RecursionError:
            raise ProfileStoreError(
                _(
                    "The profiles file {path} is nested too deeply to be a profiles file. It was left as it "
                    "is; fix or move it and start again."
                ).format(path=self.path)
            ) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ProfileStoreError(
                _(
                    "The profiles file {path} cannot be read ({error}). It was left as it is; fix or move "
                    "it and start again."
                ).format(path=self.path, error=error)
            ) from error
        if not isinstance(data, dict) or not isinstance(data.get("profiles"), list):
            raise ProfileStoreError(
                _("The profiles file {path} has an unexpected shape; it was left as it is.").format(
                    path=self.path
                )
            )
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def list(self) -> list[Profile]:
        profiles = [DEMO_PROFILE]
        for item in self._read()["profiles"]:
            if not isinstance(item, dict):
                continue
            try:
                profile = Profile.from_json(item)
            except ProfileError as error:
                log.warning("skipping a saved profile: %s", error)
                continue
            if profile.name != DEMO_PROFILE.name:
                profiles.append(profile)
        return profiles

    def get(self, name: str) -> Profile:
        for profile in self.list():
            if profile.name == name:
                return profile
        raise ProfileError(_("There is no profile named {name!r}.").format(name=name))

    def save(self, profile: Profile, *, replacing: str | None = None) -> Profile:
        """Add or update ``profile`` (``replacing`` is the old name when it was renamed); returns it as
        saved, with its register: a renamed profile keeps the register (and journal) it had."""
        profile.validate()
        if profile.is_demo or profile.name == DEMO_PROFILE.name:
            raise ProfileError(_("The Demo profile is built in and cannot be changed."))
        data = self._read()
        entries = [p for p in data["profiles"] if isinstance(p, dict)]
        mine = (replacing or profile.name, profile.name)
        previous = next((p for p in entries if p.get("name") in mine[:1]), None) or next(
            (p for p in entries if p.get("name") == profile.name), None
        )
        others = [p for p in entries if p.get("name") not in mine]
        if previous is not None:
            self._refuse_to_strand_pending(previous, profile)
        stem = self._stem_of(previous) if previous is not None else None
        if stem is None:
            taken = {s for p in others if (s := self._stem_of(p)) is not None} | {DEMO_PROFILE.slug}
            stem = profile.slug
            suffix = 2
            while stem in taken:  # a renamed profile kept this name's file: take another
                stem = f"{profile.slug}-{suffix}"
                suffix += 1
        saved = replace(profile, register=stem)
        data["profiles"] = [*others, saved.to_json()]
        self._write(data)
        return saved

    @staticmethod
    def _refuse_to_strand_pending(entry: dict[str, Any], changed: Profile | None) -> None:
        """Refuse to delete a profile (``changed`` None), or to point it at another environment or
        merchant, while its register holds operations without a known outcome: they are finished by
        sending again with their keys to where they were begun, which the profile would no longer
        reach (or, deleted, never try). A register that cannot be read is left to its own checks."""
        try:
            before = Profile.from_json(entry)
        except ProfileError:
            return
        if changed is not None and (
            changed.kind,
            changed.effective_base_url,
            changed.merchant_serial_number,
        ) == (before.kind, before.effective_base_url, before.merchant_serial_number):
            return
        from epay_desktop.store.peek import PeekError, pending_in

        try:
            pending = pending_in(register_path(before))
        except PeekError as error:
            log.warning("could not look for unfinished operations of %s: %s", before.name, error)
            return
        if not pending:
            return
        if changed is None:
            text = ngettext(
                "{name} has {count} operation without a known outcome in its register. Finish or abandon "
                "it first (its row shows “pending: outcome unknown”); nothing was deleted.",
                "{name} has {count} operations without a known outcome in its register. Finish or "
                "abandon them first (their rows show “pending: outcome unknown”); nothing was deleted.",
                len(pending),
            )
        else:
            text = ngettext(
                "{name} has {count} operation without a known outcome in its register, begun with its "
                "current environment and serial number. Finish or abandon it first "
                "(its row shows “pending: outcome unknown”); nothing was saved.",
                "{name} has {count} operations without a known outcome in its register, begun with its "
                "current environment and serial number. Finish or abandon them first "
                "(their rows show “pending: outcome unknown”); nothing was saved.",
                len(pending),
            )
        raise ProfileError(text.format(name=before.name, count=len(pending)))

    @staticmethod
    def _stem_of(entry: dict[str, Any]) -> str | None:
        try:
            return Profile.from_json(entry).register_stem
        except ProfileError:
            return None

    def delete(self, name: str) -> None:
        if name == DEMO_PROFILE.name:
            raise ProfileError(_("The Demo profile is built in and cannot be deleted."))
        data = self._read()
        entry = next((p for p in data["profiles"] if isinstance(p, dict) and p.get("name") == name), None)
        if entry is not None:
            self._refuse_to_strand_pending(entry, None)
        data["profiles"] = [
            p for p in data["profiles"] if not (isinstance(p, dict) and p.get("name") == name)
        ]
        if data.get("lastUsed") == name:
            data["lastUsed"] = DEMO_PROFILE.name
        self._write(data)

    @property
    def last_used(self) -> str:
        value = self._read().get("lastUsed")
        return value if isinstance(value, str) else DEMO_PROFILE.name

    def set_last_used(self, name: str) -> None:
        data = self._read()
        data["lastUsed"] = name
        self._write(data)

    @property
    def language(self) -> str | None:
        """The language chosen in Settings (``nb``, ``da``, ``fi``, ``en``); None: follow the system."""
        value = self._read().get("language")
        return value if isinstance(value, str) and value else None

    def set_language(self, code: str | None) -> None:
        data = self._read()
        if code:
            data["language"] = code
        else:
            data.pop("language", None)
        self._write(data)
