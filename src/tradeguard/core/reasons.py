"""``Reason``: why a person did something, as every request that asks for one takes it."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

MIN_REASON = 3
MAX_REASON = 200

Reason = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=MIN_REASON,
        max_length=MAX_REASON,
        pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]+$",
    ),
]
"""3 to 200 characters after trimming; control characters other than tabs and line
breaks are refused (a terminal escape in a reason could rewrite an operator's screen).

It is recorded in the audit trail with the change it explains.
"""
