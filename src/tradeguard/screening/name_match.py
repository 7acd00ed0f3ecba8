"""How well two names agree, token by token, whatever order each is written in.

Each token of the screened name is paired with at most one token of the listed name
(or with two adjacent ones written as one word: ABDUL RAHMAN, ABDULRAHMAN). A pair
counts when the tokens are equal, sound alike (same skeleton and a close spelling),
differ by a typo (the mean of Jaro-Winkler and edit similarity, two letters swapped
counting as one slip, so a shared prefix alone is not enough, less first-letter, length
and short-token penalties) or one is the other's initial. Tokens weigh by rarity: titles
are gone, particles, initials and generic business words weigh little, so
``BELLETECH CORP`` against ``11420 CORP`` shares only a word that weighs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
from rapidfuzz.distance import OSA, JaroWinkler

from tradeguard.screening.names import name_tokens, skeleton
from tradeguard.screening.romanisation import pinyin_readings
from tradeguard.screening.vocabulary import GENERIC_WORDS, NAME_GROUPS, PARTICLES

TOKEN_FLOOR = 0.84
"""A token pair below this similarity does not count at all."""
SHORT_TOKEN = 3
SHORT_PENALTY = 0.08
FIRST_LETTER_PENALTY = 0.05
LENGTH_PENALTY = 0.05
"""Per letter of length difference beyond one: TAYLOR is not TAYLOROMI."""
MAX_TYPO_EDITS = 2
"""A typo is one or two slips (a letter added, dropped, changed, or two swapped); names
further apart agree only by sound."""
ENDING = 3
"""Two edits within this many last letters are another ending (KARIMI, KARIMOV), no typo."""
SOUND_ALIKE = 0.92
CLOSE_SPELLING = 0.8
SHORT_NAME = 4
SHORT_VOWEL_VARIANT = 0.86
INITIAL = 0.8
MERGED_FLOOR = 0.9
DISTINCTIVE_WEIGHT = 0.3
ONE_TOKEN_CAP = 0.7
LONGER_SIDE_EXPONENT = 0.25
NICKNAME = 0.9
"""Two forms of one given name (WILLIAM, BILL; ALEKSANDR, SASHA; PAK, PARK)."""
ROMANISATION = 0.9
"""A Wade-Giles syllable and its Pinyin reading (HSU, XU; CHIANG, QIANG)."""
_POLISH = (("SZCZ", "SHCH"), ("CZ", "CH"), ("SZ", "SH"), ("W", "V"))
MAX_JOINED = 3
"""At most this many adjacent tokens pair with one word (ABD AL RAHMAN, ABDULRAHMAN)."""
FILLER_ORDER_PENALTY = 0.2
"""Particle pairs are chosen after name pairs, so AL does not take the AL of ABD AL RAHMAN."""
_GROUPS: dict[str, frozenset[int]] = {}
for _number, _group in enumerate(NAME_GROUPS):
    for _token in _group:
        _GROUPS[_token] = _GROUPS.get(_token, frozenset()) | {_number}


def name_groups(token: str) -> frozenset[int]:
    """The groups of given-name forms ``token`` belongs to (empty for most tokens)."""
    return _GROUPS.get(token, frozenset())


"""How much the coverage of the less-covered name counts (a missing middle name)."""


@dataclass(frozen=True, slots=True)
class NameForm:
    """A name prepared for comparison: its tokens, their skeletons and their weights."""

    text: str
    tokens: tuple[str, ...]
    weights: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class TokenPair:
    """Tokens of the two names paired together, how, and how similar."""

    screened: tuple[int, ...]
    listed: tuple[int, ...]
    similarity: float
    how: str


@dataclass(frozen=True, slots=True)
class NameComparison:
    """The score of one name against another and the pairs that made it."""

    score: float
    pairs: tuple[TokenPair, ...]
    capped: bool = False


def prepare(text: str, weigh: Callable[[str], float]) -> NameForm:
    """``text`` as tokens weighed by ``weigh``."""
    tokens = name_tokens(text)
    return NameForm(text, tokens, tuple(weigh(token) for token in tokens))


@lru_cache(maxsize=262144)
def token_similarity(left: str, right: str) -> tuple[float, str]:
    """How alike two tokens are (0 when not enough to count) and why."""
    if left == right:
        return 1.0, "exact"
    similarity, how = _spelling_similarity(left, right)
    if similarity < NICKNAME and name_groups(left) & name_groups(right):
        return NICKNAME, "nickname"
    if similarity < ROMANISATION and (
        left in pinyin_readings(right) or right in pinyin_readings(left)
    ):
        return ROMANISATION, "romanisation"
    if similarity < SOUND_ALIKE and _y_for_i(left) == _y_for_i(right):
        return SOUND_ALIKE, "phonetic"
    return similarity, how


def _y_for_i(token: str) -> str:
    """Y and I written one way: romanisations of Й, Vietnamese and Turkish swap them (MYN, MIN)."""
    return token.replace("Y", "I")


def _spelling_similarity(left: str, right: str) -> tuple[float, str]:
    """How alike two different spellings are: an initial, a sound, a vowel, a typo."""
    if len(left) == 1 or len(right) == 1:
        return (INITIAL, "initial") if left[0] == right[0] else (0.0, "")
    if left.isdigit() or right.isdigit():
        return 0.0, ""
    similarity = JaroWinkler.normalized_similarity(left, right)
    alike = _sound_alike(left, right, similarity)
    if alike is not None:
        sounded = max(similarity, SOUND_ALIKE) - _length_penalty(*alike)
        return (sounded, "phonetic") if sounded >= TOKEN_FLOOR else (0.0, "")
    if _vowel_variant(left, right):
        return SHORT_VOWEL_VARIANT, "vowel"
    distance = OSA.distance(left, right, score_cutoff=MAX_TYPO_EDITS)
    if distance > MAX_TYPO_EDITS or (distance == MAX_TYPO_EDITS and _other_ending(left, right)):
        return 0.0, ""
    edits = OSA.normalized_similarity(left, right)
    return _penalised(left, right, (similarity + edits) / 2)


def _other_ending(left: str, right: str) -> bool:
    """The two names agree up to their last letters: another suffix, not two slips.

    Surnames are built from one stem with different endings (PETROV, PETROVA; KARIMI,
    KARIMOV; MOHAMMADI, MOHAMMADIAN); two letters that differ only in the last
    ``ENDING`` letters of the shorter name are such an ending.
    """
    same = 0
    for one, other in zip(left, right, strict=False):
        if one != other:
            break
        same += 1
    return same >= min(len(left), len(right)) - ENDING


def _sound_alike(left: str, right: str, similarity: float) -> tuple[str, str] | None:
    """The spellings that sound alike: same skeleton, and a close spelling or Metaphone code.

    The tokens as written are compared, then their readings in other orthographies
    (French CH for SH and OU for U, Polish W, CZ, SZ), each reading pair on its own
    spelling; the length penalty is then taken on the readings (IOUSSOUPOV is written
    longer than YUSUPOV only because French writes U as OU). ``None`` when none does.
    """
    if _spoken_alike(left, right, similarity):
        return left, right
    alike = [
        (one, other)
        for one in _readings(left)
        for other in _readings(right)
        if (one, other) != (left, right)
        and skeleton(one) == skeleton(other)
        and _spoken_alike(one, other, JaroWinkler.normalized_similarity(one, other))
    ]
    return min(alike, key=lambda pair: abs(len(pair[0]) - len(pair[1])), default=None)


def _spoken_alike(left: str, right: str, similarity: float) -> bool:
    key = skeleton(left)
    if len(key) < 2 or key != skeleton(right):  # noqa: PLR2004
        return False
    if similarity >= CLOSE_SPELLING or _vowels(left) == _vowels(right):
        return True
    return len(key) >= 3 and jellyfish.metaphone(left) == jellyfish.metaphone(right)  # noqa: PLR2004


@lru_cache(maxsize=65536)
def _readings(token: str) -> frozenset[str]:
    """The token as written and as other orthographies would write it in English letters.

    French writes SH as CH (CHERIF, SHARIF) and U as OU (IOURI, YURI; OUSSAMA, USAMA);
    Polish, recognised by its CZ or SZ, writes CH as CZ, SH as SZ and V as W
    (WIACZESLAW, VYACHESLAV). Arabic's short U is written O or U, first letter included
    (OBAIDA, UBAYDA; OMAR, UMAR), and Й or Vietnamese Y as Y or I.
    """
    readings = {token}
    if "CH" in token:
        readings.add(token.replace("CH", "SH"))
    if "CZ" in token or "SZ" in token:
        readings.add(_polish_reading(token))
    if "OU" in token:
        readings.add(token.replace("OU", "U"))
    if token.startswith("O"):
        readings.add("U" + token[1:])
    readings.update({_y_for_i(reading) for reading in readings})
    return frozenset(readings)


def _polish_reading(token: str) -> str:
    for polish, english in _POLISH:
        token = token.replace(polish, english)
    return token


def _length_penalty(left: str, right: str) -> float:
    return LENGTH_PENALTY * max(0, abs(len(left) - len(right)) - 1)


def _vowel_variant(left: str, right: str) -> bool:
    """A short name written with another vowel: UWE, UWA; ALI, ALY (same length and consonants)."""
    return (
        len(left) == len(right) <= SHORT_NAME
        and left[0] == right[0]
        and _consonants(left) == _consonants(right)
    )


def _consonants(token: str) -> str:
    return "".join(char for char in token if char not in "AEIOU")


def _vowels(token: str) -> str:
    """The vowels of ``token`` in order: same skeleton and same vowels is one name (KIM, GIM)."""
    return "".join(char for char in token if char in "AEIOU")


def _penalised(left: str, right: str, similarity: float) -> tuple[float, str]:
    """Jaro-Winkler less the short-token and first-letter penalties, floored."""
    if min(len(left), len(right)) <= SHORT_TOKEN:
        similarity -= SHORT_PENALTY
    if left[0] != right[0]:
        similarity -= FIRST_LETTER_PENALTY
    similarity -= _length_penalty(left, right)
    return (similarity, "typo") if similarity >= TOKEN_FLOOR else (0.0, "")


def compare(screened: NameForm, listed: NameForm) -> NameComparison:
    """Score ``screened`` against ``listed`` (0 to 1) from the best one-to-one pairing."""
    if not screened.tokens or not listed.tokens:
        return NameComparison(0.0, ())
    pairs = _align(screened, listed)
    covered_screened = _coverage(screened, pairs, screened_side=True)
    covered_listed = _coverage(listed, pairs, screened_side=False)
    high, low = max(covered_screened, covered_listed), min(covered_screened, covered_listed)
    score = high ** (1 - LONGER_SIDE_EXPONENT) * low**LONGER_SIDE_EXPONENT
    if score > ONE_TOKEN_CAP and _one_distinctive_token(screened, listed, pairs):
        return NameComparison(ONE_TOKEN_CAP, pairs, capped=True)
    return NameComparison(score, pairs)


def _align(screened: NameForm, listed: NameForm) -> tuple[TokenPair, ...]:
    """The best one-to-one pairing; tokens left on both sides may pair as joined words."""
    singles = _single_pairs(screened, listed)
    chosen = _greedy(screened, singles)
    left_screened = len(screened.tokens) - sum(len(pair.screened) for pair in chosen)
    left_listed = len(listed.tokens) - sum(len(pair.listed) for pair in chosen)
    if left_screened and left_listed and _may_join(screened, listed, chosen):
        chosen = _greedy(screened, singles + _merged_pairs(screened, listed), fillers_last=True)
    return chosen


def _may_join(screened: NameForm, listed: NameForm, chosen: tuple[TokenPair, ...]) -> bool:
    """Whether tokens left unpaired could be a word written apart on one side.

    Two or more left on one side, or a single letter (the O of O SULLIVAN, OSULLIVAN).
    """
    paired = {i for pair in chosen for i in pair.screened}
    left = [token for i, token in enumerate(screened.tokens) if i not in paired]
    left_listed = len(listed.tokens) - sum(len(pair.listed) for pair in chosen)
    initials = any(pair.how == "initial" for pair in chosen)
    return max(len(left), left_listed) > 1 or initials or any(len(token) == 1 for token in left)


def _greedy(
    screened: NameForm, candidates: list[TokenPair], *, fillers_last: bool = False
) -> tuple[TokenPair, ...]:
    """One-to-one pairs chosen greedily from the most similar down."""

    def order(pair: TokenPair) -> tuple[float, float]:
        filler = fillers_last and all(_is_filler(screened.tokens[i]) for i in pair.screened)
        similarity = pair.similarity - (FILLER_ORDER_PENALTY if filler else 0.0)
        return similarity, _pair_weight(screened, pair)

    candidates.sort(key=order, reverse=True)
    used_screened: set[int] = set()
    used_listed: set[int] = set()
    chosen: list[TokenPair] = []
    for pair in candidates:
        if used_screened.isdisjoint(pair.screened) and used_listed.isdisjoint(pair.listed):
            chosen.append(pair)
            used_screened.update(pair.screened)
            used_listed.update(pair.listed)
    return tuple(chosen)


def _pair_weight(form: NameForm, pair: TokenPair) -> float:
    return sum(form.weights[index] for index in pair.screened)


def _single_pairs(screened: NameForm, listed: NameForm) -> list[TokenPair]:
    """Every token pair that counts; filler pairs with a name only when spelled the same."""
    pairs = []
    for i, left in enumerate(screened.tokens):
        for j, right in enumerate(listed.tokens):
            similarity, how = token_similarity(left, right)
            if similarity and (how == "exact" or _is_filler(left) == _is_filler(right)):
                pairs.append(TokenPair((i,), (j,), similarity, how))
    return pairs


def _is_filler(token: str) -> bool:
    """A generic business word, legal form or particle (BANK, LTD, AL): never like a name."""
    return token in GENERIC_WORDS or token in PARTICLES


def _merged_pairs(screened: NameForm, listed: NameForm) -> list[TokenPair]:
    """Two or three adjacent tokens of one name against one token of the other, as one word."""
    pairs = []
    for indices, joined, romanised in _spans(screened):
        for j, right in enumerate(listed.tokens):
            pairs.extend(_merged(indices, (j,), joined, right, romanised=right in romanised))
    for indices, joined, romanised in _spans(listed):
        for i, left in enumerate(screened.tokens):
            pairs.extend(_merged((i,), indices, left, joined, romanised=left in romanised))
    return pairs


def _spans(form: NameForm) -> list[tuple[tuple[int, ...], str, frozenset[str]]]:
    """Each run of two or three adjacent tokens: indices, joined, and its Pinyin spellings."""
    tokens = form.tokens
    return [
        (indices, "".join(tokens[index] for index in indices), _romanised(tokens, indices))
        for span in range(2, MAX_JOINED + 1)
        for indices in (tuple(range(i, i + span)) for i in range(len(tokens) - span + 1))
    ]


def _merged(
    screened: tuple[int, ...],
    listed: tuple[int, ...],
    left: str,
    right: str,
    *,
    romanised: bool,
) -> list[TokenPair]:
    """The merged pair when the joined spelling is close enough, or is its Pinyin reading."""
    similarity = 0.0
    if abs(len(left) - len(right)) <= 2:  # noqa: PLR2004
        similarity, _ = token_similarity(left, right)
    if similarity >= MERGED_FLOOR and (similarity >= ROMANISATION or not romanised):
        return [TokenPair(screened, listed, similarity, "joined")]
    if romanised:
        return [TokenPair(screened, listed, ROMANISATION, "romanisation")]
    return []


def _romanised(tokens: tuple[str, ...], indices: tuple[int, ...]) -> frozenset[str]:
    """Wade-Giles syllables written apart read as one Pinyin word (CHIH CHIANG: ZHIQIANG).

    Empty unless every token of the run is a syllable.
    """
    readings = [pinyin_readings(tokens[index]) for index in indices]
    if not all(readings):
        return frozenset()
    spellings = [""]
    for index, options in zip(indices, readings, strict=True):
        spellings = [head + tail for head in spellings for tail in {tokens[index], *options}]
    return frozenset(spellings)


def _coverage(form: NameForm, pairs: tuple[TokenPair, ...], *, screened_side: bool) -> float:
    """The share of ``form``'s weight that the pairs cover, each at its similarity."""
    total = sum(form.weights)
    covered = 0.0
    for pair in pairs:
        indices = pair.screened if screened_side else pair.listed
        covered += pair.similarity * sum(form.weights[index] for index in indices)
    return covered / total if total else 0.0


def _one_distinctive_token(
    screened: NameForm, listed: NameForm, pairs: tuple[TokenPair, ...]
) -> bool:
    """Only one distinctive token agrees while both names have more than one to offer."""
    needed = min(2, max(_distinctive(screened), _distinctive(listed)))
    agreed = sum(
        1 for pair in pairs if max(screened.weights[i] for i in pair.screened) >= DISTINCTIVE_WEIGHT
    )
    return agreed < needed


def _distinctive(form: NameForm) -> int:
    return sum(1 for weight in form.weights if weight >= DISTINCTIVE_WEIGHT)
