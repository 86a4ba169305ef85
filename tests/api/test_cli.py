"""``epay`` end to end through ``main(argv)`` on the in-process sandbox (a fresh one per test: the
state file lives in the test's private app home)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from epay_desktop.cli import main

REF = "cli-test-000001"


def run(capsys: pytest.CaptureFixture[str], *argv: str, stdin: str = "") -> tuple[int, str, str]:
    code = main(list(argv), stdin=io.StringIO(stdin))
    out, err = capsys.readouterr()
    return code, out, err


def _authorized(capsys: pytest.CaptureFixture[str], amount: str = "100.00") -> None:
    assert (
        run(capsys, "create", amount, "-d", "CLI test", "--phone", "4791234567", "--reference", REF)[0] == 0
    )
    assert run(capsys, "approve", REF)[0] == 0


@pytest.mark.parametrize(
    ("text", "minor"), [("12.50", 1250), ("12,5", 1250), ("12", 1200), ("1.05", 105), (" 1 000 ", 100000)]
)
def test_amounts_are_read_exactly_in_the_payments_currency(
    text: str, minor: int, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--json", "create", text, "-d", "CLI test", "--reference", REF)
    assert code == 0, out
    code, out, _ = run(capsys, "--json", "get", REF)
    assert json.loads(out)["amount"] == {"currency": "NOK", "value": minor}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1,250", "ambiguous"),
        ("-1", "positive"),
        ("1e3", "not an amount"),
        ("12.505", "ambiguous"),
        ("12.5050", "2 decimals"),
        ("", "Type an amount"),
        ("NaN", "not an amount"),
        ("12 34", "groups of three"),
        ("0", "more than zero"),
    ],
)
def test_bad_amounts_are_usage_errors_before_any_call(
    text: str, why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "capture", "no-such-payment", text)  # no call: it would be a 404
    assert code == 2
    assert "amount" in err
    assert why in err


def test_an_amount_in_another_currency_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    _authorized(capsys)
    code, _, err = run(capsys, "capture", REF, "12 EUR")
    assert code == 2
    assert "must be in NOK, not EUR" in err
    code, out, _ = run(capsys, "--json", "get", REF)
    assert json.loads(out)["aggregate"]["capturedAmount"]["value"] == 0
    assert run(capsys, "capture", REF, "12,50 kr")[0] == 0
    code, out, _ = run(capsys, "--json", "get", REF)
    assert json.loads(out)["aggregate"]["capturedAmount"]["value"] == 1250


def test_get_and_events_of_a_created_payment(capsys: pytest.CaptureFixture[str]) -> None:
    _authorized(capsys, "12.50")
    code, out, _ = run(capsys, "get", REF)
    assert code == 0
    assert "AUTHORIZED" in out
    assert "12.50\u00a0NOK" in out
    code, out, _ = run(capsys, "--json", "events", REF)
    assert code == 0
    events = json.loads(out)
    assert [e["name"] for e in events] == ["CREATED", "AUTHORIZED"]
    assert events[0]["amount"] == {"currency": "NOK", "value": 1250}


def test_cancel_asks_and_no_means_nothing_happens(capsys: pytest.CaptureFixture[str]) -> None:
    _authorized(capsys)
    code, out, err = run(capsys, "cancel", REF, stdin="n\n")
    assert code == 1
    assert "100.00\u00a0NOK will be released" in out
    assert "Not confirmed" in err
    code, out, _ = run(capsys, "--json", "get", REF)
    assert json.loads(out)["aggregate"]["cancelledAmount"]["value"] == 0


def test_cancel_with_yes_releases_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    _authorized(capsys)
    assert run(capsys, "capture", REF, "25")[0] == 0
    code, out, _ = run(capsys, "cancel", REF, stdin="y\n")
    assert code == 0
    assert "75.00\u00a0NOK will be released" in out
    assert "Cancelled: 75.00\u00a0NOK released." in out
    code, _, err = run(capsys, "cancel", REF, "--yes")
    assert code == 1
    assert "Already cancelled" in err


def test_json_cancel_keeps_stdout_parseable(capsys: pytest.CaptureFixture[str]) -> None:
    _authorized(capsys)
    code, out, err = run(capsys, "--json", "cancel", REF, "--yes", "--key", "my-key-1")
    assert code == 0
    data = json.loads(out)
    assert data["released"] == {"currency": "NOK", "value": 10000}
    assert data["idempotencyKey"] == "my-key-1"
    assert "will be released" in err


def test_api_refusal_exit_code_and_json_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--json", "get", "no-such-payment")
    assert code == 1
    assert json.loads(out)["error"]["status"] == 404
    assert "epay:" in err


def test_capture_more_than_capturable_is_refused_before_sending(capsys: pytest.CaptureFixture[str]) -> None:
    _authorized(capsys, "10")
    code, _, err = run(capsys, "capture", REF, "10.01")
    assert code == 1
    assert "at most 10.00\u00a0NOK can be captured" in err
    assert run(capsys, "capture", REF, "10")[0] == 0
    assert run(capsys, "refund", REF, "4.50")[0] == 0


def test_test_environment_needs_credentials(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("EPAY_CLIENT_ID", "EPAY_CLIENT_SECRET", "EPAY_SUBSCRIPTION_KEY", "EPAY_MSN"):
        monkeypatch.delenv(name, raising=False)
    code, _, err = run(capsys, "--env", "test", "get", REF)
    assert code == 4
    assert "EPAY_CLIENT_SECRET" in err


def test_production_refuses_approve_without_sending(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EPAY_CLIENT_ID", "id")
    monkeypatch.setenv("EPAY_CLIENT_SECRET", "secret-value")
    monkeypatch.setenv("EPAY_SUBSCRIPTION_KEY", "sub-key-value")
    monkeypatch.setenv("EPAY_MSN", "123456")
    code, _, err = run(capsys, "--env", "production", "approve", REF)
    assert code == 1
    assert "only in the test environment" in err


def test_unreachable_sandbox_is_a_network_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--base-url", "http://127.0.0.1:9", "token")
    assert code == 4
    assert "could not be reached" in err


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys)[0] == 2
    assert run(capsys, "get", "bad/ref")[0] == 2
    assert run(capsys, "frobnicate")[0] == 2


def test_the_installed_entry_point_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from epay_desktop.cli import main; sys.exit(main())", "token"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "credentials accepted" in result.stdout


def test_a_reader_that_stops_reading_is_not_a_crash(capsys: pytest.CaptureFixture[str]) -> None:
    """``epay --json get REF | head -c1``: the reader goes away before the output is written; epay
    finishes quietly with its own exit code (no BrokenPipeError traceback)."""
    _authorized(capsys)
    entry = "import sys; from epay_desktop.cli import main; sys.exit(main())"
    process = subprocess.Popen(
        [sys.executable, "-c", entry, "--json", "get", REF],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.close()  # like `head -c1` after its byte, before epay has written anything
    _out, err = process.communicate(timeout=60)
    assert "Traceback" not in err.decode(), err.decode()
    assert "BrokenPipeError" not in err.decode()
    assert process.returncode == 0
