"""Requests per second of the sandbox under uvicorn on loopback, against a bare Starlette endpoint
measured the same way in the same run (target: the sandbox at least 0.5x the bare rate), and the
server's CPU time per request.

    uv run python benchmarks/sandbox_throughput.py [--seconds 5] [--connections 16] [--threads 2]

Each server runs in its own subprocess (uvicorn, 127.0.0.1, a free port). The load comes from ``wrk``
(Debian package ``wrk``: compiled, event-driven; installed by this script with ``apt-get`` when it is
missing and it runs as root, as in CI), not from Python: a Python
load generator topped out at 500-700 requests/s and measured itself. The server's CPU time per request
is read from ``/proc`` before and after each run, and the load generator's own CPU time is printed
beside it: when the server uses about one core and wrk a small part of one, the server is what was
measured. Measures: GET payment (a demo payment), POST create payment (a new reference and
Idempotency-Key on every request, from a Lua script), and the bare endpoint's GET before and after.
Absolute numbers mean little on a shared machine: read the ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CREDENTIALS = {
    "client_id": "demo-client",
    "client_secret": "demo-secret",
    "Ocp-Apim-Subscription-Key": "demo-subscription-key",
}

CREATE_SCRIPT = r"""
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  prefix = "wrk-" .. args[1] .. "-" .. tid
  counter = 0
end
request = function()
  counter = counter + 1
  local ref = prefix .. "-" .. counter
  local body = '{"amount":{"currency":"NOK","value":4900},"paymentMethod":{"type":"WALLET"},' ..
    '"reference":"' .. ref .. '","userFlow":"QR"}'
  -- wrk.format uses the headers given here instead of the command line's (-H): copy those in.
  local headers = {["Idempotency-Key"] = ref, ["Content-Type"] = "application/json"}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  return wrk.format("POST", "/epayment/v1/payments", headers, body)
end
"""


def serve(kind: str) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from epay_desktop.sandbox import SandboxConfig, create_app
    from epay_desktop.sandbox.server import base_url, bind, build_server

    async def bare(request: Request) -> JSONResponse:
        return JSONResponse({"reference": request.path_params["reference"], "state": "AUTHORIZED"})

    if kind == "bare":
        app = Starlette(routes=[Route("/bare/{reference}", bare, methods=["GET", "POST"])])
    else:
        app = create_app(SandboxConfig(data="demo", rate_limits=False))
    sock = bind("127.0.0.1", 0)
    print(base_url(sock), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        build_server(app).run(sockets=[sock])


def start(kind: str) -> tuple[subprocess.Popen[str], str]:
    # The servers run from bytecode, as installed (a checkout may set PYTHONDONTWRITEBYTECODE).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind],
        stdout=subprocess.PIPE,
        text=True,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(
    name: str,
    server: subprocess.Popen[str],
    url: str,
    args: argparse.Namespace,
    *options: str,
    script_args: tuple[str, ...] = (),
) -> dict[str, float]:
    """One wrk run; the rate, the server's and wrk's CPU per request."""
    server_before, wrk_before = cpu_seconds(server.pid), children_cpu()
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s", *options, url]
    if script_args:
        command += ["--", *script_args]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    server_cpu = cpu_seconds(server.pid) - server_before
    wrk_cpu = children_cpu() - wrk_before
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    if total is None:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    requests = int(total.group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    per_request = server_cpu / requests * 1e6
    print(
        f"  {name:<30} {requests:7d} requests {rate:8.0f} req/s   server CPU {per_request:6.0f} µs/req "
        f"({server_cpu / args.seconds * 100:3.0f}% of a core)   wrk CPU {wrk_cpu / args.seconds * 100:3.0f}%"
        + (f"   NON-2xx: {bad.group(1)}" if bad else "")
        + (f"   socket errors: {errors.group(1)}" if errors else "")
    )
    return {"rate": rate, "cpu_per_request": server_cpu / requests}


def ensure_wrk() -> None:
    """wrk from Debian's packages: installed here when missing and this runs as root with apt-get (as
    in CI's containers); otherwise the script says how to get it."""
    if shutil.which("wrk") is not None:
        return
    if shutil.which("apt-get") is not None and os.geteuid() == 0:
        print("wrk is missing: installing Debian's package (apt-get install wrk)", flush=True)
        quiet = {"stdout": subprocess.DEVNULL, "env": os.environ | {"DEBIAN_FRONTEND": "noninteractive"}}
        subprocess.run(["apt-get", "update", "-qq"], check=False, **quiet)  # type: ignore[call-overload]
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, **quiet)  # type: ignore[call-overload]
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed as the load generator: apt-get install wrk (Debian)")


def token(url: str) -> str:
    request = urllib.request.Request(url + "/accesstoken/get", method="POST", headers=CREDENTIALS)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(json.load(answer)["access_token"])


def run(args: argparse.Namespace) -> None:
    ensure_wrk()
    bare_process, bare_url = start("bare")
    sandbox_process, sandbox_url = start("sandbox")
    try:
        headers = [
            "-H",
            f"Authorization: Bearer {token(sandbox_url)}",
            "-H",
            f"Ocp-Apim-Subscription-Key: {CREDENTIALS['Ocp-Apim-Subscription-Key']}",
            "-H",
            "Merchant-Serial-Number: 123456",
        ]
        with tempfile.TemporaryDirectory() as folder:
            script = Path(folder) / "create.lua"
            script.write_text(CREATE_SCRIPT)
            print(
                f"sandbox throughput, uvicorn on loopback; wrk, {args.threads} threads, "
                f"{args.connections} connections, {args.seconds} s a run"
            )
            warm = argparse.Namespace(**{**vars(args), "seconds": 1})
            wrk("warm-up (bare)", bare_process, bare_url + "/bare/x", warm)
            wrk(
                "warm-up (sandbox)",
                sandbox_process,
                sandbox_url + "/epayment/v1/payments/fjordkaffe-ord-100201",
                warm,
                *headers,
            )
            bare = wrk("bare Starlette GET", bare_process, bare_url + "/bare/fjordkaffe-ord-1", args)
            get = wrk(
                "sandbox GET payment",
                sandbox_process,
                sandbox_url + "/epayment/v1/payments/fjordkaffe-ord-100201",
                args,
                *headers,
            )
            create = wrk(
                "sandbox POST create payment",
                sandbox_process,
                sandbox_url,
                args,
                *headers,
                "-s",
                str(script),
                script_args=(str(time.monotonic_ns()),),
            )
            again = wrk("bare Starlette GET (again)", bare_process, bare_url + "/bare/fjordkaffe-ord-1", args)
        baseline = (bare["rate"] + again["rate"]) / 2
        bare_cpu = (bare["cpu_per_request"] + again["cpu_per_request"]) / 2
        print(
            f"  ratio GET payment / bare:     {get['rate'] / baseline:.2f}x rate (target >= 0.5x), "
            f"{get['cpu_per_request'] / bare_cpu:.2f}x server CPU per request"
        )
        print(
            f"  ratio create / bare:          {create['rate'] / baseline:.2f}x rate (target >= 0.5x), "
            f"{create['cpu_per_request'] / bare_cpu:.2f}x server CPU per request"
        )
    finally:
        for process in (bare_process, sandbox_process):
            process.terminate()
            process.wait(timeout=10)
            if process.stdout:
                process.stdout.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", choices=("bare", "sandbox"), help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
    else:
        run(args)


if __name__ == "__main__":
    main()
