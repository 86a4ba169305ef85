"""From a profile and its secrets to a working client; "Test connection"."""

from __future__ import annotations

import httpx

from epay_desktop.api import Credentials, Environment, EPaymentClient, EPaymentError, RetryPolicy, redact
from epay_desktop.services.profiles import DEMO_SECRETS, Profile, ProfileKind, ProfileSecrets


class MissingSecretsError(ValueError):
    """The profile needs a client secret and a subscription key that are not there."""


def environment_for(profile: Profile) -> Environment:
    if profile.kind is ProfileKind.TEST:
        return Environment.TEST
    if profile.kind is ProfileKind.PRODUCTION:
        return Environment.PRODUCTION
    return Environment.sandbox(profile.effective_base_url)


def credentials_for(profile: Profile, secrets: ProfileSecrets | None) -> Credentials:
    if profile.is_demo:
        secrets = secrets or DEMO_SECRETS
    if secrets is None or not secrets.complete:
        raise MissingSecretsError(
            f"The profile {profile.name!r} needs its client secret and subscription key (Settings)."
        )
    return Credentials(
        client_id=profile.client_id or "demo-client",
        client_secret=secrets.client_secret,
        subscription_key=secrets.subscription_key,
        merchant_serial_number=profile.merchant_serial_number,
    )


def client_for(
    profile: Profile,
    secrets: ProfileSecrets | None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
) -> EPaymentClient:
    """A client for ``profile`` (``transport``: the in-process sandbox for the Demo profile)."""
    return EPaymentClient(
        environment_for(profile), credentials_for(profile, secrets), transport=transport, retry=retry
    )


async def check_connection(
    profile: Profile,
    secrets: ProfileSecrets | None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> str:
    """Fetch an access token; return a sentence on success, raise the client's error on failure."""
    async with client_for(
        profile, secrets, transport=transport, retry=RetryPolicy(max_attempts=2, total_budget=10.0)
    ) as client:
        await client.fetch_token()
    return f"an access token was issued by {profile.effective_base_url} for serial number " + (
        profile.merchant_serial_number
    )


async def test_connection(
    profile: Profile,
    secrets: ProfileSecrets | None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,  # noqa: PT028 (not a test: the "Test connection" button)
) -> tuple[bool, str]:
    """ "Test connection": (True, what worked) or (False, what went wrong and what to do next)."""
    try:
        profile.validate()
        return True, "Connected: " + await check_connection(profile, secrets, transport=transport)
    except (MissingSecretsError, ValueError) as error:
        return False, redact(str(error))
    except EPaymentError as error:
        advice = getattr(error, "advice", "")
        text = redact(str(error))
        if advice and advice not in text:
            text = f"{text} {advice}"
        return False, f"Connection to {profile.effective_base_url} failed: {text}"


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite its name
