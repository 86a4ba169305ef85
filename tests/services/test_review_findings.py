"""Findings of the money-path review, each a reproduction that failed before its fix."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from epay_desktop.services import PaymentDesk, Profile, ProfileKind, ProfileStore, register_path
from epay_desktop.store import IntentStatus, Operation
from tests.services.conftest import BASE_URL, MSN, Bench, nok


@pytest.mark.anyio
async def test_a_renamed_profile_still_finishes_its_unfinished_operations(bench: Bench) -> None:
    """An intent left pending under a profile's old name is the renamed profile's (same register): it
    is listed, recovered on start and can be finished; it must not block the payment for ever."""
    store = ProfileStore()
    shop = store.save(
        Profile(
            "Shop",
            ProfileKind.CUSTOM,
            MSN,
            client_id="demo-client",
            base_url=BASE_URL,
            unencrypted_sandbox=True,
        )
    )
    path = register_path(shop)
    desk = await PaymentDesk.open(shop, bench.client, path, operator="tester")
    try:
        ref = await bench.approved_payment(10000)
        await desk.add_references(ref)
        intent = await asyncio.to_thread(
            desk.store.journal.begin,
            operation=Operation.CAPTURE,
            profile="Shop",
            msn=MSN,
            reference=ref,
            amount=nok(2500),
            idempotency_key="review-renamed-0001",
            os_user="tester",
        )
        await asyncio.to_thread(desk.store.journal.note_attempt, intent.id)
    finally:
        await desk.aclose()

    renamed = store.save(replace(shop, name="Shop (Oslo)"), replacing="Shop")
    assert register_path(renamed) == path  # the register (and its journal) follows the profile
    desk = await PaymentDesk.open(renamed, bench.client, path, operator="tester")
    try:
        assert [i.id for i in await desk.pending_intents()] == [intent.id]
        recovered = await desk.recover_pending()
        assert [r.intent_id for r in recovered] == [intent.id]
        now = await asyncio.to_thread(desk.store.journal.get, intent.id)
        assert now is not None
        assert now.status is not IntentStatus.PENDING
        assert (await bench.event_names(ref)).count("CAPTURED") == 1
    finally:
        await desk.aclose()
