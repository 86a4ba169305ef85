"""The async client of the real ePayment and access-token APIs (httpx).

Belongs here: HTTP, token cache, retries, idempotency keys, lenient parsing into ``domain`` records,
the exception tree. May import ``domain`` only. No Qt, no SQLite, never ``sandbox`` (the sandbox
is reached over HTTP like any server, also in-process through ``httpx.ASGITransport``).
"""
