"""A desk that starts a cancel and is killed (SIGKILL) by the test while the request is in flight.

Run by ``test_crash.py`` as a separate process:

    python crash_cancel.py <base_url> <register_path> <reference> <marker_file>

It writes the intent's idempotency key to ``marker_file`` as soon as the intent is committed to the
journal (and the request is on its way), then waits; the test kills it at that point.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from epay_desktop.api import Credentials, Environment, EPaymentClient
from epay_desktop.services import PaymentDesk, Profile, ProfileKind


async def main(base_url: str, register: Path, reference: str, marker: Path) -> None:
    profile = Profile("Training room", ProfileKind.CUSTOM, "123456", "demo-client", base_url)
    credentials = Credentials("demo-client", "demo-secret", "demo-subscription-key", "123456")
    async with EPaymentClient(Environment.sandbox(base_url), credentials) as client:
        desk = await PaymentDesk.open(profile, client, register, operator="crash-script")
        cancel = asyncio.create_task(desk.cancel(reference))
        # Polling the journal on disk (what a second process would see), not an in-memory flag.
        while not (pending := await desk.pending_intents()):  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(pending[0].idempotency_key, encoding="utf-8")
        tmp.replace(marker)
        await cancel  # never finishes: the sandbox holds the answer until we are killed
        sys.exit("the cancel finished before the test killed this process")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])))
