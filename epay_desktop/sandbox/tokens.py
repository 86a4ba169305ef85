"""Access tokens (FACTS.md §2): JWT-shaped, HMAC-signed by the sandbox, checked against its clock.

Stateless: a token is valid when its signature is ours, it has not expired on the sandbox clock, and
it was issued for the same subscription key that comes with the call.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from epay_desktop.sandbox.clock import Clock
from epay_desktop.sandbox.problems import ProblemError

RESOURCE = "00000002-0000-0000-c000-000000000000"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key_hash(subscription_key: str) -> str:
    return hashlib.sha256(subscription_key.encode()).hexdigest()[:16]


class TokenIssuer:
    def __init__(self, clock: Clock, lifetime: int, secret: bytes | None = None) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.secret = secret or secrets.token_bytes(32)

    def issue(self, client_id: str, subscription_key: str, msn: str | None) -> dict[str, str]:
        now = int(self.clock.timestamp())
        claims = {
            "iss": "epay-sandbox",
            "sub": client_id,
            "msn": msn,
            "skh": _key_hash(subscription_key),
            "nbf": now,
            "iat": now,
            "exp": now + self.lifetime,
            "jti": secrets.token_hex(8),
        }
        head = _b64(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = _b64(hmac.new(self.secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
        # Every field is a string, as in the real answer.
        return {
            "token_type": "Bearer",
            "expires_in": str(self.lifetime),
            "ext_expires_in": "0",
            "expires_on": str(now + self.lifetime),
            "not_before": str(now),
            "resource": RESOURCE,
            "access_token": f"{head}.{body}.{signature}",
        }

    def check(self, authorization: str | None, subscription_key: str | None) -> dict[str, Any]:
        if not subscription_key:
            raise _unauthorized("The Ocp-Apim-Subscription-Key header is missing.")
        if not authorization:
            raise _unauthorized("The Authorization header is missing; send 'Bearer <access token>'.")
        if not authorization.startswith("Bearer "):
            raise _unauthorized("The Authorization header must be 'Bearer <access token>'.")
        token = authorization[len("Bearer ") :].strip()
        parts = token.split(".")
        if len(parts) != 3:
            raise _unauthorized("The access token is malformed.")
        expected = _b64(hmac.new(self.secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, parts[2]):
            raise _unauthorized("The access token was not issued by this sandbox.")
        try:
            claims: dict[str, Any] = json.loads(_unb64(parts[1]))
        except ValueError:
            raise _unauthorized("The access token is malformed.") from None
        if int(claims["exp"]) <= self.clock.timestamp():
            raise _unauthorized("The access token has expired; fetch a new one.")
        if claims.get("skh") != _key_hash(subscription_key):
            raise _unauthorized("The access token was issued for another subscription key.")
        return claims


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "Unauthorized", detail)
