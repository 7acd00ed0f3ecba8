"""Amounts at the edge: decimal strings of dollars, positive, at most two decimals."""

from __future__ import annotations

import re

from tradeguard.core.money import Money
from tradeguard.payments.problems import PaymentReason, invalid

AMOUNT_PATTERN = re.compile(r"^(0|[1-9][0-9]{0,10})(\.[0-9]{1,2})?$")
MAX_CENTS = 100_000_000_000  # one billion dollars: no single movement is larger


def parse_amount(text: object) -> int:
    """Cents of a positive amount like ``"1250.50"``; 422 ``PAYMENT_AMOUNT_INVALID`` else."""
    if not isinstance(text, str) or AMOUNT_PATTERN.fullmatch(text) is None:
        raise invalid(
            PaymentReason.AMOUNT_INVALID,
            "an amount is a decimal string of dollars with at most two decimals, e.g. 100.00",
        )
    cents = Money.parse(text).cents
    if not 0 < cents <= MAX_CENTS:
        raise invalid(
            PaymentReason.AMOUNT_INVALID,
            "an amount is more than 0.00 and at most 1000000000.00",
            amount=text,
        )
    return cents
