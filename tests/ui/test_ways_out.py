"""Every way out is the window's way out: closing the window, QApplication.quit() (a desktop session's
logout) and SIGTERM all let a send in flight finish and record its outcome, then close the register
cleanly. Each runs the real app in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from epay_desktop.sandbox import SandboxConfig, create_app
from epay_desktop.store import IntentStatus, Store

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("how", ["close", "quit", "sigterm", "quit-idle", "sigterm-idle"])
def test_every_way_out_finishes_the_send_and_closes_the_register(tmp_path: Path, how: str) -> None:
    env = os.environ | {"EPAY_DESKTOP_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-m", "tests.ui.way_out", how],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    out, err = result.stdout, result.stderr
    assert "SENDING " in out, err
    reference = out.split("SENDING ", 1)[1].split()[0]
    assert result.returncode == 0, err
    assert "EXIT 0" in out
    assert "Traceback" not in err
    assert "RuntimeError" not in err
    register = tmp_path / "data" / "registers" / "Demo.sqlite3"
    # Closed cleanly: the last connection's close checkpoints and removes the write-ahead log.
    assert not Path(f"{register}-wal").exists()
    if reference == "nothing":
        return
    with Store(register) as store:
        (intent,) = [i for i in store.journal.all() if i.reference == reference]
        assert intent.status is IntentStatus.SUCCEEDED, intent
    sandbox = create_app(SandboxConfig(state_file=tmp_path / "data" / "demo-sandbox.sqlite3"))
    payment = next(p for (_, ref), p in sandbox.state.sandbox.engine.payments.items() if ref == reference)
    assert [e.name for e in payment.events].count("CAPTURED") == 1
