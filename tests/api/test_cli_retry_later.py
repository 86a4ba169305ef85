"""``epay`` when the API asks to try again later with the same key (agent-toolkit
epayment_references_errors.md 6280 "Capture failed, please try again later": "Retry the capture with the
same idempotency key after a short wait"): it says so, prints the exact command with that key, and that
command goes through. The refusal comes from the real sandbox's ``captureFailures`` fault."""

from __future__ import annotations

import importlib
import io
import json

import httpx
import pytest

from epay_desktop.cli import main
from epay_desktop.services.elsewhere import cli_journal_path
from epay_desktop.store import IdempotencyKeyUsedError, IntentStatus, Operation, Store

REF = "cli-retry-later-01"


class FailNextCapture(httpx.AsyncBaseTransport):
    """The CLI's own in-process sandbox; ``armed`` sets its fault so the next capture gets 6280."""

    armed = False

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if FailNextCapture.armed and request.method == "POST" and request.url.path.endswith("/capture"):
            FailNextCapture.armed = False
            fault = httpx.Request(
                "PUT", request.url.copy_with(path="/sandbox/v1/faults"), json={"captureFailures": 1}
            )
            answer = await self.inner.handle_async_request(fault)
            await answer.aread()
            assert answer.status_code == 200
        return await self.inner.handle_async_request(request)


@pytest.fixture(autouse=True)
def failing_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    module = importlib.import_module("epay_desktop.cli.connection")
    real = module.in_process_sandbox
    monkeypatch.setattr(module, "in_process_sandbox", lambda: FailNextCapture(real()))
    monkeypatch.setattr(FailNextCapture, "armed", False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv), stdin=io.StringIO(""))
    out, err = capsys.readouterr()
    return code, out, err


def test_capture_failed_prints_the_retry_command_with_the_same_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        run(capsys, "create", "100.00", "-d", "Retry later", "--phone", "4791234567", "--reference", REF)[0]
        == 0
    )
    assert run(capsys, "approve", REF)[0] == 0
    FailNextCapture.armed = True
    code, out, err = run(capsys, "capture", REF, "30.00")
    assert code == 1  # refused
    assert "6280" in err
    assert "try again later with the same idempotency key" in err
    with Store(cli_journal_path()) as store:
        (intent,) = [i for i in store.journal.all() if i.reference == REF]
    assert intent.status is IntentStatus.FAILED
    key = intent.idempotency_key
    command = f"epay capture {REF} 30.00 --key {key}"
    assert command in out
    assert "Nothing moved" in out

    code, out, err = run(capsys, *command.split()[1:])
    assert code == 0, err
    code, out, _ = run(capsys, "--json", "events", REF)
    captured = [e for e in json.loads(out) if e["name"] == "CAPTURED"]
    assert [e["idempotencyKey"] for e in captured] == [key]  # once, with the same key
    with Store(cli_journal_path()) as store:
        again = next(i for i in store.journal.all() if i.idempotency_key == key)
    assert again.status in (IntentStatus.SUCCEEDED, IntentStatus.RECONCILED)


def test_a_key_of_another_operation_is_refused_without_sending(capsys: pytest.CaptureFixture[str]) -> None:
    with Store(cli_journal_path()) as store:
        intent = store.journal.begin(
            operation=Operation.CANCEL,
            profile="cli",
            msn="123456",
            reference=REF,
            amount=None,
            idempotency_key="used-key-0001",
            os_user="tester",
        )
        store.journal.finish(intent.id, IntentStatus.SUCCEEDED, "done", os_user="tester")
        with pytest.raises(IdempotencyKeyUsedError, match="used-key-0001"):
            store.journal.begin(
                operation=Operation.CAPTURE,
                profile="cli",
                msn="123456",
                reference=REF,
                amount=None,
                idempotency_key="used-key-0001",
                os_user="tester",
            )
        assert [i.status for i in store.journal.all() if i.reference == REF] == [IntentStatus.SUCCEEDED]
