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

from tradeguard.screening.vocabulary import (
    ARABIC_ABD_FORMS,
    GENERATIONAL_SUFFIXES,
    HONORIFICS,
    LEGAL_FORM_EQUIVALENTS,
    LEGAL_FORMS,
    LEGAL_PHRASES,
    MORE_LEGAL_PHRASES,
)

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
_DROPPED = HONORIFICS | GENERATIONAL_SUFFIXES
_ABD = "ABD"
_ABD_JOINED = ("ABDUL", "ABDEL", "ABDOL", "ABDAL", "ABDIL")
_MIN_ABD_REST = 3
_CYRILLIC_ENDINGS = frozenset({"IY", "II", "IJ", "YY", "YI"})
_MIN_CYRILLIC_STEM = 3
_PHRASES = tuple(
    sorted(LEGAL_PHRASES + MORE_LEGAL_PHRASES, key=lambda item: len(item[0]), reverse=True)
)


@lru_cache(maxsize=65536)
def name_tokens(name: str) -> tuple[str, ...]:
    """The comparable tokens of ``name``, titles dropped (unless nothing else is left)."""
    words = [
        _cyrillic_ending(piece)
        for word in _words(_transliterate(name))
        for piece in _abd_split(word)
    ]
    words = _legal_forms(words)
    kept = [word for word in words if word not in _DROPPED]
    return tuple(kept or words)


def _allah(rest: str) -> bool:
    """ABDULLAH, ABDULLAHI, ABDULAHI: Abd Allah, one name, not Abd al- and another."""
    return rest.lstrip("L").startswith("AH")


def _cyrillic_ending(word: str) -> str:
    """The ending -ИЙ/-ЫЙ one way: ZHUKOVSKIY, ZHUKOVSKII, ZHUKOVSKIJ, ZHUKOVSKYI are -Y.

    Romanisation systems write it -IY (BGN/PCGN), -II (passports), -IJ (ISO) or -YY.
    """
    if len(word) > _MIN_CYRILLIC_STEM + 2 and word[-2:] in _CYRILLIC_ENDINGS:
        return word[:-2] + "Y"
    return word


def _abd_split(word: str) -> list[str]:
    """``Abd`` and its article written apart: ABDULRAHMAN, ABDEL, ABDURRAHMAN are ABD AL ...

    Arabic compound names are written joined, hyphenated or apart, with the article as
    UL, EL, AL or assimilated to the next letter (ABDUR RAHMAN, ABDUS SALAM).
    """
    if word in ARABIC_ABD_FORMS:
        return [_ABD, "AL"]
    for joined in _ABD_JOINED:
        rest = word.removeprefix(joined)
        if rest != word and len(rest) >= _MIN_ABD_REST and not _allah(rest):
            return [_ABD, "AL", rest]
    assimilated = word[5:]
    if (
        word.startswith(_ABD)
        and len(assimilated) >= _MIN_ABD_REST
        and word[3] in "AEIOU"
        and word[4] == word[5]
        and word[4] not in _VOWELS
        and not _allah(assimilated)
    ):
        return [_ABD, "AL", assimilated]
    return [word]


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
    """Words of ``text``: dotted legal forms closed up (L.L.C.), initials (M.A.) apart."""
    text = _DOTTED_ABBREVIATION.sub(_dotted, text)
    text = text.replace("'", "").replace("`", "").replace("&", " AND ")
    return _NOT_NAME.sub(" ", text).split()


def _dotted(found: re.Match[str]) -> str:
    """A dotted abbreviation: closed up when it is a legal form (S.P.A.), else initials."""
    closed = found.group().replace(".", "")
    return closed if closed in LEGAL_FORMS or closed in LEGAL_FORM_EQUIVALENTS else " ".join(closed)


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
            word = LEGAL_FORMS.get(words[index], words[index])
            out.append(LEGAL_FORM_EQUIVALENTS.get(word, word))
            index += 1
    return out


def _phrase_at(words: list[str], index: int) -> tuple[int, str]:
    """The length and form of the legal phrase starting at ``index`` (0 when none does).

    Words compare by skeleton: a phrase transliterated another way (OGRANICHENNOI,
    OGRANICHENNOY) is the same phrase.
    """
    for phrase, form in _PHRASES:
        found = words[index : index + len(phrase)]
        if len(found) == len(phrase) and all(
            word == want or skeleton(word) == skeleton(want)
            for word, want in zip(found, phrase, strict=True)
        ):
            return len(phrase), LEGAL_FORM_EQUIVALENTS.get(form, form)
    return 0, ""


@lru_cache(maxsize=131072)
def skeleton(token: str) -> str:
    """The token's consonant skeleton over sound classes (MUHAMMAD, MOHAMED: ``MMT``).

    Digraphs of transliteration (KH, ZH, PH, DJ, ...) are written one way, letters
    that transliterations swap (Q/K/G/C, Z/S, D/T, B/P/F/V, J) share a class, vowels
    are dropped after the first letter and a doubled letter counts once (HASSAN,
    HASAN). A consonant repeated across a vowel stays: KAKA is not KA, nor
    DERIPASKAAKA DERIPASKA.
    """
    if token.isdigit():
        return token
    for digraph, single in _REWRITES:
        token = token.replace(digraph, single)
    head = "A" if token[0] in _VOWELS else token[0].translate(_CLASSES)
    classes = [head]
    previous = head
    for char in token[1:].translate(_CLASSES):
        if char not in _VOWELS and char != previous:
            classes.append(char)
        previous = char
    return "".join(classes)
