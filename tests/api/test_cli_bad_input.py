"""Bad input to ``epay`` gives a clear error and an exit code, never a traceback, and sends nothing."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from epay_desktop.cli import main

REF = "bad-input-00001"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv), stdin=io.StringIO(""))
    out, err = capsys.readouterr()
    return code, out, err


def _authorized(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "create", "100", "-d", "Bad input", "--reference", REF)[0] == 0
    assert run(capsys, "approve", REF)[0] == 0


def _captured(capsys: pytest.CaptureFixture[str]) -> list[str]:
    code, out, _ = run(capsys, "events", REF)
    assert code == 0
    return [line for line in out.splitlines() if "CAPTURED" in line]


def test_a_key_already_in_the_journal_is_refused_and_nothing_is_sent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _authorized(capsys)
    assert run(capsys, "capture", REF, "10", "--key", "my-key-1")[0] == 0
    code, _out, err = run(capsys, "capture", REF, "5", "--key", "my-key-1")
    assert code == 2, err
    assert "Traceback" not in err
    assert "already belongs to the capture" in err
    assert "Nothing was sent" in err
    assert len(_captured(capsys)) == 1


def test_a_damaged_cli_journal_is_said_and_nothing_is_sent(
    capsys: pytest.CaptureFixture[str], app_home: Path
) -> None:
    _authorized(capsys)
    journal = app_home / "data" / "cli-journal.sqlite3"
    journal.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    code, _, err = run(capsys, "capture", REF, "10")
    assert code in (1, 4), err
    assert "journal" in err
    assert "cannot be used" in err
    assert "Nothing was sent" in err
    assert _captured(capsys) == []


def test_a_damaged_cli_sandbox_state_is_said(capsys: pytest.CaptureFixture[str], app_home: Path) -> None:
    state = app_home / "data" / "cli-sandbox.sqlite"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_bytes(b"not a database" * 300)
    code, _, err = run(capsys, "get", REF)
    assert code == 4
    assert "sandbox state file" in err
    assert "cannot be used" in err


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://[::1", "not a valid URL"),
        ("http://127.0.0.1:99999", "port"),
        ("ftp://127.0.0.1", "http://"),
        ("http://:8080", "no host"),
    ],
)
def test_a_bad_base_url_is_a_usage_error(capsys: pytest.CaptureFixture[str], url: str, why: str) -> None:
    code, _, err = run(capsys, "--base-url", url, "get", REF)
    assert code == 2
    assert why.lower() in err.lower()
    assert "Traceback" not in err


def test_no_traceback_from_the_installed_command_for_a_bad_url(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from epay_desktop.cli import main; sys.exit(main())",
            *("--base-url", "http://[::1", "get", REF),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"EPAY_DESKTOP_HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_a_journal_row_with_a_bad_cell_does_not_break_the_command(
    capsys: pytest.CaptureFixture[str], app_home: Path
) -> None:
    _authorized(capsys)
    assert run(capsys, "capture", REF, "10")[0] == 0
    with sqlite3.connect(app_home / "data" / "cli-journal.sqlite3") as db:
        db.execute("UPDATE intents SET currency = 'XYZ'")
    db.close()
    code, _, err = run(capsys, "capture", REF, "5")
    assert code == 0, err
    assert len(_captured(capsys)) == 2
