"""How much each token of a name weighs: rare names much, common names less, filler little.

The weight of a name token grows with its rarity on the loaded list (inverse document
frequency over the list's names; a list is taken to hold at least ``ASSUMED_NAMES``
names so a small list does not make every token look common). Generic business
words and legal forms, particles (al-, bin, van, de), initials and East Slavic patronymics
weigh a fixed little.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from tradeguard.screening.vocabulary import GENERIC_WORDS, PARTICLES

ASSUMED_NAMES = 10_000
GENERIC_WEIGHT = 0.15
PARTICLE_WEIGHT = 0.15
INITIAL_WEIGHT = 0.25
PATRONYMIC_WEIGHT = 0.3
PATRONYMIC_ENDINGS = ("OVICH", "EVICH", "YEVICH", "OVNA", "EVNA", "ICHNA", "INICHNA")
"""East Slavic patronymics: often left out of a name as written abroad, like a middle name."""
FLOOR = 0.4
RARE_IDF = math.log(1000)
"""A token on one name in a thousand or rarer weighs the full 1.0."""


class TokenWeights:
    """Token weights from the document frequency of tokens over a list's names."""

    def __init__(self, names: Iterable[tuple[str, ...]]) -> None:
        self._frequency: Counter[str] = Counter()
        count = 0
        for tokens in names:
            self._frequency.update(set(tokens))
            count += 1
        self._names = max(count, ASSUMED_NAMES)

    def weigh(self, token: str) -> float:
        """The weight of ``token`` (0.15 to 1.0)."""
        if token in GENERIC_WORDS:
            return GENERIC_WEIGHT
        if token in PARTICLES:
            return PARTICLE_WEIGHT
        if len(token) == 1:
            return INITIAL_WEIGHT
        if token.endswith(PATRONYMIC_ENDINGS):
            return PATRONYMIC_WEIGHT
        idf = math.log((self._names + 1) / (self._frequency[token] + 1))
        return FLOOR + (1 - FLOOR) * min(1.0, idf / RARE_IDF)
