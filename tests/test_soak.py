"""``benchmarks/soak.py`` with few trials: captures and refunds through two desks on one register and
two ``epay`` runners on one journal, with faults, dropped answers and kills of the workers and of the
sandbox; it fails on any doubled, lost, stuck or wrong-amount operation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_soak_with_few_trials_moves_every_amount_exactly_once() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "soak.py"),
            "--trials",
            "24",
            "--seed",
            "7",
            "--limit",
            "240",
        ],
        capture_output=True,
        text=True,
        timeout=290,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("doubled", "lost", "stuck", "wrong amounts"):
        line = next(line for line in result.stdout.splitlines() if line.strip().startswith(name))
        assert line.rsplit(None, 1)[-1] == "0", result.stdout
    line = next(line for line in result.stdout.splitlines() if line.strip().startswith("trials"))
    assert int(line.split()[-1]) >= 24
