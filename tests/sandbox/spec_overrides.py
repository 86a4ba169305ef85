"""The ONE place where the official ePayment spec (epayment-1.8.1.yaml, the newest found, 2026-04) is
patched to what newer texts say.

When texts disagree, the newest dated one wins (tests/reference/vipps-epayment/SOURCES.md: the 2026-08
agent-toolkit texts, then the 1.8.1 spec, then FACTS.md's older sources). Every patch below cites the
text it follows. Nothing else in the tests changes the spec.
"""

from __future__ import annotations

import copy
from typing import Any

PROBLEM_RESPONSE = {"$ref": "#/components/responses/ProblemResponse"}


def apply_epayment_overrides(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]

    # agent-toolkit/epayment_references_operations.md "Get payment" (2026-08): GetPaymentResponse
    # carries `captureGuaranteedUntil`, "the date a successful capture is guaranteed" (the 1.8.1
    # schema does not list it yet). Example "2026-09-01T07:53:44.812+00:00": an RFC 3339 date-time.
    schemas["GetPaymentResponse"]["properties"]["captureGuaranteedUntil"] = {
        "type": "string",
        "format": "date-time",
    }

    # agent-toolkit/epayment_references_errors.md (example body) and FACTS.md §10: real problems carry
    # `instance` (a string), which the 1.8.1 Problem schema does not name.
    schemas["Problem"]["properties"]["instance"] = {"type": "string"}

    # FACTS.md §6: the 200 of cancel/capture/refund is typed application/problem+json in the spec
    # (1.8.1 AdjustResponse still is); "clients should accept either". The sandbox answers
    # application/json, so both are allowed.
    adjust = spec["components"]["responses"]["AdjustResponse"]["content"]
    adjust["application/json"] = copy.deepcopy(adjust["application/problem+json"])

    # The 1.8.1 spec lists only 200 for get/events/approve and no 401/423/429/5xx anywhere. Statuses
    # from agent-toolkit/epayment_references_errors.md "HTTP statuses worth handling explicitly"
    # (401, 403, 409, 423 Locked, 429, 500), 404 for an unknown reference (5090, same file), 400 for
    # a malformed body (same file, first section), and 503 from the sandbox's fault injection.
    for path in spec["paths"].values():
        for method, operation in path.items():
            if method in ("get", "post") and "responses" in operation:
                for status in ("400", "401", "403", "404", "409", "423", "429", "500", "503"):
                    operation["responses"].setdefault(status, PROBLEM_RESPONSE)
    return spec


def apply_token_overrides(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    token = spec["components"]["schemas"]["AuthorizationTokenResponse"]["properties"]["access_token"]
    # FACTS.md §2: the token is a JWT ("eyJ0eXAi..."), dots included: not strict base64 `format: byte`.
    token.pop("format", None)
    return spec
