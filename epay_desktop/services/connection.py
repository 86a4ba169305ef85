"""From a profile and its secrets to a working client; "Test connection"."""

from __future__ import annotations

import asyncio

import httpx

from epay_desktop.api import Credentials, Environment, EPaymentClient, EPaymentError, RetryPolicy, redact
from epay_desktop.domain import Currency
from epay_desktop.domain.listed import CURRENCIES
from epay_desktop.i18n import _
from epay_desktop.services.profiles import Profile, ProfileKind, register_path
from epay_desktop.services.secrets import DEMO_SECRETS, ProfileSecrets


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
            _("The profile {name!r} needs its client secret and subscription key (Settings).").format(
                name=profile.name
            )
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
    return _("an access token was issued by {url} for serial number {msn}; payments in {currency}.").format(
        url=profile.effective_base_url, msn=profile.merchant_serial_number, currency=profile.currency.value
    )


def payment_currencies(profile: Profile) -> set[Currency]:
    """The currencies of the payments this profile's register holds for its serial number: what its
    sales unit has taken (a sales unit takes one currency). Empty when there is no register yet or it
    cannot be read; the check it feeds is advice, never a reason to fail."""
    from epay_desktop.store import Store

    path = register_path(profile)
    if not path.exists():
        return set()
    try:
        with Store(path, read_only=True) as store:
            listed = store.register.listed(profile.merchant_serial_number)
    except Exception:  # a locked, damaged or too-new register: no evidence either way
        return set()
    return {
        CURRENCIES[code] for code, state in zip(listed.currencies, listed.states, strict=True) if state >= 0
    }


async def test_connection(
    profile: Profile,
    secrets: ProfileSecrets | None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,  # noqa: PT028 (not a test: the "Test connection" button)
    seen_currencies: set[Currency] | None = None,  # noqa: PT028
) -> tuple[bool, str]:
    """ "Test connection": (True, what worked) or (False, what went wrong and what to do next).

    Besides the credentials it checks the profile's currency against the sales unit's: the ePayment
    API has no call that says which currency a sales unit takes, so the evidence is the payments it
    has taken (``seen_currencies``; by default those in the profile's register). A Demo serial number's
    currency is known."""
    try:
        profile.validate()
        connected = await check_connection(profile, secrets, transport=transport)
    except (MissingSecretsError, ValueError) as error:
        return False, redact(str(error))
    except EPaymentError as error:
        advice = getattr(error, "advice", "")
        text = redact(str(error))
        if advice and advice not in text:
            text = _("{error} {advice}").format(error=text, advice=advice)
        return False, _("Connection to {url} failed: {error}").format(
            url=profile.effective_base_url, error=text
        )
    seen = (
        seen_currencies
        if seen_currencies is not None
        else await asyncio.to_thread(payment_currencies, profile)
    )
    other = sorted(currency.value for currency in seen if currency is not profile.currency)
    if other:
        return False, _(
            "Connected, but this sales unit's payments are in {found} and the profile says {currency}. "
            "A sales unit takes one currency (NOK in Norway, DKK in Denmark, EUR in Finland): choose "
            "{found} as the profile's currency, or check the merchant serial number."
        ).format(found=", ".join(other), currency=profile.currency.value)
    return True, _("Connected: {what}").format(what=connected)


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite its name
