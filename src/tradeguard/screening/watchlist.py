"""A loaded list in memory: its entries, every name prepared, and the index that finds candidates.

Screening one name never scans the list. Each listed name is indexed under keys of
its tokens (the token, the token less one letter for typos, its skeleton for
transliterations, and two adjacent tokens written as one); a screened name looks up
the keys of its own tokens, ranks the names found by the weight of the tokens that
found them (ties broken by the whole name's spelling) and compares only the best
``CANDIDATES`` in full.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import operator
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz, process

from tradeguard.screening.birth_dates import BirthSpan
from tradeguard.screening.name_match import DISTINCTIVE_WEIGHT, NameForm, prepare
from tradeguard.screening.names import name_tokens, skeleton
from tradeguard.screening.token_weights import TokenWeights

CANDIDATES = 24
SHORTLIST = 400
"""How many names found by key weight are ranked by spelling before ``CANDIDATES`` remain."""
"""How many of the names the index finds are compared in full."""
_MIN_DELETION_KEY = 4
EXACT_KEY = 1.0
DELETION_KEY = 0.9
SKELETON_KEY = 0.8


class EntryKind(StrEnum):
    """What a list entry is (OFAC's ``SDN_Type``; empty means an entity)."""

    INDIVIDUAL = "individual"
    ENTITY = "entity"
    VESSEL = "vessel"
    AIRCRAFT = "aircraft"


class NameKind(StrEnum):
    """Where a listed name comes from: the entry's name or one of its aliases."""

    PRIMARY = "primary"
    AKA = "aka"
    FKA = "fka"
    NKA = "nka"
    WEAK = "weak aka"


@dataclass(frozen=True, slots=True)
class ListedName:
    """One name an entry is listed under."""

    text: str
    kind: NameKind


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One entry of a list with what screening compares: names, births, countries."""

    ent_num: str
    kind: EntryKind
    names: tuple[ListedName, ...]
    programs: str = ""
    births: tuple[BirthSpan, ...] = ()
    country_tokens: tuple[str, ...] = ()
    """Name tokens of everything on the entry that names a country (addresses, remarks)."""

    def digest(self) -> str:
        """A fingerprint of what screening reads of the entry: a change makes another one."""
        facts = (self.ent_num, self.kind, self.names, self.programs, self.births)
        return hashlib.sha256(repr((*facts, self.country_tokens)).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class IndexedName:
    """A listed name prepared for comparison, with its entry."""

    entry: ListEntry
    name: ListedName
    form: NameForm


class Watchlist:
    """The entries of one list version, indexed for screening."""

    def __init__(self, list_name: str, version: str, entries: Iterable[ListEntry]) -> None:
        self.list_name = list_name
        self.version = version
        self.entries = tuple(entries)
        self.weights = TokenWeights(name_tokens(name.text) for name in self._all_names())
        self.names = [
            IndexedName(entry, name, prepare(name.text, self.weights.weigh))
            for entry in self.entries
            for name in entry.names
        ]
        self._sorted_text = [" ".join(sorted(name.form.tokens)) for name in self.names]
        self._index: dict[str, list[int]] = defaultdict(list)
        for position, indexed in enumerate(self.names):
            for key in index_keys(indexed.form):
                self._index[key].append(position)

    def _all_names(self) -> Iterator[ListedName]:
        for entry in self.entries:
            yield from entry.names

    def candidates(self, screened: NameForm) -> list[IndexedName]:
        """The listed names most worth comparing with ``screened``, best first.

        Each screened token adds its weight times the quality of its best key that finds
        a name (the token itself 1.0, a spelling one letter away 0.9, its skeleton 0.8).
        """
        found: dict[int, float] = defaultdict(float)
        for keys, weight in token_key_groups(screened):
            for position, quality in self._hits(keys).items():
                found[position] += weight * quality
        found_most = heapq.nlargest(SHORTLIST, found.items(), key=operator.itemgetter(1))
        return self._closest(screened, found_most)

    def _closest(self, screened: NameForm, found: list[tuple[int, float]]) -> list[IndexedName]:
        """The ``CANDIDATES`` best of ``found`` by key weight plus spelling closeness.

        Many names tie on key weight when a common token or a short skeleton finds them;
        the whole name's closeness (token-sorted, 0 to 1) breaks the tie.
        """
        if len(found) <= CANDIDATES:
            return [self.names[position] for position, _ in found]
        text = " ".join(sorted(screened.tokens))
        choices = [self._sorted_text[position] for position, _ in found]
        closeness = [0.0] * len(choices)
        for _, score, index in process.extract(text, choices, scorer=fuzz.ratio, limit=None):
            closeness[index] = score
        ranked = sorted(
            range(len(found)), key=lambda i: found[i][1] + closeness[i] / 100, reverse=True
        )
        return [self.names[found[i][0]] for i in ranked[:CANDIDATES]]

    def _hits(self, keys: list[tuple[str, float]]) -> dict[int, float]:
        """Each name one token's keys find, with the quality of the best key that finds it."""
        hits: dict[int, float] = {}
        for key, quality in keys:
            for position in self._index.get(key, ()):
                if hits.get(position, 0.0) < quality:
                    hits[position] = quality
        return hits


def index_keys(form: NameForm) -> set[str]:
    """The keys a name is found under; filler tokens only when nothing else is left."""
    return {key for keys, _ in token_key_groups(form) for key, _ in keys}


def token_key_groups(form: NameForm) -> list[tuple[list[tuple[str, float]], float]]:
    """The keys of each indexed token (and of each adjacent pair written as one), weighed."""
    indexed = _indexed_tokens(form)
    groups = [(_keys(token), weight) for token, weight in indexed]
    for (left, left_weight), (right, right_weight) in itertools.pairwise(indexed):
        joined = [(f"~{skeleton(left + right)}", SKELETON_KEY)]
        groups.append((joined, min(left_weight, right_weight)))
    return groups


def _indexed_tokens(form: NameForm) -> list[tuple[str, float]]:
    """Tokens that may find a candidate: distinctive ones, or all when there are none."""
    pairs = list(zip(form.tokens, form.weights, strict=True))
    distinctive = [(token, weight) for token, weight in pairs if weight >= DISTINCTIVE_WEIGHT]
    return distinctive or pairs


def _keys(token: str) -> list[tuple[str, float]]:
    """The token itself, the token less each one letter, and its skeleton.

    The token and its one-letter deletions share one key space, so a typo that adds,
    drops, doubles or replaces a letter on either side still meets the other's spelling;
    the skeleton finds transliterations.
    """
    if token.isdigit():
        return [(f"={token}", EXACT_KEY)]
    keys = [(f"={token}", EXACT_KEY), (f"~{skeleton(token)}", SKELETON_KEY)]
    if len(token) >= _MIN_DELETION_KEY:
        keys.append((f"#{token}", DELETION_KEY))
        keys.extend(
            (f"#{token[:index]}{token[index + 1 :]}", DELETION_KEY) for index in range(len(token))
        )
    return keys
