"""Starts a capture through the desk or through ``epay`` and waits to be killed (SIGKILL) by the test
while the request is in flight.

Run by ``test_one_money_path.py`` as a separate process:

    python kill_midway.py desk|cli <base_url> <register_path> <reference> <amount> <marker_file>

It writes the intent's idempotency key to ``marker_file`` as soon as the intent is committed to its
journal (the desk's register, or the command line's journal in the app home), then waits; the sandbox
holds the answer until the test has killed it.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path

from epay_desktop.api import Credentials, Environment, EPaymentClient
from epay_desktop.cli import main as epay
from epay_desktop.domain import Currency, Money
from epay_desktop.services import PaymentDesk, Profile, ProfileKind
from epay_desktop.services.elsewhere import cli_journal_path
from epay_desktop.store import RegisterError, Store

CREDENTIALS = Credentials("demo-client", "demo-secret", "demo-subscription-key", "123456")


def _mark(marker: Path, key: str) -> None:
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(key, encoding="utf-8")
    tmp.replace(marker)


async def desk(base_url: str, register: Path, reference: str, amount: str, marker: Path) -> None:
    profile = Profile("Demo", ProfileKind.CUSTOM, "123456", "demo-client", base_url)
    async with EPaymentClient(Environment.sandbox(base_url), CREDENTIALS) as client:
        opened = await PaymentDesk.open(profile, client, register, operator="kill-script")
        capture = asyncio.create_task(opened.capture(reference, Money.parse(amount, Currency.NOK)))
        # Polling the journal on disk (what a second process would see), not an in-memory flag.
        while not (pending := await opened.pending_intents()):  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        _mark(marker, pending[0].idempotency_key)
        await capture  # never finishes: the sandbox holds the answer until we are killed
        sys.exit("the capture finished before the test killed this process")


def cli(base_url: str, reference: str, amount: str, marker: Path) -> None:
    command = threading.Thread(
        target=epay, args=(["--base-url", base_url, "capture", reference, amount],), daemon=True
    )
    command.start()
    while command.is_alive():
        pending = []
        if cli_journal_path().exists():
            try:
                with Store(cli_journal_path(), read_only=True) as store:
                    pending = store.journal.pending()
            except RegisterError:  # still being created by the command
                pending = []
            if pending:
                _mark(marker, pending[0].idempotency_key)
                command.join()
                break
        time.sleep(0.005)
    sys.exit("the capture finished before the test killed this process")


if __name__ == "__main__":
    mode, base_url, register, reference, amount, marker = sys.argv[1:7]
    if mode == "desk":
        asyncio.run(desk(base_url, Path(register), reference, amount, Path(marker)))
    else:
        cli(base_url, reference, amount, Path(marker))
