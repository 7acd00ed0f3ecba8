"""Names as tokens: transliteration, case, punctuation, titles and legal forms made uniform.

``name_tokens("Dr. José O'Brien-Núñez")`` is ``("JOSE", "OBRIEN", "NUNEZ")``. Names in
any script are transliterated to ASCII (``anyascii``); each Chinese, Japanese or Korean
character becomes its own syllable token, because those names are written with or
without spaces between syllables. ``skeleton`` is the phonetic key that both blocks
candidates and tells spelling variants apart from different names.
"""

from __future__ import annotations

import re
from functools import lru_cache

from anyascii import anyascii

from tradeguard.screening.vocabulary import HONORIFICS, LEGAL_FORMS, LEGAL_PHRASES

_DOTTED_ABBREVIATION = re.compile(r"\b(?:[A-Z]\.){2,}")
_NOT_NAME = re.compile(r"[^A-Z0-9]+")
_SYLLABIC_SCRIPTS_FROM = 0x2E80  # CJK radicals onwards: Han, kana, Hangul
_VOWELS = frozenset("AEIOUYHW")
_REWRITES = (
    ("SCH", "S"),
    ("SHCH", "S"),
    ("TCH", "C"),
    ("DJ", "J"),
    ("DZH", "J"),
    ("ZH", "J"),
    ("KH", "K"),
    ("GH", "G"),
    ("PH", "F"),
    ("TH", "T"),
    ("DH", "D"),
    ("CK", "K"),
    ("TZ", "S"),
    ("TS", "S"),
    ("KS", "X"),
)
_CLASSES = str.maketrans("BPFVQCGKXZSJDTLMNR", "BBBBKKKKKSSJTTLMNR")


@lru_cache(maxsize=65536)
def name_tokens(name: str) -> tuple[str, ...]:
    """The comparable tokens of ``name``, titles dropped (unless nothing else is left)."""
    words = _words(_transliterate(name))
    words = _legal_forms(words)
    kept = [word for word in words if word not in HONORIFICS]
    return tuple(kept or words)


def _transliterate(name: str) -> str:
    """``name`` in upper-case ASCII; syllabic scripts spaced one syllable per character."""
    if name.isascii():
        return name.upper()
    pieces = []
    for char in name:
        latin = anyascii(char)
        pieces.append(f" {latin} " if ord(char) >= _SYLLABIC_SCRIPTS_FROM else latin)
    return "".join(pieces).upper()


def _words(text: str) -> list[str]:
    """Words of ``text``: dotted abbreviations closed up (L.L.C.), apostrophes dropped."""
    text = _DOTTED_ABBREVIATION.sub(lambda found: found.group().replace(".", ""), text)
    text = text.replace("'", "").replace("`", "").replace("&", " AND ")
    return _NOT_NAME.sub(" ", text).split()


def _legal_forms(words: list[str]) -> list[str]:
    """``words`` with each legal form, one word or several, written one way."""
    out: list[str] = []
    index = 0
    while index < len(words):
        phrase, form = _phrase_at(words, index)
        if phrase:
            out.extend(form.split())
            index += phrase
        else:
            out.append(LEGAL_FORMS.get(words[index], words[index]))
            index += 1
    return out


def _phrase_at(words: list[str], index: int) -> tuple[int, str]:
    """The length and form of the legal phrase starting at ``index`` (0 when none does)."""
    for phrase, form in LEGAL_PHRASES:
        if tuple(words[index : index + len(phrase)]) == phrase:
            return len(phrase), form
    return 0, ""


@lru_cache(maxsize=131072)
def skeleton(token: str) -> str:
    """The token's consonant skeleton over sound classes (MUHAMMAD, MOHAMED: ``MMT``).

    Digraphs of transliteration (KH, ZH, PH, DJ, ...) are written one way, letters
    that transliterations swap (Q/K/G/C, Z/S, D/T, B/P/F/V, J) share a class, vowels
    are dropped after the first letter and repeats collapse.
    """
    if token.isdigit():
        return token
    for digraph, single in _REWRITES:
        token = token.replace(digraph, single)
    head = "A" if token[0] in _VOWELS else token[0].translate(_CLASSES)
    classes = [head]
    for char in token[1:].translate(_CLASSES):
        if char not in _VOWELS and char != classes[-1]:
            classes.append(char)
    return "".join(classes)
