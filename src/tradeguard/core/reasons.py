"""``Reason``: why a person did something, as every request that asks for one takes it."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from tradeguard.core.labels import unprintable

MIN_REASON = 3
MAX_REASON = 200
LAYOUT = str.maketrans("", "", "\n\t")
"""Line breaks and tabs: the only characters a reason may hold that a name may not."""


def written(text: str) -> str:
    """``text`` itself; a ValueError (a 422 in a request) for a character a reason refuses."""
    if unprintable(text.translate(LAYOUT)):
        raise ValueError(
            "control and formatting characters (terminal escapes, direction overrides, "
            "zero-width characters) are not allowed in a reason"
        )
    return text


Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=MIN_REASON, max_length=MAX_REASON),
    AfterValidator(written),
]
"""3 to 200 characters after trimming, as people write them: line breaks and tabs are
kept; other control and formatting characters are refused (a terminal escape could
rewrite an operator's screen, a direction override disguise what the audit shows).

It is recorded in the audit trail with the change it explains.
"""
