"""``Label``: a name people give things (API keys, factors, devices), as every request takes it.

A name is shown back: in lists, in emails, in an operator's terminal and in the audit
trail. Control characters (a NUL, a CR LF that forges a line of an email or a log, a
terminal escape) and format characters (a right-to-left override that shows
``exe.txt`` for ``txt.exe``, zero-width joiners that make two names look alike) have no
place in one, so ``Printable`` refuses them: Unicode categories Cc, Cf, Cs (lone
surrogates), Co (private use), Zl and Zp (line and paragraph separators).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

MAX_LABEL = 64
UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def unprintable(text: str) -> bool:
    """Whether ``text`` holds a control, format, surrogate, private-use or separator character."""
    return any(unicodedata.category(char) in UNPRINTABLE_CATEGORIES for char in text)


def printable(text: str) -> str:
    """``text`` itself; a ValueError (a 422 in a request) if a character is not printable."""
    if unprintable(text):
        raise ValueError(
            "control and formatting characters (line breaks, direction overrides, "
            "zero-width characters) are not allowed here"
        )
    return text


def printable_only(text: str) -> str:
    """``text`` without its unprintable characters (for names the client does not choose)."""
    return "".join(c for c in text if unicodedata.category(c) not in UNPRINTABLE_CATEGORIES)


Printable = AfterValidator(printable)
"""Refuses a string holding a character that is not printable text."""

Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LABEL),
    Printable,
]
"""1 to 64 characters of printable text after trimming."""
