"""Pure checks of what a person types into the register's dialogs. No Qt here, so they are tested
without an app and could move to ``domain`` unchanged.

- :func:`check_reference_lines`: references per line (spaces, commas, semicolons also separate), each
  checked against ``REFERENCE_PATTERN`` with its line number and the reason in words.
- :func:`parse_amount`: major units as typed (``"1 234,50"``, ``"99.9"``, ``"250 kr"``) to exact
  minor units, through the domain's :meth:`Money.parse` (never a float), within the API's limits.
- :func:`normalize_phone`: an MSISDN (country code and number, digits only, 10..15 digits).
- :func:`check_description`: 3..100 characters (FACTS.md §3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from epay_desktop.domain import REFERENCE_PATTERN, Currency, Money, MoneyError

REFERENCE_MIN = 8
REFERENCE_MAX = 64
DESCRIPTION_MIN = 3
DESCRIPTION_MAX = 100
# CreatePaymentRequest: amount.value max 65 000 000 minor units [S]; smallest NOK payment is 1.00
# (6010 "Amount too small"), DKK and EUR 0.01 (FACTS.md §3).
AMOUNT_MAX_MINOR = 65_000_000
_AMOUNT_MIN_MINOR = {Currency.NOK: 100, Currency.DKK: 1, Currency.EUR: 1}
_ALLOWED_REFERENCE_CHARS = re.compile(r"[a-zA-Z0-9-]")
_SEPARATORS = re.compile(r"[\s,;]+")


class InputError(ValueError):
    """Input a person typed that cannot be used; ``str(error)`` says why and what to type instead."""


# --- references ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReferenceLine:
    """One non-blank line of the pasted text; ``problem`` is empty when the line is a good reference."""

    number: int
    text: str
    problem: str = ""
    duplicate_of: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problem


@dataclass(frozen=True, slots=True)
class ReferenceCheck:
    lines: tuple[ReferenceLine, ...] = ()
    references: tuple[str, ...] = field(default=())

    @property
    def bad(self) -> tuple[ReferenceLine, ...]:
        return tuple(line for line in self.lines if not line.ok)

    @property
    def duplicates(self) -> tuple[ReferenceLine, ...]:
        return tuple(line for line in self.lines if line.duplicate_of is not None)

    def summary(self) -> str:
        if not self.lines:
            return "Paste or type one reference per line."
        parts = [f"{len(self.references)} reference{'s' if len(self.references) != 1 else ''} to add"]
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} repeated (added once)")
        if self.bad:
            parts.append(f"{len(self.bad)} line{'s' if len(self.bad) != 1 else ''} with problems")
        return ", ".join(parts) + "."


def reference_problem(text: str) -> str:
    """Why ``text`` is not a payment reference, in words; empty when it is one."""
    if REFERENCE_PATTERN.fullmatch(text):
        return ""
    bad_chars = sorted({c for c in text if not _ALLOWED_REFERENCE_CHARS.fullmatch(c)})
    if bad_chars:
        shown = ", ".join(repr(c) for c in bad_chars)
        return f"has characters a reference cannot have ({shown}); only letters a-z, A-Z, digits and '-'"
    if len(text) < REFERENCE_MIN:
        unit = "character" if len(text) == 1 else "characters"
        return f"is too short ({len(text)} {unit}; a reference has {REFERENCE_MIN} to {REFERENCE_MAX})"
    return f"is too long ({len(text)} characters; a reference has {REFERENCE_MIN} to {REFERENCE_MAX})"


def split_line(line: str) -> list[str]:
    """The references on one line: separated by spaces, commas or semicolons, quotes trimmed (the same
    split as the services' ``parse_references``, so the dialog and the report agree)."""
    return [token.strip("\"'") for token in _SEPARATORS.split(line.strip()) if token.strip("\"'")]


def check_reference_lines(text: str) -> ReferenceCheck:
    """Check pasted text line by line (1-based line numbers as the editor shows them).

    A line may hold several references separated by spaces, commas or semicolons (a pasted spreadsheet
    row); each is checked on its own. Blank lines are skipped; a reference repeated later is noted and
    added once.
    """
    lines: list[ReferenceLine] = []
    first_line: dict[str, int] = {}
    references: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        for candidate in split_line(raw):
            problem = reference_problem(candidate)
            if problem:
                lines.append(ReferenceLine(number, candidate, problem))
                continue
            if candidate in first_line:
                lines.append(ReferenceLine(number, candidate, duplicate_of=first_line[candidate]))
                continue
            first_line[candidate] = number
            references.append(candidate)
            lines.append(ReferenceLine(number, candidate))
    return ReferenceCheck(tuple(lines), tuple(references))


# --- amounts ---------------------------------------------------------------------------------------


def parse_amount(text: str, currency: Currency) -> Money:
    """Major units as typed → exact :class:`Money`, within what the API takes for a new payment:
    :meth:`Money.parse` (both decimal marks, grouped thousands, ``kr``/code, ``1,234`` refused as
    ambiguous) with the currency's smallest payment and the API's maximum; :class:`InputError`
    with the reason otherwise."""
    try:
        return Money.parse(
            text,
            currency,
            minimum=Money(_AMOUNT_MIN_MINOR[currency], currency),
            maximum=Money(AMOUNT_MAX_MINOR, currency),
        )
    except MoneyError as error:
        raise InputError(str(error)) from None


# --- phone numbers and descriptions ------------------------------------------------------------------

_PHONE_NOISE = re.compile(r"[\s\u00a0().-]")


def normalize_phone(text: str) -> str:
    """``+47 912 34 567`` → ``4791234567`` (MSISDN: country code and number, 10..15 digits)."""
    cleaned = _PHONE_NOISE.sub("", text)
    if cleaned.startswith("+"):
        cleaned = cleaned[1:]
    elif cleaned.startswith("00"):
        cleaned = cleaned[2:]
    if not cleaned:
        raise InputError("Type the customer's mobile number with country code, for example +47 912 34 567.")
    if not cleaned.isdigit():
        raise InputError(f"'{text.strip()}' is not a phone number: only digits, spaces and a leading +.")
    if len(cleaned) < 10:
        raise InputError(
            f"'{text.strip()}' has no country code: type it with one, for example +47 912 34 567."
        )
    if len(cleaned) > 15:
        raise InputError(f"'{text.strip()}' is too long for a phone number (at most 15 digits).")
    return cleaned


def check_description(text: str) -> str:
    """The description as it will be sent (trimmed), or :class:`InputError` with the reason."""
    trimmed = text.strip()
    if len(trimmed) < DESCRIPTION_MIN:
        raise InputError(
            f"The description needs at least {DESCRIPTION_MIN} characters; the customer sees it."
        )
    if len(trimmed) > DESCRIPTION_MAX:
        raise InputError(
            f"The description can have at most {DESCRIPTION_MAX} characters ({len(trimmed)} now)."
        )
    return trimmed


__all__ = [
    "AMOUNT_MAX_MINOR",
    "DESCRIPTION_MAX",
    "DESCRIPTION_MIN",
    "InputError",
    "ReferenceCheck",
    "ReferenceLine",
    "check_description",
    "check_reference_lines",
    "normalize_phone",
    "parse_amount",
    "reference_problem",
    "split_line",
]
