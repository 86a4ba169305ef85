"""What to do next, in one plain sentence, for every error the ePayment API documents.

The window and the command line both show these (through ``ApiError.advice``). By error code first
(the 2026 list: tests/reference/vipps-epayment/agent-toolkit/epayment_references_errors.md; the tests
check that every code there has a sentence), else by HTTP status.

Some refusals ask for the same request again later, with the same idempotency key (6160 order
processing, 6250 cancel while processing, 6260 funds unavailable, 6280 capture failed): see
:func:`retry_with_same_key`. Every other refusal stays refused for its key.
"""

from __future__ import annotations

from epay_desktop.i18n import N_, _, translate

__all__ = [
    "ADVICE",
    "RETRY_SAME_KEY_CODES",
    "STATUS_ADVICE",
    "advice_for",
    "retry_with_same_key",
]

ADVICE: dict[str, str] = {
    "3010": N_(
        "The payment service had an internal error, often from a malformed request; check the request, "
        "then try again with the same key."
    ),
    "4010": N_(
        "A capture with this idempotency key was made with another amount; retry with the exact same "
        "amount, or use a new key for a new capture."
    ),
    "4020": N_(
        "This idempotency key was already used for another request; use a new key for a new operation."
    ),
    "4040": N_("The amount is not valid: use whole minor units (øre/cents), no decimals."),
    "4050": N_("The customer token from the personal QR scan is not valid; scan again or leave it out."),
    "4060": N_("The personal QR code is not valid; scan it again or use the phone number."),
    "4070": N_("The phone number is not valid: use the country code and digits only, e.g. 4791234567."),
    "4080": N_(
        "The requested profile scope is not valid; check its spelling (name, address, email, phoneNumber, "
        "birthDate)."
    ),
    "4090": N_("A URL in the request is not valid; use an https:// address (or your app's own scheme)."),
    "4100": N_("Too many metadata entries: at most five are allowed."),
    "4110": N_("A metadata key is given twice; each key may appear only once."),
    "4120": N_("A metadata key is too long: at most 100 characters."),
    "4130": N_("A metadata value is too long: at most 500 characters."),
    "4140": N_("A required field is missing for this flow; check the details and fill it in."),
    "4150": N_(
        "A payment with this reference already exists, or a refund with this key had another amount; use "
        "a new reference, or repeat the refund with exactly the same amount."
    ),
    "4160": N_("The payment method type is not valid here; use WALLET (CARD only with WEB_REDIRECT)."),
    "5010": N_("Blocking payment sources is only for Danish and Finnish sales units; leave it out."),
    "5020": N_("Express checkout is not enabled for this sales unit; contact merchant support to enable it."),
    "5030": N_(
        "The sales unit may not ask for this profile scope (e.g. national identity number); remove it or "
        "ask merchant support."
    ),
    "5040": N_(
        "The currency does not match the sales unit (NOK for Norway, DKK for Denmark, EUR for Finland); "
        "use the sales unit's currency."
    ),
    "5050": N_(
        "Long-living payments (expiresAt) are not enabled for this sales unit; leave out the expiry or "
        "ask merchant support."
    ),
    "5060": N_(
        "The merchant's bank account is not verified; the merchant must verify it before receiving payments."
    ),
    "5070": N_(
        "The payment cannot be created for this sales unit (its setup or state); contact merchant support."
    ),
    "5080": N_(
        "Push messages are not enabled for this sales unit; use another user flow (e.g. QR or "
        "WEB_REDIRECT) or ask merchant support."
    ),
    "5090": N_(
        "No payment has this reference for this merchant serial number; check the reference and the MSN."
    ),
    "5100": N_("A refund is not possible for this payment; refund the customer another way."),
    "6010": N_("The amount is too small (at least 1.00 NOK, 0.01 DKK or 0.01 EUR)."),
    "6020": N_("The payment has not been approved yet, so there is nothing to refund; check the event log."),
    "6030": N_(
        "The cancel period has expired (180 days, or the capture deadline); the reservation is already gone."
    ),
    "6040": N_("The payment is fully captured, so there is nothing to cancel; refund instead."),
    "6050": N_("Nothing is reserved on this payment, so a cancel has nothing to release."),
    "6060": N_(
        "The payment is already approved, so 'cancel transaction only' cannot stop it; cancel without "
        "that option to release the reservation."
    ),
    "6070": N_("The remainder of this payment was cancelled; nothing more can be captured."),
    "6080": N_("The customer has not approved the payment yet; capture after it is authorized."),
    "6090": N_("The amount is more than what is left to capture; capture at most the remaining amount."),
    "6100": N_("The capture period has expired; the reservation is gone and the money cannot be collected."),
    "6110": N_("The expiry time is too late; set it less than 60 days ahead."),
    "6120": N_("The expiry time is too soon; set it more than 10 minutes ahead."),
    "6130": N_(
        "A payment with an expiry time (long-living) needs a receipt; add one or leave out the expiry."
    ),
    "6140": N_("This payment must be captured in full at once; capture the whole authorized amount."),
    "6150": N_("The amount is more than what is left to refund; refund at most captured minus refunded."),
    "6160": N_("Another operation on this payment is running; try again shortly with the same key."),
    "6170": N_("The payment is already captured; check the payment before capturing again."),
    "6180": N_("The payment is already refunded; check the payment before refunding again."),
    "6190": N_("The payment cannot be cancelled in its current state; refresh it to see what it is now."),
    "6200": N_("The payment cannot be captured in its current state; refresh it to see what it is now."),
    "6210": N_("The payment cannot be refunded in its current state; refresh it to see what it is now."),
    "6220": N_("The refund period (365 days) has expired; refund the customer another way."),
    "6230": N_("This reference has already been authorized; refresh the payment."),
    "6250": N_("The customer is approving the payment right now; try the cancel again in a minute."),
    "6260": N_(
        "The bank released the reservation early, so the funds are unavailable; do not send the goods: "
        "try again later with the same key, or contact the customer."
    ),
    "6280": N_("The capture failed for now; please try again later with the same idempotency key."),
    "7010": N_(
        "No customer can pay with this number (unknown, cannot pay this business, or under the minimum "
        "age); do not tell the customer their number is wrong."
    ),
    "10010": N_(
        "This only happens in the test environment; the approval failed (some amounts fail on purpose, "
        "e.g. 1.51 for insufficient funds); use another amount, or approve in the test app."
    ),
    "10020": N_(
        "This only happens in the test environment; force approve is not allowed for this payment; "
        "approve it in the test app."
    ),
    "10030": N_(
        "This only happens in the test environment; the test user must identify in the test app first; "
        "log in and approve one payment by hand."
    ),
    "10040": N_(
        "This only happens in the test environment; the test user's payment source is not valid; add a "
        "valid test card."
    ),
    "10050": N_(
        "This only happens in the test environment; the test user has no cards; add a test card in the "
        "test app."
    ),
    "10060": N_(
        "This only happens in the test environment; this operation is not supported for force approve; "
        "approve in the test app."
    ),
    "10070": N_(
        "This only happens in the test environment; the test user's payment limit is exceeded; use a "
        "smaller amount or another user."
    ),
}

STATUS_ADVICE: dict[int, str] = {
    400: N_("The request was refused; read the detail, fix the input and try again."),
    401: N_("The credentials were not accepted; check the client id, client secret and subscription key."),
    403: N_(
        "These credentials may not do this for this merchant serial number; check the MSN and the "
        "products enabled for it."
    ),
    404: N_(
        "No payment has this reference for this merchant serial number; check the reference and the MSN."
    ),
    408: N_("The server did not get the whole request in time; try again with the same key."),
    409: N_(
        "This conflicts with an earlier request (the reference exists, or the key was used with another "
        "body); refresh the payment before doing anything else."
    ),
    422: N_("The request was not understood; check the input."),
    423: N_("Another operation on this payment is running; try again shortly with the same key."),
    429: N_("Too many requests for this payment; wait a minute and try again with the same key."),
}

# Refusals whose documented remedy is the same request again later, with the same key (errors.md:
# 6160 "Retry shortly", 6250 "Retry the cancel later", 6260 "retry", 6280 "Retry the capture with the
# same idempotency key after a short wait").
RETRY_SAME_KEY_CODES = frozenset({"6160", "6250", "6260", "6280"})


def advice_for(error_code: str | None, status: int) -> str:
    """The plain sentence for an error: by code when known, else by HTTP status."""
    if error_code and error_code in ADVICE:
        return translate(ADVICE[error_code])
    if status in STATUS_ADVICE:
        return translate(STATUS_ADVICE[status])
    if status >= 500:
        return _("The payment service has a problem; try again in a minute with the same key.")
    return _("The request was refused; read the detail and check the payment before trying again.")


def retry_with_same_key(error_code: str | None, status: int) -> bool:
    """Whether the API asks for this refused request again later with the same idempotency key."""
    return status == 423 or (error_code is not None and error_code in RETRY_SAME_KEY_CODES)
