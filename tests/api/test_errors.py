"""The exception tree and the advice table."""

from __future__ import annotations

import re

from epay_desktop.api import (
    ADVICE,
    ApiError,
    AuthenticationError,
    ConflictError,
    EPaymentError,
    InvalidInputError,
    MalformedResponseError,
    NetworkError,
    NotAllowedError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
)
from epay_desktop.api.advice import RETRY_SAME_KEY_CODES, advice_for, retry_with_same_key
from tests.conftest import REFERENCE_DIR


def _codes_in_facts_sections_8_to_10() -> set[str]:
    text = (REFERENCE_DIR / "vipps-epayment" / "FACTS.md").read_text(encoding="utf-8")
    start = text.index("## 8.")
    end = text.index("## 11.")
    section = text[start:end]
    codes: set[str] = set()
    for low, high in re.findall(r"\b(\d{4,5})[–-](\d{4,5})\b", section):
        # "4100–4130" and "10010–10070" list every code in the range; "6010–6280 (above)" only points
        # back at the codes named one by one, so ranges wider than ten codes add only their ends.
        lo, hi = int(low), int(high)
        step_codes = range(lo, hi + 1, 10)
        codes.update(str(c) for c in (step_codes if len(step_codes) <= 10 else (lo, hi)))
    for number in re.findall(r"\b(\d{4,5})\b", section):
        value = int(number)
        if 3000 <= value <= 10999 and value % 10 == 0 and value != 7807:  # 7807 is the RFC number
            codes.add(number)
    return codes


def test_every_error_code_in_facts_has_advice() -> None:
    codes = _codes_in_facts_sections_8_to_10()
    assert {"6040", "6250", "6060", "5090", "4010", "4150", "10010", "10070", "4120"} <= codes
    missing = sorted(codes - ADVICE.keys(), key=int)
    assert missing == []


def _codes_in_the_newest_list() -> set[str]:
    """Every code in a table row of the 2026 error list (agent-toolkit/epayment_references_errors.md)."""
    text = (REFERENCE_DIR / "vipps-epayment" / "agent-toolkit" / "epayment_references_errors.md").read_text(
        encoding="utf-8"
    )
    return set(re.findall(r"^\| (\d{4,5}) \|", text, flags=re.MULTILINE))


def test_every_error_code_in_the_newest_list_has_advice() -> None:
    codes = _codes_in_the_newest_list()
    assert {"3010", "4110", "5010", "6230", "6260", "6280", "7010", "10070"} <= codes
    assert len(codes) >= 60
    missing = sorted(codes - ADVICE.keys(), key=int)
    assert missing == []
    # Nothing made up either: every code with a sentence is in the newest list.
    assert sorted(ADVICE.keys() - codes, key=int) == []


def test_advice_follows_the_newest_titles() -> None:
    # epayment_references_errors.md: 6110 too late, 6120 too soon, 6130 needs a receipt; 4110 duplicate
    # keys; 6280 "Retry the capture with the same idempotency key after a short wait".
    assert "60 days" in ADVICE["6110"]
    assert "10 minutes" in ADVICE["6120"]
    assert "receipt" in ADVICE["6130"]
    assert "twice" in ADVICE["4110"]
    assert "try again later with the same idempotency key" in ADVICE["6280"]
    assert "same key" in ADVICE["6260"]


def test_retry_with_same_key() -> None:
    assert {"6160", "6250", "6260", "6280"} == RETRY_SAME_KEY_CODES
    assert retry_with_same_key("6280", 400)
    assert retry_with_same_key(None, 423)
    assert not retry_with_same_key("6090", 400)
    assert not retry_with_same_key(None, 400)
    error = ApiError(400, "Capture failed, please try again later", error_code="6280")
    assert "try again later with the same idempotency key" in error.summary()


def test_advice_is_a_plain_sentence() -> None:
    for code, sentence in ADVICE.items():
        assert sentence.endswith("."), code
        assert "\n" not in sentence
        assert 20 < len(sentence) < 200, code
    assert "refund instead" in ADVICE["6040"]
    assert "again in a minute" in ADVICE["6250"]


def test_advice_falls_back_to_the_status() -> None:
    assert advice_for("99999", 404) == advice_for(None, 404)
    assert "same key" in advice_for(None, 503)
    assert advice_for(None, 418)


def test_the_tree() -> None:
    for cls in (
        NotAllowedError,
        NetworkError,
        MalformedResponseError,
        OutcomeUnknownError,
        ApiError,
    ):
        assert issubclass(cls, EPaymentError)
    for cls in (AuthenticationError, NotFoundError, ConflictError, RateLimitedError):
        assert issubclass(cls, ApiError)
    assert issubclass(InvalidInputError, NotAllowedError)
    assert issubclass(InvalidInputError, ValueError)
    assert not issubclass(OutcomeUnknownError, ApiError)


def test_api_error_one_line_summary() -> None:
    error = ApiError(
        400,
        "Cannot cancel a captured payment",
        "The payment\nis captured.",
        error_code="6040",
        trace_id="00-abc-01",
        instance="/v1/payments/x/cancel",
    )
    text = str(error)
    assert "\n" not in text
    assert text.startswith("Cannot cancel a captured payment (HTTP 400, code 6040): The payment is captured.")
    assert "refund instead" in text
    assert text.endswith("[traceId 00-abc-01]")
    assert error.instance == "/v1/payments/x/cancel"


def test_outcome_unknown_says_what_to_do() -> None:
    error = OutcomeUnknownError(
        operation="cancel",
        reference="order-12345678",
        idempotency_key="k-1",
        last_error=TimeoutError("read timed out"),
        attempts=4,
    )
    assert "event log" in str(error)
    assert "k-1" in str(error)
    assert error.last_error is not None
