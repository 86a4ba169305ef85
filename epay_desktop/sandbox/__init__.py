"""The built-in ePayment sandbox: a stateful simulator of the real API (Starlette ASGI app + engine).

Belongs here: the routes, the payment engine, the controls under ``/sandbox/v1``, demo data, faults.
May import ``domain`` for shared value types (Money, Currency) only, never its rules, and never
``api``: client and server are two independent readings of the spec, so one cannot hide the
other's bug. No Qt.

    from epay_desktop.sandbox import create_app, SandboxConfig
    app = create_app(SandboxConfig(data="empty", rate_limits=False))
    httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox.epay.local")
"""

from __future__ import annotations

from epay_desktop.sandbox.app import Sandbox, SandboxConfig, create_app
from epay_desktop.sandbox.faults import AnswerDropped

__all__ = ["AnswerDropped", "Sandbox", "SandboxConfig", "create_app"]
