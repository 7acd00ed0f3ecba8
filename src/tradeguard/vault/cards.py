"""Card number checks done in the vault before anything leaves it."""

from __future__ import annotations

from datetime import datetime

from tradeguard.logs import luhn_valid
from tradeguard.vault.problems import invalid

PAN_MIN, PAN_MAX = 13, 19
CVC_LENGTHS = (3, 4)


def normalized_number(typed: str) -> str:
    """The card number without spaces or dashes; 422 VAULT_CARD_NUMBER_INVALID otherwise."""
    digits = typed.replace(" ", "").replace("-", "")
    if not (digits.isascii() and digits.isdigit() and PAN_MIN <= len(digits) <= PAN_MAX):
        raise invalid("VAULT_CARD_NUMBER_INVALID", "A card number has 13 to 19 digits.")
    if not luhn_valid(digits):
        raise invalid("VAULT_CARD_NUMBER_INVALID", "The card number's check digit is wrong.")
    return digits


def checked_expiry(month: int, year: int, now: datetime) -> tuple[int, int]:
    """A month 1-12 and a four-digit year not in the past; 422 VAULT_CARD_EXPIRED otherwise."""
    if not 1 <= month <= 12:  # noqa: PLR2004 - months of a year
        raise invalid("VAULT_CARD_EXPIRY_INVALID", "The expiry month is 1 to 12.")
    if year < 100:  # noqa: PLR2004 - a two-digit year means this century
        year += 2000
    if (year, month) < (now.year, now.month):
        raise invalid("VAULT_CARD_EXPIRED", "The card has expired.")
    if year > now.year + 20:
        raise invalid("VAULT_CARD_EXPIRY_INVALID", "The expiry year is too far ahead.")
    return month, year


def checked_cvc(cvc: str) -> str:
    """Three or four digits; 422 VAULT_CARD_CVC_INVALID otherwise."""
    if not (cvc.isascii() and cvc.isdigit() and len(cvc) in CVC_LENGTHS):
        raise invalid("VAULT_CARD_CVC_INVALID", "The security code has 3 or 4 digits.")
    return cvc
