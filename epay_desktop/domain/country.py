"""The country of a sales unit, from the one currency it takes: its phone country code and how a
local mobile number looks. NOK is Norway (+47), DKK Denmark (+45), EUR Finland (+358): Vipps MobilePay
takes EUR only from Finnish sales units."""

from __future__ import annotations

from typing import NamedTuple

from epay_desktop.domain.money import Currency


class Country(NamedTuple):
    calling_code: str  # without "+"
    example: str  # a mobile number as people there write it, with the country code
    local_digits: tuple[int, ...]  # how many digits a local mobile number has (without a trunk "0")


COUNTRIES: dict[Currency, Country] = {
    Currency.NOK: Country("47", "+47 912 34 567", (8,)),
    Currency.DKK: Country("45", "+45 20 12 34 56", (8,)),
    # Finnish mobile numbers are written 040 123 4567 at home: a trunk "0", then 7 to 9 digits.
    Currency.EUR: Country("358", "+358 40 123 4567", (7, 8, 9)),
}


def country_for(currency: Currency) -> Country:
    return COUNTRIES[currency]


def with_country_code(digits: str, currency: Currency) -> str:
    """A local mobile number (digits only, as typed without "+") with the sales unit's country code put
    in front: ``91234567`` (NOK) → ``4791234567``; ``0401234567`` (EUR) → ``358401234567``. Digits that
    do not look like a local number there come back as they are."""
    country = COUNTRIES[currency]
    local = digits[1:] if currency is Currency.EUR and digits.startswith("0") else digits
    if len(local) in country.local_digits and not local.startswith("0"):
        return country.calling_code + local
    return digits
