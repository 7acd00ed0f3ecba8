"""Feature drift against the training data: bins fixed at training, PSI per feature.

At training each feature's values are cut into at most ``BINS`` bins at their deciles
(``profile``), and the share of the training rows in each bin is kept in the model's
metadata (``drift``). Each recorded decision carries the bin of every feature it was
decided on as one character per feature (``codes``: 133 characters, not the values),
so ``tradeguard fraud report`` counts the bins of the decisions since and compares them
with training by the population stability index, ``sum((a - e) * ln(a / e))`` over the
bins (a share of zero counts as ``FLOOR``). The usual reading: below 0.1 stable, 0.1 to
0.25 moderate, above 0.25 a shift to look at.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

BINS = 10
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
FLOOR = 1e-4
MODERATE, MAJOR = 0.1, 0.25


@dataclass(frozen=True, slots=True)
class FeatureBins:
    """One feature's bin edges (a value ``<= edges[i]`` is in bin ``i``) and training shares."""

    edges: tuple[float, ...]
    shares: tuple[float, ...]

    def bin_of(self, value: float) -> int:
        """The bin ``value`` falls in."""
        return bisect.bisect_left(self.edges, value)


def profile(rows: Sequence[Sequence[float]], names: Sequence[str]) -> dict[str, Any]:
    """Each feature's bins at its training deciles and the share of rows in each (metadata)."""
    found: dict[str, Any] = {}
    for column, name in enumerate(names):
        values = sorted(row[column] for row in rows)
        edges = _edges(values)
        counts = [0] * (len(edges) + 1)
        for value in values:
            counts[bisect.bisect_left(edges, value)] += 1
        total = max(len(values), 1)
        found[name] = {"edges": edges, "shares": [round(c / total, 6) for c in counts]}
    return found


def _edges(values: Sequence[float]) -> list[float]:
    """Distinct decile cut points (a constant feature has none: one bin)."""
    if not values:
        return []
    cuts = {values[min(len(values) * k // BINS, len(values) - 1)] for k in range(1, BINS)}
    return sorted(cut for cut in cuts if cut < values[-1])


def bins_of(metadata: Mapping[str, Any], names: Sequence[str]) -> list[FeatureBins] | None:
    """The model's bins per feature, in feature order; None for a model trained without."""
    drift = metadata.get("drift")
    if not isinstance(drift, Mapping) or any(name not in drift for name in names):
        return None
    return [FeatureBins(tuple(drift[n]["edges"]), tuple(drift[n]["shares"])) for n in names]


def codes(bins: Sequence[FeatureBins], values: Sequence[float]) -> str:
    """One character per feature: the bin its value falls in."""
    return "".join(DIGITS[b.bin_of(v)] for b, v in zip(bins, values, strict=True))


def psi(expected: Sequence[float], counts: Sequence[int]) -> float:
    """The population stability index of ``counts`` against the ``expected`` shares."""
    total = sum(counts)
    if total == 0:
        return 0.0
    index = 0.0
    for share, count in zip(expected, counts, strict=True):
        e, a = max(share, FLOOR), max(count / total, FLOOR)
        index += (a - e) * math.log(a / e)
    return index


def drift(
    bins: Sequence[FeatureBins], names: Sequence[str], recorded: Iterable[str]
) -> tuple[int, list[tuple[str, float]]]:
    """How many recorded decisions were read, and each feature's PSI, largest first."""
    counts = [[0] * len(b.shares) for b in bins]
    seen = 0
    for text in recorded:
        if len(text) != len(bins):
            continue  # recorded under another feature list
        seen += 1
        for column, char in enumerate(text):
            slot = DIGITS.find(char)
            if 0 <= slot < len(counts[column]):
                counts[column][slot] += 1
    scored = [(n, psi(b.shares, c)) for n, b, c in zip(names, bins, counts, strict=True)]
    return seen, sorted(scored, key=lambda item: item[1], reverse=True)


def level(index: float) -> str:
    """The usual reading of a PSI."""
    if index >= MAJOR:
        return "shifted"
    return "moderate" if index >= MODERATE else "stable"
