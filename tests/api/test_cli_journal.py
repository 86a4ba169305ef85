"""``epay capture/refund/cancel`` keep a journal: an unknown outcome (exit 3) prints the key and the
exact command to finish it, and running the same command again resumes it with the same key, so the
money moves once."""

from __future__ import annotations

import importlib
import io
import json

import httpx
import pytest

from epay_desktop.cli import main
from epay_desktop.domain import Currency, Money
from epay_desktop.sandbox import SandboxConfig
from epay_desktop.services.elsewhere import cli_journal_path
from epay_desktop.store import IntentStatus, Operation, Store
from tests.api.fakes import problem
from tests.support.sandbox_server import running_sandbox

REF = "cli-journal-00001"


class LoseAnswers(httpx.AsyncBaseTransport):
    """In front of the CLI's in-process sandbox: while ``lose`` is set, every cancel/capture/refund is
    committed by the sandbox and its answer is then lost (the client sees a broken connection), and the
    event log cannot be read either, so the outcome stays unknown (a readable log would settle it)."""

    lose = False
    lost = 0
    refuse = False  # every cancel/capture/refund is refused with a 400 (the sandbox never sees it)

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if (
            LoseAnswers.refuse
            and request.method == "POST"
            and path.endswith(("/cancel", "/capture", "/refund"))
        ):
            return problem(400, "Payment is in a state that does not allow this", "6190")
        if LoseAnswers.lose and request.method == "GET" and path.endswith("/events"):
            raise httpx.ReadError("connection reset")
        response = await self.inner.handle_async_request(request)
        if (
            LoseAnswers.lose
            and request.method == "POST"
            and path.endswith(("/cancel", "/capture", "/refund"))
        ):
            await response.aread()
            await response.aclose()
            LoseAnswers.lost += 1
            raise httpx.ReadError("connection reset")
        return response


@pytest.fixture(autouse=True)
def lossy_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    module = importlib.import_module("epay_desktop.cli.connection")
    real = module.in_process_sandbox
    monkeypatch.setattr(module, "in_process_sandbox", lambda: LoseAnswers(real()))
    monkeypatch.setattr(LoseAnswers, "lose", False)
    monkeypatch.setattr(LoseAnswers, "lost", 0)
    monkeypatch.setattr(LoseAnswers, "refuse", False)


def run(capsys: pytest.CaptureFixture[str], *argv: str, stdin: str = "") -> tuple[int, str, str]:
    code = main(list(argv), stdin=io.StringIO(stdin))
    out, err = capsys.readouterr()
    return code, out, err


def _authorized(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(capsys, "create", "100.00", "-d", "CLI journal", "--phone", "4791234567", "--reference", REF)[0]
        == 0
    )
    assert run(capsys, "approve", REF)[0] == 0


def _events(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    code, out, _ = run(capsys, "--json", "events", REF)
    assert code == 0
    events: list[dict[str, object]] = json.loads(out)
    return events


def test_an_unknown_capture_prints_the_key_and_a_rerun_resumes_it(capsys: pytest.CaptureFixture[str]) -> None:
    _authorized(capsys)
    LoseAnswers.lose = True
    code, out, err = run(capsys, "capture", REF, "30.00")
    assert code == 3
    assert LoseAnswers.lost >= 1
    with Store(cli_journal_path()) as store:
        (intent,) = store.journal.pending()
    key = intent.idempotency_key
    assert f"Idempotency key: {key}" in out
    assert f"epay capture {REF} 30.00 --key {key}" in out

    LoseAnswers.lose = False
    code, out, err = run(capsys, "capture", REF, "30.00")  # the same command, no --key
    assert code == 0, err
    assert f"with its idempotency key {key}" in out
    captured = [e for e in _events(capsys) if e["name"] == "CAPTURED"]
    assert [e["idempotencyKey"] for e in captured] == [key]  # once, with the journaled key
    code, out, _ = run(capsys, "--json", "get", REF)
    assert json.loads(out)["aggregate"]["capturedAmount"]["value"] == 3000
    with Store(cli_journal_path()) as store:
        assert store.journal.pending() == []
        # The re-run read the event log first: the capture had gone through, nothing was sent again.
        assert store.journal.get(intent.id).status is IntentStatus.RECONCILED  # type: ignore[union-attr]


def test_another_operation_waits_for_the_unknown_one(capsys: pytest.CaptureFixture[str]) -> None:
    _authorized(capsys)
    LoseAnswers.lose = True
    assert run(capsys, "capture", REF, "30.00")[0] == 3
    LoseAnswers.lose = False
    code, _, err = run(capsys, "capture", REF, "20.00")
    assert code == 1
    assert "no known outcome" in err
    code, _, err = run(capsys, "cancel", REF, "--yes")
    assert code == 1
    assert "capture 30.00 NOK" in err
    code, _, err = run(capsys, "capture", REF, "30.00", "--key", "not-the-journaled-key")
    assert code == 2
    assert "repeat it with that key" in err
    assert [e for e in _events(capsys) if e["name"] == "CAPTURED"] != []  # the first one did happen
    code, _, _ = run(capsys, "capture", REF, "30.00")
    assert code == 0
    assert len([e for e in _events(capsys) if e["name"] == "CAPTURED"]) == 1


def test_an_unknown_cancel_is_resumed_by_the_same_command(capsys: pytest.CaptureFixture[str]) -> None:
    _authorized(capsys)
    LoseAnswers.lose = True
    code, out, _ = run(capsys, "cancel", REF, "--yes")
    assert code == 3
    assert f"epay cancel {REF} --yes --key " in out
    LoseAnswers.lose = False
    code, out, err = run(capsys, "cancel", REF, "--yes")  # already cancelled: the key replays
    assert code == 0, err
    assert len([e for e in _events(capsys) if e["name"] == "CANCELLED"]) == 1


def test_a_plain_capture_is_journaled_as_succeeded(capsys: pytest.CaptureFixture[str]) -> None:
    _authorized(capsys)
    code, out, _ = run(capsys, "--json", "capture", REF, "10.00")
    assert code == 0
    key = json.loads(out)["idempotencyKey"]
    with Store(cli_journal_path()) as store:
        (intent,) = store.journal.all()
    assert intent.idempotency_key == key
    assert intent.status is IntentStatus.SUCCEEDED


def test_a_pending_intent_is_never_resumed_in_another_environment(capsys: pytest.CaptureFixture[str]) -> None:
    """A capture left pending against the in-process sandbox must not be resumed (with its key) against
    another environment that has the same merchant and reference: refused there, with how to finish it."""
    _authorized(capsys)
    LoseAnswers.lose = True
    assert run(capsys, "capture", REF, "30.00")[0] == 3
    LoseAnswers.lose = False
    with Store(cli_journal_path()) as store:
        (intent,) = store.journal.pending()
    assert intent.profile == "epay-cli sandbox"

    with running_sandbox(SandboxConfig(data="empty", rate_limits=False)) as url:
        other = ("--base-url", url)
        assert (
            run(
                capsys,
                *other,
                "create",
                "100.00",
                "-d",
                "Elsewhere",
                "--phone",
                "4791234567",
                "--reference",
                REF,
            )[0]
            == 0
        )
        assert run(capsys, *other, "approve", REF)[0] == 0
        code, _, err = run(capsys, *other, "capture", REF, "30.00")
        assert code == 1, err
        assert "the built-in sandbox" in err  # names the other environment's pending intent
        assert intent.idempotency_key in err
        assert (
            f"epay --msn 123456 capture {REF} 30.00 --key {intent.idempotency_key}" in err
        )  # finish it there
        assert "Nothing was sent" in err
        code, out, _ = run(capsys, *other, "--json", "events", REF)
        assert [e for e in json.loads(out) if e["name"] == "CAPTURED"] == []  # the key never went there

        # Finished where it began, the other environment may capture (with a key of its own).
        assert run(capsys, "capture", REF, "30.00")[0] == 0
        code, out, err = run(capsys, *other, "--json", "capture", REF, "30.00")
        assert code == 0, err
        assert json.loads(out)["idempotencyKey"] != intent.idempotency_key
    with Store(cli_journal_path()) as store:
        profiles = [i.profile for i in store.journal.all()]
    assert profiles == [f"epay-cli sandbox {url}", "epay-cli sandbox"]


def test_a_refused_resend_of_a_capture_that_happened_is_reconciled(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _authorized(capsys)
    LoseAnswers.lose = True
    assert run(capsys, "capture", REF, "30.00")[0] == 3  # it went through; the answer was lost
    LoseAnswers.lose = False
    LoseAnswers.refuse = True  # the replay is refused (4xx): the event log decides, not the refusal
    code, out, err = run(capsys, "capture", REF, "30.00")
    assert code == 0, err
    assert "event log shows it went through" in out
    with Store(cli_journal_path()) as store:
        (intent,) = store.journal.all()
    assert intent.status is IntentStatus.RECONCILED
    assert len([e for e in _events(capsys) if e["name"] == "CAPTURED"]) == 1


def test_a_refused_resend_with_nothing_in_the_log_says_the_log_was_read(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _authorized(capsys)
    with Store(cli_journal_path()) as store:  # sent once before a crash; it never reached the server
        intent = store.journal.begin(
            operation=Operation.CAPTURE,
            profile="epay-cli sandbox",
            msn="123456",
            reference=REF,
            amount=Money(3000, Currency.NOK),
            idempotency_key="cli-key-sent-before-a-crash",
            os_user="epay-cli",
        )
        store.journal.note_attempt(intent.id)
    LoseAnswers.refuse = True
    code, _, err = run(capsys, "capture", REF, "30.00")
    assert code == 1
    assert "6190" in err
    with Store(cli_journal_path()) as store:
        after = store.journal.get(intent.id)
    assert after is not None
    assert after.status is IntentStatus.FAILED
    assert after.outcome.startswith("The API refused the resend (")
    assert after.outcome.endswith("the event log shows no capture, so nothing moved.")


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_resumed_cancel_prints_the_amount_it_actually_released(
    capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    _authorized(capsys)
    LoseAnswers.lose = True
    assert run(capsys, "cancel", REF, "--yes")[0] == 3
    LoseAnswers.lose = False
    code, out, err = run(capsys, *(["--json"] if as_json else []), "cancel", REF, "--yes")
    assert code == 0, err
    if as_json:
        assert json.loads(out)["released"] == {"currency": "NOK", "value": 10000}
    else:
        assert "Cancelled: 100.00\u00a0NOK released." in out
