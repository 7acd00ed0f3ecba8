"""A loaded list in memory: its entries, every name prepared, and the index that finds candidates.

Screening one name never scans the list. Each listed name is indexed under keys of
its tokens (the token, its skeleton, the skeleton less one letter for typos, and two
adjacent tokens written as one); a screened name looks up the keys of its own
tokens, ranks the names found by the weight of the tokens that found them and
compares only the best ``CANDIDATES`` in full.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from tradeguard.screening.birth_dates import BirthSpan
from tradeguard.screening.name_match import DISTINCTIVE_WEIGHT, NameForm, prepare
from tradeguard.screening.names import name_tokens, skeleton
from tradeguard.screening.token_weights import TokenWeights

CANDIDATES = 48
"""How many of the names the index finds are compared in full."""
_MIN_DELETION_KEY = 3


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
        self._index: dict[str, list[int]] = defaultdict(list)
        for position, indexed in enumerate(self.names):
            for key in index_keys(indexed.form):
                self._index[key].append(position)

    def _all_names(self) -> Iterator[ListedName]:
        for entry in self.entries:
            yield from entry.names

    def candidates(self, screened: NameForm) -> list[IndexedName]:
        """The listed names most worth comparing with ``screened``, best first."""
        found: dict[int, float] = defaultdict(float)
        for keys, weight in token_key_groups(screened):
            hit: set[int] = set()
            for key in keys:
                hit.update(self._index.get(key, ()))
            for position in hit:
                found[position] += weight
        best = sorted(found, key=found.__getitem__, reverse=True)[:CANDIDATES]
        return [self.names[position] for position in best]


def index_keys(form: NameForm) -> set[str]:
    """The keys a name is found under; filler tokens only when nothing else is left."""
    return {key for keys, _ in token_key_groups(form) for key in keys}


def token_key_groups(form: NameForm) -> list[tuple[set[str], float]]:
    """The keys of each indexed token (and of each adjacent pair written as one), weighed."""
    indexed = _indexed_tokens(form)
    groups = [(_keys(token), weight) for token, weight in indexed]
    for (left, left_weight), (right, right_weight) in itertools.pairwise(indexed):
        groups.append(({f"~{skeleton(left + right)}"}, min(left_weight, right_weight)))
    return groups


def _indexed_tokens(form: NameForm) -> list[tuple[str, float]]:
    """Tokens that may find a candidate: distinctive ones, or all when there are none."""
    pairs = list(zip(form.tokens, form.weights, strict=True))
    distinctive = [(token, weight) for token, weight in pairs if weight >= DISTINCTIVE_WEIGHT]
    return distinctive or pairs


def _keys(token: str) -> set[str]:
    """The token itself, its skeleton and, when long enough, the skeleton less each letter.

    Skeletons and their deletions share one key space, so a typo that adds or drops a
    sound on either side still meets the other's skeleton.
    """
    if token.isdigit():
        return {f"={token}"}
    key = skeleton(token)
    keys = {f"={token}", f"~{key}"}
    if len(key) >= _MIN_DELETION_KEY:
        keys.update(f"~{key[:index]}{key[index + 1 :]}" for index in range(len(key)))
    return keys
