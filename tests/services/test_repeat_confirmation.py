"""A repeat of the same capture or refund (same payment, same amount) minutes after one succeeded is
shown what already happened and sent only when confirmed (``again``); in the desk and on the command
line (``--again``). The case: ``epay`` killed after the journal recorded a success but before it printed
it, and the operator runs the command again."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from epay_desktop.cli import main
from epay_desktop.services import RepeatNotConfirmedError
from epay_desktop.services.engine import REPEAT_WINDOW
from tests.services.conftest import Bench, nok


@pytest.mark.anyio
async def test_the_desk_asks_before_a_second_capture_of_the_same_amount(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    await bench.desk.capture(ref, nok(2500))
    with pytest.raises(RepeatNotConfirmedError, match="already captured") as asked:
        await bench.desk.capture(ref, nok(2500))
    assert "25.00 NOK" in str(asked.value)
    assert (await bench.event_names(ref)).count("CAPTURED") == 1
    await bench.desk.capture(ref, nok(1000))  # another amount: not a repeat
    second = await bench.desk.capture(ref, nok(2500), again=True)
    assert second.amount == nok(2500)
    assert (await bench.event_names(ref)).count("CAPTURED") == 3
    await bench.desk.refund(ref, nok(500))
    with pytest.raises(RepeatNotConfirmedError, match="already refunded"):
        await bench.desk.refund(ref, nok(500))


@pytest.mark.anyio
async def test_an_older_success_is_not_a_repeat(bench: Bench) -> None:
    ref = await bench.approved_payment(10000)
    await bench.desk.capture(ref, nok(2500))
    old = (datetime.now(UTC) - REPEAT_WINDOW - timedelta(minutes=1)).isoformat()
    await asyncio.to_thread(
        bench.desk.store.db.write, "test", lambda c: c.execute("UPDATE intents SET finished_at = ?", (old,))
    )
    await bench.desk.capture(ref, nok(2500))
    assert (await bench.event_names(ref)).count("CAPTURED") == 2


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv), stdin=io.StringIO(""))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_line_asks_for_again(capsys: pytest.CaptureFixture[str], app_home: object) -> None:
    ref = "repeat-ref-000001"
    assert _run(capsys, "create", "100", "-d", "Repeat", "--reference", ref)[0] == 0
    assert _run(capsys, "approve", ref)[0] == 0
    assert _run(capsys, "capture", ref, "25")[0] == 0
    # Killed before the printout: the operator runs the same command again.
    code, _, err = _run(capsys, "capture", ref, "25")
    assert code == 1
    assert "already captured" in err
    assert "--again" in err
    code, out, _ = _run(capsys, "--json", "events", ref)
    assert [e["name"] for e in json.loads(out)].count("CAPTURED") == 1
    code, _, err = _run(capsys, "capture", ref, "25", "--again")
    assert code == 0, err
    code, out, _ = _run(capsys, "--json", "events", ref)
    assert [e["name"] for e in json.loads(out)].count("CAPTURED") == 2
