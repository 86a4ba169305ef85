"""The team client's reading of a server-sent event stream (``text/event-stream``): what a line-level
parser must get right whatever the server sends (comments, ids, several data lines, unknown events,
data that is not JSON)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from epay_desktop.api.team_client import LiveEvent, server_sent_events


async def lines_of(text: str) -> AsyncIterator[str]:
    for line in text.split("\n"):
        yield line


def read(text: str) -> list[LiveEvent]:
    async def collect() -> list[LiveEvent]:
        return [event async for event in server_sent_events(lines_of(text))]

    return asyncio.run(collect())


def test_payment_events_with_their_ids_and_comments_skipped() -> None:
    stream = (
        ": heartbeat\n\n"
        "id: 41\nevent: payment\n"
        'data: {"reference": "order-1", "kind": "working", "agent": "kari", '
        '"action": "cancel", "at": "t"}\n\n'
        "id: 42\nevent: payment\n"
        'data: {"reference": "order-1", "kind": "done", "agent": "kari", "action": "cancel"}\n\n'
    )
    assert read(stream) == [
        LiveEvent("order-1", "working", "kari", "cancel", "t", id="41"),
        LiveEvent("order-1", "done", "kari", "cancel", "", id="42"),
    ]


def test_data_over_several_lines_is_joined_and_a_null_agent_is_nobody() -> None:
    stream = (
        'id: 7\nevent: payment\ndata: {"reference": "order-2",\ndata:  "kind": "changed", "agent": null}\n\n'
    )
    assert read(stream) == [LiveEvent("order-2", "changed", "", "", "", id="7")]


def test_reload_is_told_and_what_cannot_be_read_is_skipped() -> None:
    stream = (
        "event: payment\ndata: not json\n\n"
        "event: payment\ndata: [1, 2]\n\n"
        "event: something-else\ndata: {}\n\n"
        "id: 9\nevent: reload\ndata: {}\n\n"
        'event: payment\ndata: {"reference": "order-3"}\n\n'
    )
    assert read(stream) == [
        LiveEvent("", "reload", id="9"),
        LiveEvent("order-3", "changed", id="9"),  # no kind: read it again, the safe reading
    ]


def test_an_unfinished_event_at_the_end_of_the_stream_is_not_taken() -> None:
    assert read('event: payment\ndata: {"reference": "order-4", "kind": "changed"}') == []


def test_an_approval_event_names_the_request_and_one_that_cannot_be_read_is_skipped() -> None:
    stream = (
        "id: 50\nevent: approval\n"
        'data: {"approval": 12, "status": "sent", "requestedBy": "siri", '
        '"reference": "order-4", "at": "t"}\n\n'
        'event: approval\ndata: {"approval": "twelve", "status": "sent"}\n\n'
        "event: approval\ndata: not json\n\n"
    )
    assert read(stream) == [LiveEvent("order-4", "approval", "siri", "sent", "t", id="50", approval=12)]
