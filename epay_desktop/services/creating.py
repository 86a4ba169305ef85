"""Creating payments from a desk: a reference made here, tracked before the API is asked."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from datetime import UTC, datetime

from epay_desktop.api import EPaymentError, NotSentError, RefusedError, new_idempotency_key
from epay_desktop.domain import Aggregate, Money, Payment, State, TrackedPayment
from epay_desktop.i18n import _
from epay_desktop.services.context import DeskContext
from epay_desktop.services.errors import DeskInputError, said
from epay_desktop.services.tracking import RegisterTracking
from epay_desktop.store import NewEntry

PHONE_PATTERN = re.compile(r"^\d{9,15}$")  # ePayment 1.8.1 CustomerPhoneNumber
USER_FLOWS = ("PUSH_MESSAGE", "QR", "WEB_REDIRECT", "NATIVE_REDIRECT")
SOURCE = "create"


def new_reference(now: datetime | None = None) -> str:
    """``epd-YYYYmmdd-<10 hex>``: unique enough to never collide, short enough to read out on the phone."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d")
    return f"epd-{stamp}-{secrets.token_hex(5)}"


class Creation:
    """Creating payments on one desk."""

    def __init__(self, context: DeskContext, tracking: RegisterTracking) -> None:
        self.context = context
        self.tracking = tracking

    async def create_payment(
        self,
        amount: Money,
        description: str,
        phone_number: str | None = None,
        user_flow: str = "PUSH_MESSAGE",
    ) -> TrackedPayment:
        """Create a payment with a reference made here, track it, and return it (published too). For
        ``QR`` and ``WEB_REDIRECT`` the link to show as a QR code is ``tracked.payment.redirect_url``."""
        ctx = self.context
        ctx.writable(_("Cannot create a payment."))
        description = description.strip()
        phone = re.sub(r"[\s+()-]", "", phone_number or "") or None
        if user_flow not in USER_FLOWS:
            raise DeskInputError(
                _("Unknown way to reach the customer {user_flow!r}.").format(user_flow=user_flow)
            )
        if not 3 <= len(description) <= 100:
            raise DeskInputError(_("The description must be 3 to 100 characters."))
        if amount.value <= 0:
            raise DeskInputError(_("The amount must be more than zero."))
        if user_flow == "PUSH_MESSAGE" and (phone is None or not PHONE_PATTERN.fullmatch(phone)):
            raise DeskInputError(
                _(
                    "A push message needs the customer's phone number with country code, 9 to 15 digits "
                    "(for example 4791234567)."
                )
            )
        reference = new_reference()
        now = datetime.now(UTC)
        await self.tracking.track(
            [NewEntry(reference, description=description, created_at=now, source="created")]
        )
        try:
            created = await ctx.client.create_payment(
                reference=reference,
                amount=amount,
                description=description,
                user_flow=user_flow,
                phone_number=phone if user_flow == "PUSH_MESSAGE" else None,
                return_url="https://example.com/epay-desktop/return" if user_flow == "WEB_REDIRECT" else None,
                idempotency_key=new_idempotency_key(),
            )
        except (RefusedError, NotSentError) as error:
            # It did not take effect: nothing was created.
            await self.tracking.untrack(reference)
            await ctx.record("create", "failed", reference, said(error), amount)
            raise
        except EPaymentError as error:
            # Maybe created: keep it tracked, so a refresh shows what happened.
            await self.tracking.note_fetch_error(reference, error, asked_at=now, source=SOURCE)
            await ctx.record("create", "unknown", reference, said(error), amount)
            raise
        if created.redirect_url:
            await self.tracking.set_redirect_url(reference, created.redirect_url)
        await ctx.record("create", "ok", reference, f"{user_flow}: {description}", amount)
        fresh = await self.tracking.read_fresh(reference, SOURCE)
        if fresh.error is not None:
            # Created for sure (the API said so): keep what we know until the next refresh.
            provisional = Payment(
                reference,
                amount,
                State.CREATED,
                Aggregate.zero(amount.currency),
                description=description,
                redirect_url=created.redirect_url,
            )
            return await self.tracking.keep(
                provisional,
                None,
                asked_at=now,
                source=SOURCE,
                fetch_error=_("Created; its details could not be read yet."),
            )
        assert fresh.change is not None
        tracked = fresh.change.tracked
        if tracked.payment is not None and tracked.payment.redirect_url is None and created.redirect_url:
            tracked = replace(tracked, payment=replace(tracked.payment, redirect_url=created.redirect_url))
        ctx.changes.publish(replace(fresh.change, tracked=tracked))
        return tracked
