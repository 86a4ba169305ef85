"""Pure checks of what a person types into the register's dialogs. No Qt here, so they are tested
without an app and could move to ``domain`` unchanged.

- :func:`check_reference_lines`: references per line (spaces, commas, semicolons also separate), each
  checked against ``REFERENCE_PATTERN`` with its line number and the reason in words.
- :func:`parse_amount`: major units as typed (``"1 234,50"``, ``"99.9"``, ``"250 kr"``) to exact
  minor units, through the domain's :meth:`Money.parse` (never a float), within the API's limits;
  :func:`read_amount` does the same for any limits, with the person's locale (its group symbol, read
  from CLDR through Babel, is a thousands separator too), and :func:`amount_text` writes an amount
  back the way that locale types it (``"249,50"`` in Norwegian, ``"249.50"`` in English).
- :func:`normalize_phone`: an MSISDN (country code and number, digits only, 10..15 digits).
- :func:`check_description`: 3..100 characters (FACTS.md §3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from babel import Locale, UnknownLocaleError
from babel.numbers import get_decimal_symbol, get_group_symbol

from epay_desktop.domain import REFERENCE_PATTERN, Currency, Money, MoneyError, country_for, with_country_code
from epay_desktop.i18n import _, ngettext

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
            return _("Paste or type one reference per line.")
        count = len(self.references)
        parts = [ngettext("{count} reference to add", "{count} references to add", count).format(count=count)]
        if self.duplicates:
            parts.append(_("{count} repeated (added once)").format(count=len(self.duplicates)))
        if self.bad:
            bad = len(self.bad)
            parts.append(
                ngettext("{count} line with problems", "{count} lines with problems", bad).format(count=bad)
            )
        # A list of counts, each a whole translated phrase; the list's punctuation is the language's.
        return _("{list_of_counts}.").format(list_of_counts=_(", ").join(parts))


def reference_problem(text: str) -> str:
    """Why ``text`` is not a payment reference, in words; empty when it is one."""
    if REFERENCE_PATTERN.fullmatch(text):
        return ""
    bad_chars = sorted({c for c in text if not _ALLOWED_REFERENCE_CHARS.fullmatch(c)})
    if bad_chars:
        shown = ", ".join(repr(c) for c in bad_chars)
        return _(
            "{reference} has characters a reference cannot have ({characters}); only letters a-z, A-Z, "
            "digits and '-'"
        ).format(reference=repr(text), characters=shown)
    if len(text) < REFERENCE_MIN:
        return ngettext(
            "{reference} is too short ({count} character; a reference has {minimum} to {maximum})",
            "{reference} is too short ({count} characters; a reference has {minimum} to {maximum})",
            len(text),
        ).format(reference=repr(text), count=len(text), minimum=REFERENCE_MIN, maximum=REFERENCE_MAX)
    return _("{reference} is too long ({count} characters; a reference has {minimum} to {maximum})").format(
        reference=repr(text), count=len(text), minimum=REFERENCE_MIN, maximum=REFERENCE_MAX
    )


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


def new_payment_limits(currency: Currency) -> tuple[Money, Money]:
    """The smallest and largest amount the API takes for a new payment in ``currency``."""
    return Money(_AMOUNT_MIN_MINOR[currency], currency), Money(AMOUNT_MAX_MINOR, currency)


def parse_amount(text: str, currency: Currency, locale: str | None = None) -> Money:
    """Major units as typed → exact :class:`Money`, within what the API takes for a new payment:
    :func:`read_amount` (both decimal marks, grouped thousands, ``kr``/code, ``1,234`` refused as
    ambiguous) with the currency's smallest payment and the API's maximum; :class:`InputError`
    with the reason otherwise."""
    minimum, maximum = new_payment_limits(currency)
    return read_amount(text, currency, locale, minimum=minimum, maximum=maximum)


DEFAULT_LOCALE = "en_GB"


def _symbols(locale: str | None) -> tuple[str, str]:
    """The decimal and group symbols of ``locale`` (a name like ``nb_NO`` or ``nb-NO``); English ones
    for a name Babel does not know (a typo in a setting must not break every amount field)."""
    name = (locale or DEFAULT_LOCALE).replace("-", "_")
    try:
        parsed = Locale.parse(name)
    except (UnknownLocaleError, ValueError):
        parsed = Locale.parse(DEFAULT_LOCALE)
    return get_decimal_symbol(parsed), get_group_symbol(parsed)


def read_amount(
    text: str,
    currency: Currency,
    locale: str | None = None,
    *,
    minimum: Money | None = None,
    maximum: Money | None = None,
) -> Money:
    """Money as a person types it in ``locale``: ``"249,50"``, ``"1 234,50"``, ``"1.234,50"``,
    ``"kr 99"``, ``"99,-"``, or with the locale's own group symbol (a no-break space in Norwegian, an
    apostrophe in Swiss German). What is ambiguous is refused, whatever the locale: ``"1,234"`` is a
    thousand to some and one krone to others. :class:`InputError` says why and what to type instead."""
    decimal, group = _symbols(locale)
    if group and group not in ".,":
        text = text.replace(group, " ")
    try:
        return Money.parse(text, currency, minimum=minimum, maximum=maximum)
    except MoneyError as error:
        message = str(error)
        if "for example 249.50" in message and decimal != ".":
            message = message.replace("249.50", f"249{decimal}50")
        raise InputError(message) from None


def amount_text(money: Money, locale: str | None = None) -> str:
    """``money`` as the person would type it in ``locale``: no currency, no grouping, the locale's
    decimal symbol (``Money(24950, NOK)`` → ``"249,50"`` in ``nb_NO``); :func:`read_amount` reads it
    back exactly."""
    decimal, _group = _symbols(locale)
    digits = money.currency.minor_digits
    units, minor = divmod(abs(money.value), 10**digits)
    text = str(units) + (f"{decimal}{minor:0{digits}d}" if digits else "")
    return f"-{text}" if money.value < 0 else text


# --- phone numbers and descriptions ------------------------------------------------------------------

_PHONE_NOISE = re.compile(r"[\s\u00a0().-]")


def normalize_phone(text: str, currency: Currency = Currency.NOK) -> str:
    """``+47 912 34 567`` → ``4791234567`` (MSISDN: country code and number, 10..15 digits). A local
    number gets the country code of the sales unit's country (``currency``: NOK +47, DKK +45, EUR
    +358): ``912 34 567`` → ``4791234567``, ``040 123 4567`` → ``358401234567``."""
    example = country_for(currency).example
    cleaned = _PHONE_NOISE.sub("", text)
    international = cleaned.startswith(("+", "00"))
    if cleaned.startswith("+"):
        cleaned = cleaned[1:]
    elif cleaned.startswith("00"):
        cleaned = cleaned[2:]
    if not cleaned:
        raise InputError(
            _("Type the customer's mobile number with country code, for example {example}.").format(
                example=example
            )
        )
    if not cleaned.isdigit():
        raise InputError(
            _("'{number}' is not a phone number: only digits, spaces and a leading +.").format(
                number=text.strip()
            )
        )
    if not international:
        cleaned = with_country_code(cleaned, currency)
    if len(cleaned) < 10:
        raise InputError(
            _("'{number}' has no country code: type it with one, for example {example}.").format(
                number=text.strip(), example=example
            )
        )
    if len(cleaned) > 15:
        raise InputError(
            _("'{number}' is too long for a phone number (at most 15 digits).").format(number=text.strip())
        )
    return cleaned


def check_description(text: str) -> str:
    """The description as it will be sent (trimmed), or :class:`InputError` with the reason."""
    trimmed = text.strip()
    if len(trimmed) < DESCRIPTION_MIN:
        raise InputError(
            _("The description needs at least {DESCRIPTION_MIN} characters; the customer sees it.").format(
                DESCRIPTION_MIN=DESCRIPTION_MIN
            )
        )
    if len(trimmed) > DESCRIPTION_MAX:
        raise InputError(
            _("The description can have at most {DESCRIPTION_MAX} characters ({count} now).").format(
                DESCRIPTION_MAX=DESCRIPTION_MAX, count=len(trimmed)
            )
        )
    return trimmed


__all__ = [
    "AMOUNT_MAX_MINOR",
    "DEFAULT_LOCALE",
    "DESCRIPTION_MAX",
    "DESCRIPTION_MIN",
    "InputError",
    "ReferenceCheck",
    "ReferenceLine",
    "amount_text",
    "check_description",
    "check_reference_lines",
    "new_payment_limits",
    "normalize_phone",
    "parse_amount",
    "read_amount",
    "reference_problem",
    "split_line",
]
