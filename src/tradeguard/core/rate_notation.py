"""Rate-limit settings in the ``limits`` notation (``"20/minute"``, ``"5 per 10 seconds"``)."""

from __future__ import annotations

from typing import Annotated

from limits import RateLimitItem, parse_many
from pydantic import AfterValidator

MAX_WINDOW_SECONDS = 86_400
MAX_AMOUNT = 10_000_000


def parsed_rate_limit(text: str) -> RateLimitItem:
    """The one limit ``text`` states; ``ValueError`` for bad notation, several limits, 0."""
    items = parse_many(text)
    if len(items) != 1:
        raise ValueError(f"state exactly one limit, not {len(items)}: {text!r}")
    item = items[0]
    if not 1 <= item.amount <= MAX_AMOUNT:
        raise ValueError(f"the amount must be 1 to {MAX_AMOUNT}: {text!r}")
    if item.get_expiry() > MAX_WINDOW_SECONDS:
        raise ValueError(f"the window must be at most a day: {text!r}")
    return item


def _checked(text: str) -> str:
    parsed_rate_limit(text)
    return text


RateLimitText = Annotated[str, AfterValidator(_checked)]
"""A settings field holding one limit in the ``limits`` notation, checked on load."""
