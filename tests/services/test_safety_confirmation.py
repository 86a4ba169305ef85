"""Review finding 7: a cancel re-reads the payment right before it is committed, and refuses (nothing
sent) when what it would release differs from what the person confirmed."""

from __future__ import annotations

import pytest

from epay_desktop.api import new_idempotency_key
from epay_desktop.services import ActionNotPossibleError, StaleConfirmationError
from tests.services.conftest import Bench, nok

pytestmark = pytest.mark.anyio


async def test_a_cancel_confirmed_on_old_figures_is_refused_with_the_fresh_ones(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)  # the snapshot: 100.00 NOK to release
    await bench.client.capture(ref, nok(3000), idempotency_key=new_idempotency_key())  # elsewhere
    with pytest.raises(StaleConfirmationError) as caught:
        await bench.desk.cancel(ref, expected_release=nok(10000))
    error = caught.value
    assert error.expected == nok(10000)
    assert error.now == nok(7000)
    assert error.tracked.payment is not None
    assert error.tracked.payment.aggregate.captured == nok(3000)  # the fresh figures, to show
    assert "70.00 NOK" in str(error)
    assert "100.00 NOK" in str(error)
    assert "Nothing was sent" in str(error)
    assert await bench.desk.journal() == []
    assert "CANCELLED" not in await bench.event_names(ref)
    saved = await bench.desk.tracked(ref)
    assert saved is not None
    assert saved.payment is not None
    assert saved.payment.aggregate.captured == nok(3000)  # the row shows it too

    result = await bench.desk.cancel(ref, expected_release=nok(7000))  # confirmed again
    assert result.released == nok(7000)


async def test_a_cancel_without_an_expected_amount_still_reads_first(bench: Bench) -> None:
    ref = await bench.approved_payment(5000)
    await bench.client.cancel(ref, idempotency_key=new_idempotency_key())  # elsewhere
    with pytest.raises(ActionNotPossibleError, match="Already cancelled"):
        await bench.desk.cancel(ref)
    assert await bench.desk.journal() == []  # refused before an intent was written


async def test_the_confirmed_amount_matching_sends_once(bench: Bench) -> None:
    ref = await bench.approved_payment(4200)
    result = await bench.desk.cancel(ref, expected_release=nok(4200))
    assert result.released == nok(4200)
    assert (await bench.event_names(ref)).count("CANCELLED") == 1
