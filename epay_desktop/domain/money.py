"""Money: an integer in minor units plus a currency. Never a float.

Formatting for people happens at the edge (the UI uses QLocale); ``Money.plain()`` is a
locale-free form for logs, the command line and CSV.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from epay_desktop.i18n import _


class MoneyError(ValueError):
    """Arithmetic across currencies, or a value that is not an integer number of minor units."""


class Currency(enum.StrEnum):
    NOK = "NOK"
    DKK = "DKK"
    EUR = "EUR"

    @property
    def minor_digits(self) -> int:
        # All three ePayment currencies have two decimals (øre, øre, cent).
        return 2


@dataclass(frozen=True, slots=True, order=False)
class Money:
    value: int
    currency: Currency

    def __post_init__(self) -> None:
        # bool is an int subclass; True kroner is a bug, not money.
        if not isinstance(self.value, int) or isinstance(self.value, bool):
            raise MoneyError(f"money must be an integer number of minor units, got {self.value!r}")
        if not isinstance(self.currency, Currency):
            raise MoneyError(f"unknown currency {self.currency!r}")

    @classmethod
    def zero(cls, currency: Currency) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if self.currency is not other.currency:
            raise MoneyError(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.value + other.value, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.value - other.value, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.value < other.value

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.value <= other.value

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.value > other.value

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.value >= other.value

    def __bool__(self) -> bool:
        return self.value != 0

    def clamp_at_zero(self) -> Money:
        return self if self.value >= 0 else Money(0, self.currency)

    def plain(self) -> str:
        """``1234.50 NOK``: exact, locale-free (for logs, CLI, CSV)."""
        sign = "-" if self.value < 0 else ""
        units, minor = divmod(abs(self.value), 10**self.currency.minor_digits)
        return f"{sign}{units}.{minor:0{self.currency.minor_digits}d} {self.currency.value}"

    def to_json(self) -> dict[str, object]:
        return {"currency": self.currency.value, "value": self.value}

    @classmethod
    def parse(
        cls,
        text: str,
        currency: Currency,
        *,
        minimum: Money | None = None,
        maximum: Money | None = None,
    ) -> Money:
        """Major units as a person types them → exact :class:`Money` (never through a float).

        Accepts ``,`` or ``.`` as the decimal mark; spaces (also non-breaking and thin), apostrophes
        and the other mark as thousands separators, in groups of three; a leading ``+``; and the
        currency's code or word (``NOK``, ``kr``, ``250,-``, ``€``) before or after the number.

        Raises :class:`MoneyError` with a sentence for people for: nothing typed, a negative amount,
        zero, another currency, more decimals than the currency has, a lone mark followed by exactly
        three digits (``1,234`` is a thousand to some people and one krone to others), badly grouped
        thousands, anything that is not a number, and an amount below ``minimum`` or above ``maximum``.
        ``Money.parse(m.plain(), m.currency) == m`` for every positive ``m``.
        """
        if minimum is not None:
            minimum._same(Money.zero(currency))
        if maximum is not None:
            maximum._same(Money.zero(currency))
        value = _parse_minor_units(text, currency)
        if minimum is not None and value < minimum.value:
            raise MoneyError(
                _("The smallest {currency} amount is {amount}.").format(
                    currency=currency.value, amount=minimum.plain()
                )
            )
        if maximum is not None and value > maximum.value:
            raise MoneyError(_("The largest amount is {amount}.").format(amount=maximum.plain()))
        return cls(value, currency)


# --- reading amounts people type ----------------------------------------------------------------------
# Plain string work, no regex backtracking and no float: the text is cut into digit groups and the
# integer is assembled from them.

_DIGITS = frozenset("0123456789")
_DECIMAL_MARKS = frozenset(".,")
# Thousands separators that can never be a decimal mark: spaces of all widths and apostrophes (Swiss).
_GROUP_ONLY = frozenset(" \t\u00a0\u202f\u2009'\u2019")
_MINUS_SIGNS = ("-", "\u2212")
_CURRENCY_AFFIXES = {Currency.NOK: ("NOK",), Currency.DKK: ("DKK",), Currency.EUR: ("EUR", "€")}
# "kr" (NOK and DKK alike) and the Scandinavian ",-" for "no decimals"; "kr." before "kr".
_KRONER_WORDS = ("kr.", "kr", ",-", ".-")
# More whole digits than any amount anyone means (and far below int()'s 4300-digit limit).
_MAX_WHOLE_DIGITS = 15


def _shown(text: str) -> str:
    """The person's text for a message: trimmed, and shortened if it is a whole pasted page."""
    trimmed = text.strip()
    return trimmed if len(trimmed) <= 40 else trimmed[:37] + "..."


def _strip_currency(text: str, currency: Currency) -> str:
    """The text without the currency's code or word; another currency's is an error."""
    rest = text.strip()
    for code, affixes in _CURRENCY_AFFIXES.items():
        for affix in affixes:
            at_start, at_end = rest[: len(affix)].upper() == affix, rest[-len(affix) :].upper() == affix
            if not (at_start or at_end):
                continue
            if code is not currency:
                raise MoneyError(
                    _("The amount must be in {currency}, not {other}.").format(
                        currency=currency.value, other=code.value
                    )
                )
            rest = (rest[len(affix) :] if at_start else rest[: -len(affix)]).strip()
    for word in _KRONER_WORDS:
        at_start, at_end = rest.lower().startswith(word), rest.lower().endswith(word)
        if not (at_start or at_end):
            continue
        if word.startswith("kr") and currency is Currency.EUR:
            raise MoneyError(_("The amount must be in EUR, not kroner."))
        rest = (rest[len(word) :] if at_start else rest[: -len(word)]).strip()
    return rest


def _join_groups(whole: str, text: str) -> str:
    """``"1 234"``, ``"1.234.567"`` or ``"1'234"`` → ``"1234"``; a lone ``"1234"`` stays as it is."""
    groups: list[str] = [""]
    for char in whole:
        if char in _DIGITS:
            groups[-1] += char
        else:  # a thousands separator: the caller let only those through
            groups.append("")
    if len(groups) > 1 and (not 1 <= len(groups[0]) <= 3 or any(len(group) != 3 for group in groups[1:])):
        raise MoneyError(
            _("'{text}' is not a number: thousands go in groups of three.").format(text=_shown(text))
        )
    return "".join(groups)


def _parse_minor_units(text: str, currency: Currency) -> int:
    rest = _strip_currency(text, currency)
    if not rest:
        raise MoneyError(_("Type an amount, for example 249.50."))
    if rest.startswith(_MINUS_SIGNS):
        raise MoneyError(_("The amount must be positive."))
    rest = rest.removeprefix("+").strip()
    allowed = _DIGITS | _DECIMAL_MARKS | _GROUP_ONLY
    if not rest or any(char not in allowed for char in rest) or not any(c in _DIGITS for c in rest):
        raise MoneyError(
            _("'{text}' is not an amount; type digits, for example 249.50.").format(text=_shown(text))
        )

    last = max(rest.rfind(","), rest.rfind("."))
    if last == -1:
        whole, fraction = rest, ""
    else:
        mark = rest[last]
        other = "." if mark == "," else ","
        head, fraction = rest[:last], rest[last + 1 :]
        if rest.count(mark) > 1 and other not in rest:
            # "1.234.567": every mark separates thousands; there are no decimals.
            whole, fraction = rest, ""
        elif mark in head:
            raise MoneyError(_("'{text}' has more than one decimal mark.").format(text=_shown(text)))
        elif len(fraction) == 3 and other not in head and all(c in _DIGITS for c in fraction):
            raise MoneyError(
                _(
                    "'{text}' is ambiguous: write {digits} for {thousands} thousand {rest}, or at most "
                    "two decimals."
                ).format(text=_shown(text), digits=head + fraction, thousands=head, rest=fraction)
            )
        else:
            whole = head
    if any(char not in _DIGITS for char in fraction):
        raise MoneyError(
            _("'{text}' is not an amount: decimals come last, digits only.").format(text=_shown(text))
        )
    digits = currency.minor_digits
    if len(fraction) > digits:
        raise MoneyError(
            _("{currency} has {digits} decimals; '{text}' has {count}.").format(
                currency=currency.value, digits=digits, text=_shown(text), count=len(fraction)
            )
        )
    whole_digits = _join_groups(whole.strip(), text)
    if len(whole_digits.lstrip("0")) > _MAX_WHOLE_DIGITS:
        raise MoneyError(_("'{text}' is too large to be an amount.").format(text=_shown(text)))
    scale: int = 10**digits
    value = int(whole_digits or "0") * scale + int(fraction.ljust(digits, "0") or "0")
    if value == 0:
        raise MoneyError(_("The amount must be more than zero."))
    return value
