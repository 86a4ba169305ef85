"""A desk that runs a batch capture and is killed (SIGKILL) by the test while some captures are on the
wire. Run by ``test_batch_crash.py`` as a separate process:

    python crash_batch.py <base_url> <register_path> <marker_file> <reference>...

It writes the number of committed intents to ``marker_file`` once at least two are pending (sent and
waiting for the sandbox's slow answers), then waits to be killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from epay_desktop.api import Credentials, Environment, EPaymentClient
from epay_desktop.domain import Action
from epay_desktop.services import PaymentDesk, Profile, ProfileKind
from epay_desktop.services.batch import BatchRun, plan_batch


async def main(base_url: str, register: Path, marker: Path, references: list[str]) -> None:
    profile = Profile("Training room", ProfileKind.CUSTOM, "123456", "demo-client", base_url)
    credentials = Credentials("demo-client", "demo-secret", "demo-subscription-key", "123456")
    async with EPaymentClient(Environment.sandbox(base_url), credentials) as client:
        desk = await PaymentDesk.open(profile, client, register, operator="batch-script")
        rows = [row for ref in references if (row := await desk.tracked(ref)) is not None]
        batch = asyncio.create_task(BatchRun(desk, plan_batch(Action.CAPTURE, rows), concurrency=2).run())
        while len(pending := await desk.pending_intents()) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(str(len(pending)), encoding="utf-8")
        tmp.replace(marker)
        await batch  # the sandbox holds the answers until we are killed
        sys.exit("the batch finished before the test killed this process")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4:]))
