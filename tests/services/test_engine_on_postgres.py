"""The one journaled-send engine runs on the PostgreSQL store unchanged: what team mode will build on.

Two engines on one PostgreSQL database play two instances of the team service: real PostgreSQL (the
session's throwaway cluster), the real client, the sandbox in-process.
"""

from __future__ import annotations

import asyncio

import pytest

from epay_desktop.domain import State
from epay_desktop.services import AlreadyPendingError, StandaloneJournal
from epay_desktop.store import IntentStatus, Operation, PgStore
from tests.services.conftest import Bench
from tests.support.postgres import Cluster

pytestmark = pytest.mark.anyio


async def test_two_instances_cancel_one_payment_once_through_the_engine_on_postgresql(
    bench: Bench, postgres_cluster: Cluster
) -> None:
    reference = await bench.approved_payment()
    conninfo = postgres_cluster.new_schema()
    first_store = await asyncio.to_thread(PgStore, conninfo)
    second_store = await asyncio.to_thread(PgStore, conninfo)
    first = StandaloneJournal(first_store, bench.client, profile="Desk", operator="kari")
    second = StandaloneJournal(second_store, bench.client, profile="Desk", operator="ola")
    try:
        begun = await asyncio.gather(
            first.engine.begin(Operation.CANCEL, reference, None),
            second.engine.begin(Operation.CANCEL, reference, None),
            return_exceptions=True,
        )
        won = [b for b in begun if not isinstance(b, BaseException)]
        lost = [b for b in begun if isinstance(b, AlreadyPendingError)]
        assert len(won) == 1, begun
        assert len(lost) == 1, begun
        assert lost[0].intent.id == won[0].id  # the one refused is told whose intent holds the payment
        winner = first if won[0].os_user == "kari" else second

        result = await winner.engine.send(won[0], None)
        assert result.payment.state is State.AUTHORIZED
        assert result.payment.aggregate.cancelled.value == 10000

        names = await bench.event_names(reference)
        assert names.count("CANCELLED") == 1
        intents = await asyncio.to_thread(first_store.journal.all)
        assert [(i.status, i.attempts) for i in intents] == [(IntentStatus.SUCCEEDED, 1)]
        lines = await asyncio.to_thread(second_store.audit.entries)
        assert [(e.action, e.result, e.os_user) for e in lines] == [
            ("cancel", "succeeded", won[0].os_user),
            ("cancel", "requested", won[0].os_user),
        ]
    finally:
        await first.aclose()
        await second.aclose()
