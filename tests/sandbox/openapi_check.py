"""Validate every sandbox answer against the official specs: ePayment 1.8.1 (the newest) and the
access token spec, with spec_overrides.py applied.

A real validator (openapi-core) reads the YAML copies in tests/reference; ``check`` raises an
AssertionError naming the operation, status and the validator's complaint.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from typing import Any

import httpx
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests.conftest import REFERENCE_DIR
from tests.sandbox.spec_overrides import apply_epayment_overrides, apply_token_overrides

SPEC_DIR = REFERENCE_DIR / "vipps-epayment"
HOST = "https://apitest.vipps.no"


# openapi-core decodes application/json only; Problem JSON is JSON too (RFC 7807).
CONFIG = Config(extra_media_type_deserializers={"application/problem+json": json.loads})


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SPEC_DIR / name).read_text(encoding="utf-8"))
    return data


@functools.cache
def epayment_spec() -> OpenAPI:
    spec = apply_epayment_overrides(_load("epayment-1.8.1.yaml"))
    return OpenAPI.from_dict(spec, config=CONFIG)


@functools.cache
def token_spec() -> OpenAPI:
    return OpenAPI.from_dict(apply_token_overrides(_load("access-token.swagger.yaml")), config=CONFIG)


@functools.cache
def webhooks_spec() -> OpenAPI:
    path = REFERENCE_DIR / "webhooks" / "webhooks-spec-2026.yaml"
    return OpenAPI.from_dict(yaml.safe_load(path.read_text(encoding="utf-8")), config=CONFIG)


@functools.cache
def controls_spec() -> OpenAPI:
    from epay_desktop.sandbox.controls_openapi import CONTROLS_OPENAPI

    return OpenAPI.from_dict(CONTROLS_OPENAPI, config=CONFIG)


class SpecChecker:
    """Counts what it validated: ``seen[(method, path template-ish, status)]``."""

    def __init__(self) -> None:
        self.seen: Counter[tuple[str, int]] = Counter()

    def check(self, response: httpx.Response) -> None:
        request = response.request
        path = request.url.path
        if path.lower() == "/accesstoken/get":
            spec, path = token_spec(), "/accesstoken/get"
        elif path.startswith("/epayment/"):
            spec = epayment_spec()
        elif path.startswith("/webhooks/"):
            spec = webhooks_spec()
        elif path.startswith("/sandbox/v1/") and path != "/sandbox/v1/landing":
            spec = controls_spec()
        else:
            return
        content_type = response.headers.get("content-type", "application/json")
        mock_request = MockRequest(
            HOST if spec is not controls_spec() else "http://sandbox.epay.local",
            request.method.lower(),
            path,
            headers=dict(request.headers),
            data=request.content,
        )
        mock_response = MockResponse(
            response.content,
            status_code=response.status_code,
            headers=dict(response.headers),
            content_type=content_type,
        )
        try:
            spec.validate_response(mock_request, mock_response)
        except Exception as exc:  # the validator's own error types vary; all mean "does not match"
            details = getattr(exc, "__cause__", None) or exc
            raise AssertionError(
                f"{request.method} {path} -> {response.status_code} does not match the spec: {exc!r} "
                f"({details!r}); body: {response.text[:500]}"
            ) from exc
        self.seen[(f"{request.method} {_template(path)}", response.status_code)] += 1


def _template(path: str) -> str:
    parts = path.split("/")
    if path.startswith("/epayment/v1/test/payments/"):
        return "/epayment/v1/test/payments/{reference}/approve"
    if path.startswith("/epayment/v1/payments/") and len(parts) >= 5:
        parts[4] = "{reference}"
    if path.startswith("/sandbox/v1/payments/") and len(parts) >= 5:
        parts[4] = "{reference}"
    return "/".join(parts)
