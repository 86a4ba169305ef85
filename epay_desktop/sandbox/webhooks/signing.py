"""Signing a webhook delivery as the Webhooks API does (its "Request authentication" page).

    x-ms-date:            the send time, RFC 1123 (``Thu, 30 Mar 2023 08:38:32 GMT``)
    x-ms-content-sha256:  base64(SHA-256(body bytes))
    Host:                 the registered URL's authority
    Authorization:        HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<b64>

The string to sign is ``POST\\n{pathAndQuery}\\n{date};{host};{content hash}`` (``\\n``, not ``\\r\\n``),
built from the URL as registered; the HMAC key is the secret string's UTF-8 bytes as they are (not
base64-decoded, even when the secret looks like base64).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256"


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def content_hash(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def path_and_query(url: str) -> str:
    """What .NET's ``Uri.PathAndQuery`` gives: the path (``/`` when empty) and ``?query`` if any."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def authority(url: str) -> str:
    """The host as the ``Host`` header carries it: with the port only when it is not the default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def string_to_sign(url: str, date: str, body_hash: str) -> str:
    return f"POST\n{path_and_query(url)}\n{date};{authority(url)};{body_hash}"


def signature(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_headers(secret: str, url: str, body: bytes, moment: datetime) -> dict[str, str]:
    """The headers of one delivery of ``body`` to ``url`` sent at ``moment``."""
    date = http_date(moment)
    body_hash = content_hash(body)
    sign = signature(secret, string_to_sign(url, date, body_hash))
    return {
        "x-ms-date": date,
        "x-ms-content-sha256": body_hash,
        "host": authority(url),
        "authorization": f"HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature={sign}",
        "content-type": "application/json",
    }
