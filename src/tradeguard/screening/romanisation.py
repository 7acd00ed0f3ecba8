"""Chinese syllables in Wade-Giles read as Hanyu Pinyin: HSU is XU, CHOU is ZHOU.

Names from Taiwan, Hong Kong and older documents are romanised in Wade-Giles, lists and
mainland documents in Pinyin. With the aspiration apostrophe dropped (CH'IANG is
written CHIANG) one Wade-Giles initial can stand for two Pinyin ones, so a syllable has
a few readings. Only tokens shaped like one Chinese syllable are read.
"""

from __future__ import annotations

import re
from functools import lru_cache

_SYLLABLE = re.compile(r"^(HS|CH|TS|TZ|SS|SZ|SH|[PTKJLMNFHWY])?([AEIOU]{1,3})(NG|N|H)?$")
_INITIALS: dict[str, tuple[str, ...]] = {
    "HS": ("X",),
    "CH": ("ZH", "CH", "J", "Q"),
    "TS": ("Z", "C"),
    "TZ": ("Z", "C"),
    "SS": ("S",),
    "SZ": ("S",),
    "K": ("G", "K"),
    "T": ("D", "T"),
    "P": ("B", "P"),
    "J": ("R",),
}
_FINALS: dict[str, tuple[str, ...]] = {
    "UNG": ("ONG",),
    "IUNG": ("IONG",),
    "IEN": ("IAN",),
    "IH": ("I",),
    "UEH": ("UE",),
    "IEH": ("IE",),
    "O": ("O", "E", "UO"),
    "E": ("E",),
}
_MAX_SYLLABLE = 6


@lru_cache(maxsize=65536)
def pinyin_readings(token: str) -> frozenset[str]:
    """The Pinyin spellings a Wade-Giles syllable may stand for (empty if not one)."""
    found = _SYLLABLE.match(token) if len(token) <= _MAX_SYLLABLE else None
    if found is None:
        return frozenset()
    initial, vowels, ending = found.group(1) or "", found.group(2), found.group(3) or ""
    final = vowels + ending
    finals = _FINALS.get(final, (final,))
    initials = _INITIALS.get(initial, (initial,))
    readings = {head + tail for head in initials for tail in finals}
    readings.discard(token)
    return frozenset(readings)
