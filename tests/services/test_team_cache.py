"""The list a Team profile's desk was last shown, kept on disk: read back as it was written, with no
token or secret in it; a damaged file, another format or version, or another server's list is ignored
with a log line (never a crash); a write replaces the file whole."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from epay_desktop.api.team_client import TeamClient
from epay_desktop.services import Profile, ProfileKind
from epay_desktop.services.team_cache import CACHE_VERSION, TeamListCache
from epay_desktop.services.team_desk import TeamDesk
from epay_desktop.services.team_rows import activity_of
from epay_desktop.services.wire import tracked_from_json
from tests.services.test_team_rows import GOOD

PROFILE = Profile("Desk", ProfileKind.TEAM, "123456", base_url="https://team.example.no", agent="ola")
TOKEN = "secret-session-token-0123456789"


def written(tmp_path: Path) -> TeamListCache:
    cache = TeamListCache(tmp_path / "lists" / "desk.json", PROFILE)
    row = tracked_from_json({**GOOD, "events": []})
    activity = activity_of(GOOD)
    assert activity is not None
    cache.save(
        [row],
        {row.reference: activity},
        agent="ola",
        role="agent",
        fetched_at=datetime(2026, 12, 1, 15, 40, tzinfo=UTC),
    )
    return cache


def test_the_list_is_read_back_as_it_was_kept_without_any_secret(tmp_path: Path) -> None:
    cache = written(tmp_path)
    text = cache.path.read_text(encoding="utf-8")
    assert TOKEN not in text
    assert "token" not in text.lower()
    assert [p.name for p in cache.path.parent.iterdir()] == ["desk.json"]  # no temporary file left
    kept = cache.load()
    assert kept is not None
    (row,) = kept.rows
    assert row == tracked_from_json({**GOOD, "events": []})
    assert kept.activity["order-1001"].by == "kari"
    assert (kept.agent, kept.role) == ("ola", "agent")
    assert kept.fetched_at == datetime(2026, 12, 1, 15, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # cut short
        lambda text: "\udcff not json",
        lambda text: text.replace(f'"version":{CACHE_VERSION}', '"version":0'),  # an old format
        lambda text: text.replace('"format":"epay-desktop team list"', '"format":"something else"'),
        lambda text: text.replace('"reference":"order-1001"', '"reference":7'),  # a row that cannot be read
        lambda text: json.dumps([[[[]]]]),
    ],
)
def test_a_damaged_or_old_file_is_ignored_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: object
) -> None:
    cache = written(tmp_path)
    text = cache.path.read_text(encoding="utf-8")
    assert callable(damage)
    cache.path.write_text(damage(text), encoding="utf-8", errors="surrogateescape")
    with caplog.at_level(logging.WARNING, logger="epay_desktop.services.team_cache"):
        assert cache.load() is None
    assert "ignored" in caplog.text


def test_a_list_of_another_server_or_merchant_is_not_shown(tmp_path: Path) -> None:
    cache = written(tmp_path)
    moved = Profile("Desk", ProfileKind.TEAM, "123456", base_url="https://other.example.no", agent="ola")
    assert TeamListCache(cache.path, moved).load() is None
    assert TeamListCache(tmp_path / "none.json", PROFILE).load() is None  # none kept yet


def test_the_desk_keeps_what_it_was_shown_and_opens_on_it_offline(tmp_path: Path) -> None:
    cache = TeamListCache(tmp_path / "desk.json", PROFILE)
    answers = {"/api/v1/me": {"name": "ola", "role": "supervisor"}}

    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path in answers:
            return httpx.Response(200, json=answers[request.url.path])
        return httpx.Response(200, json={"merchantSerialNumber": "123456", "payments": [GOOD]})

    async def main() -> None:
        shown = TeamDesk(
            PROFILE,
            TeamClient("https://team.example.no", token=TOKEN, transport=httpx.MockTransport(serve)),
            agent="ola",
            role="supervisor",
            cache=cache,
        )
        await shown.load_register()
        await shown.aclose()  # what is unsaved is written on close
        kept = cache.load()
        assert kept is not None
        assert [r.reference for r in kept.rows] == ["order-1001"]

        def unreachable(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("refused", request=request)

        offline = TeamDesk(
            PROFILE,
            TeamClient("https://team.example.no", token=TOKEN, transport=httpx.MockTransport(unreachable)),
            cache=cache,
        )
        offline.start_offline(kept, "no answer")
        assert offline.read_only
        assert offline.unconfirmed
        rows = await offline.load_register()
        assert [r.reference for r in rows] == ["order-1001"]
        assert offline.activity["order-1001"].by == "kari"
        assert offline.fetched_at == kept.fetched_at
        await offline.aclose()

    asyncio.run(main())
