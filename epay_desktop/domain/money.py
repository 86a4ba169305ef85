"""Money: an integer in minor units plus a currency. Never a float.

Formatting for people happens at the edge (the UI uses QLocale); ``Money.plain()`` is a
locale-free form for logs, the command line and CSV.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


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
