"""What screening reads from a list entry's fields: its kind, names, births and countries."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tradeguard.screening.names import name_tokens
from tradeguard.screening.watchlist import EntryKind, NameKind

_QUOTES = "'\"\u2018\u2019\u201c\u201d"
_WEAK_ALIAS = re.compile(rf"a\.k\.a\.,?\s+[{_QUOTES}]([^{_QUOTES};]+)[{_QUOTES}]", re.IGNORECASE)
_COUNTRY_REMARK = re.compile(
    r"\b(?:nationality|citizen|POB|place of birth|Nationality of Registration)\b[^;]*",
    re.IGNORECASE,
)
_ALIAS_KINDS = {"aka": NameKind.AKA, "fka": NameKind.FKA, "nka": NameKind.NKA}


def entry_kind(sdn_type: str | None) -> EntryKind:
    """The kind of an entry from OFAC's ``SDN_Type`` (null means an entity)."""
    value = (sdn_type or "").strip().lower()
    return EntryKind(value) if value in EntryKind.__members__.values() else EntryKind.ENTITY


def alias_kind(alt_type: str | None, remarks: str | None) -> NameKind:
    """The kind of an ``alt.csv`` alias; one whose remarks call it weak is weak."""
    if remarks and "weak" in remarks.lower():
        return NameKind.WEAK
    return _ALIAS_KINDS.get((alt_type or "").strip().lower().rstrip("."), NameKind.AKA)


def weak_aliases(remarks: str | None) -> list[str]:
    """Weak aliases written in the remarks: ``a.k.a. 'ABU AHMAD'``."""
    return [found.strip() for found in _WEAK_ALIAS.findall(remarks or "") if found.strip()]


def country_tokens(remarks: str | None, places: Iterable[str | None]) -> tuple[str, ...]:
    """Name tokens of everything that names a country: places given and remark phrases.

    ``places`` are address countries and a vessel's flag; from the remarks the
    nationality, citizenship and place-of-birth phrases count. A separator token keeps
    phrases from running into each other.
    """
    phrases = [place for place in places if place]
    phrases.extend(_COUNTRY_REMARK.findall(remarks or ""))
    tokens: list[str] = []
    for phrase in phrases:
        tokens.extend((*name_tokens(phrase), "|"))
    return tuple(tokens)
