"""Review findings 2 and 8: recovery never sends by itself what the person was told had failed, nor
an old or never-sent intent; it reports per intent what happened, and "still unknown" is never
reported as finished."""

from __future__ import annotations

import pytest

from epay_desktop.api import new_idempotency_key
from epay_desktop.services import IntentStatus
from epay_desktop.store import Operation
from tests.services.conftest import MSN, Bench

pytestmark = pytest.mark.anyio


async def test_recovery_reports_a_refusal_by_the_client_as_closed_not_as_tried_again(bench: Bench) -> None:
    intent = await bench.desk._db(
        bench.desk.store.journal.begin,
        operation=Operation.CANCEL,
        profile="Demo",
        msn=MSN,
        # An intent the client refuses before sending (NotAllowedError): a reference it cannot send.
        reference="not/a/reference",
        amount=None,
        idempotency_key=new_idempotency_key(),
        os_user="tester",
    )
    await bench.desk._db(bench.desk.store.journal.note_attempt, intent.id)
    (result,) = await bench.desk.recover_pending()
    text = str(result)
    assert "next time" not in text
    assert "not sent" in text.lower()
    (intent,) = await bench.desk.journal()
    assert intent.status is IntentStatus.FAILED
    assert await bench.desk.pending_intents() == []
