"""What one change costs the sandbox's ``--state`` file at a small and a large size, as a ratio
(target: about 1x — a save writes what changed, not the whole state).

    uv run python benchmarks/sandbox_state.py [--small 100] [--large 100000] [--creates 50]

Both sandboxes run in this process through httpx.ASGITransport with a state file in a temp folder;
the large one is filled by writing the engine directly (fast), then saved once. Each figure is the
median time of a create request (which commits the payment and its answer before answering).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from epay_desktop.sandbox import SandboxConfig, create_app
from epay_desktop.sandbox.app import Sandbox
from epay_desktop.sandbox.records import PaymentRecord

CREDENTIALS = {
    "client_id": "demo-client",
    "client_secret": "demo-secret",
    "Ocp-Apim-Subscription-Key": "demo-subscription-key",
}


def _body(reference: str) -> dict[str, object]:
    return {
        "amount": {"currency": "NOK", "value": 4900},
        "paymentMethod": {"type": "WALLET"},
        "reference": reference,
        "userFlow": "QR",
    }


async def median_create(size: int, creates: int, folder: Path) -> float:
    app = create_app(
        SandboxConfig(data="empty", rate_limits=False, state_file=folder / f"state-{size}.sqlite")
    )
    sandbox: Sandbox = app.state.sandbox
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox.test") as c:
        token = (await c.post("/accessToken/get", headers=CREDENTIALS)).json()["access_token"]
        headers = {
            "Authorization": f"Bearer {token}",
            "Ocp-Apim-Subscription-Key": CREDENTIALS["Ocp-Apim-Subscription-Key"],
            "Merchant-Serial-Number": "123456",
        }
        await c.post(
            "/epayment/v1/payments", headers=headers | {"Idempotency-Key": "seed"}, json=_body("seed-ref-0")
        )
        template = sandbox.engine.payments[("123456", "seed-ref-0")].to_state()
        with sandbox.engine.lock:
            for n in range(size):
                record = PaymentRecord.from_state(template | {"reference": f"filler-{n:08d}"})
                sandbox.engine.payments[(record.msn, record.reference)] = record
            sandbox.engine.cleared = True  # write the filler once, as a reset would
        sandbox.save()
        times = []
        for n in range(creates):
            started = time.perf_counter()
            answer = await c.post(
                "/epayment/v1/payments",
                headers=headers | {"Idempotency-Key": f"b{n}"},
                json=_body(f"bench-{n:08d}"),
            )
            times.append(time.perf_counter() - started)
            assert answer.status_code == 201, answer.text
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--creates", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        small = asyncio.run(median_create(args.small, args.creates, Path(folder)))
        large = asyncio.run(median_create(args.large, args.creates, Path(folder)))
    print(f"create at {args.small:>7} payments: {small * 1000:7.2f} ms (median of {args.creates})")
    print(f"create at {args.large:>7} payments: {large * 1000:7.2f} ms")
    print(f"ratio large/small: {large / small:.2f}x (target: about 1x)")


if __name__ == "__main__":
    main()
