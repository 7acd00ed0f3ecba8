"""The fraud model at run time: a compact evaluator of a gradient-boosted forest.

The forest is trained by LightGBM (``training``) and exported to plain arrays per tree
(split feature, threshold, children, and the value of every node). Scoring walks one
path per tree in pure Python, with no per-call overhead of a native library, and
explains itself on the way: each split on the path moves the score from the parent's
value to the child's, and that move is credited to the split's feature (per-tree path
contributions). The shares plus the forest's bias add up to the raw score exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LEAF = -1


class ModelFormatError(ValueError):
    """A model document that is not a forest this evaluator reads."""


@dataclass(frozen=True, slots=True)
class Tree:
    """One tree as arrays: ``feature[n] == -1`` marks a leaf; every node has a value."""

    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], n_features: int) -> Tree:
        """A tree from its exported arrays, checked for shape and references."""
        try:
            tree = cls(
                tuple(int(v) for v in doc["feature"]),
                tuple(float(v) for v in doc["threshold"]),
                tuple(int(v) for v in doc["left"]),
                tuple(int(v) for v in doc["right"]),
                tuple(float(v) for v in doc["value"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(f"a tree is malformed ({exc})") from None
        tree.check(n_features)
        return tree

    def check(self, n_features: int) -> None:
        """Refuse arrays of different lengths, unknown features and children out of range."""
        size = len(self.feature)
        if not size or any(
            len(a) != size for a in (self.threshold, self.left, self.right, self.value)
        ):
            raise ModelFormatError("a tree's arrays differ in length")
        for node, feature in enumerate(self.feature):
            if feature == LEAF:
                continue
            if not 0 <= feature < n_features:
                raise ModelFormatError(f"a split reads feature {feature}, of {n_features}")
            if not (node < self.left[node] < size and node < self.right[node] < size):
                raise ModelFormatError("a split's children must follow it")

    def to_json(self) -> dict[str, list[float] | list[int]]:
        """The tree's arrays as JSON members."""
        return {
            "feature": list(self.feature),
            "threshold": list(self.threshold),
            "left": list(self.left),
            "right": list(self.right),
            "value": list(self.value),
        }


@dataclass(frozen=True, slots=True)
class Explained:
    """A probability, its raw (log-odds) score and each feature's share of it."""

    probability: float
    raw: float
    bias: float
    contributions: dict[int, float]

    def top(self, names: Sequence[str], count: int) -> list[tuple[str, float]]:
        """The ``count`` features that moved the score most, by absolute contribution."""
        ranked = sorted(self.contributions.items(), key=lambda item: -abs(item[1]))
        return [(names[index], round(value, 4)) for index, value in ranked[:count]]


class Forest:
    """A forest of trees over a fixed feature list: score and explain one vector."""

    def __init__(self, trees: Sequence[Tree], n_features: int) -> None:
        self.trees = tuple(trees)
        self.n_features = n_features
        self._flat = [(t.feature, t.threshold, t.left, t.right, t.value) for t in self.trees]
        self.bias = sum(tree.value[0] for tree in self.trees)

    def raw(self, x: Sequence[float]) -> float:
        """The raw score (log-odds) of ``x``."""
        total = 0.0
        for feature, threshold, left, right, value in self._flat:
            node = 0
            while feature[node] != LEAF:
                node = left[node] if x[feature[node]] <= threshold[node] else right[node]
            total += value[node]
        return total

    def explain(self, x: Sequence[float]) -> Explained:
        """The score of ``x`` and the contribution of each feature on its paths."""
        if len(x) != self.n_features:
            raise ValueError(f"expected {self.n_features} features, got {len(x)}")
        shares: dict[int, float] = {}
        total = 0.0
        for feature, threshold, left, right, value in self._flat:
            node = 0
            while (split := feature[node]) != LEAF:
                child = left[node] if x[split] <= threshold[node] else right[node]
                shares[split] = shares.get(split, 0.0) + value[child] - value[node]
                node = child
            total += value[node]
        return Explained(sigmoid(total), total, self.bias, shares)


def sigmoid(raw: float) -> float:
    """The logistic function, safe for large magnitudes."""
    if raw >= 0:
        return 1.0 / (1.0 + math.exp(-raw))
    exp = math.exp(raw)
    return exp / (1.0 + exp)
