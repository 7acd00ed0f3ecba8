"""Training: LightGBM on labelled decision points, exported to the compact forest.

Labelled history is a JSONL file, one decision point a line:
``{"features": {"<name>": <number>, ...}, "label": 0 or 1}`` (a missing feature is 0;
label 1 is a case decided as fraud, 0 one decided legitimate). Without history, the
synthetic generator (``synthetic``) supplies the rows. Metrics are computed on a held-out
part: ROC AUC, recall at the review capacity (the share of decisions staff can review)
and the baseline's (a single rule: new device or new country) for comparison.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradeguard.fraud.catalog import FEATURE_NAMES
from tradeguard.fraud.model import LEAF, Forest, Tree

MIN_LEAF = 20


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    """LightGBM's parameters that matter here."""

    trees: int = 120
    leaves: int = 15
    learning_rate: float = 0.08
    seed: int = 7


@dataclass(frozen=True, slots=True)
class Trained:
    """A trained forest with its data digest and metrics."""

    trees: list[Tree]
    data_sha256: str
    metrics: dict[str, float]
    rows: int
    positives: int


def read_history(path: Path) -> list[tuple[list[float], int]]:
    """The labelled rows of a history file (ValueError naming the bad line)."""
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                rows.append(_row(line, number))
    return rows


def _row(line: str, number: int) -> tuple[list[float], int]:
    try:
        doc = json.loads(line)
        values: Mapping[str, Any] = doc["features"]
        label = int(doc["label"])
        row = [float(values.get(name, 0.0)) for name in FEATURE_NAMES]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"line {number}: {exc}") from None
    unknown = set(values) - set(FEATURE_NAMES)
    if unknown or label not in {0, 1}:
        raise ValueError(f"line {number}: unknown features {sorted(unknown)} or label {label}")
    return row, label


def data_digest(rows: Iterable[tuple[Sequence[float], int]]) -> str:
    """sha256 of the rows as canonical JSON lines (what the model was trained on)."""
    digest = hashlib.sha256()
    for features, label in rows:
        digest.update(json.dumps([list(features), label], separators=(",", ":")).encode())
    return digest.hexdigest()


def train(
    rows: Sequence[tuple[list[float], int]],
    held_out: Sequence[tuple[list[float], int]],
    config: TrainingConfig,
    review_rate: float,
) -> Trained:
    """Train on ``rows``; the metrics come from ``held_out``."""
    import lightgbm  # noqa: PLC0415 - training only: serving never loads it
    import numpy as np  # noqa: PLC0415

    x = np.asarray([features for features, _ in rows], dtype=np.float64)
    y = np.asarray([label for _, label in rows], dtype=np.int32)
    params = {
        "objective": "binary",
        "num_leaves": config.leaves,
        "learning_rate": config.learning_rate,
        "min_data_in_leaf": MIN_LEAF,
        "seed": config.seed,
        "deterministic": True,
        "num_threads": 1,
        "verbose": -1,
    }
    dataset = lightgbm.Dataset(x, y, feature_name=list(FEATURE_NAMES), free_raw_data=True)
    booster = lightgbm.train(params, dataset, num_boost_round=config.trees)
    trees = [export_tree(info["tree_structure"]) for info in booster.dump_model()["tree_info"]]
    forest = Forest(trees, len(FEATURE_NAMES))
    metrics = evaluate(forest, held_out, review_rate)
    positives = int(y.sum())
    return Trained(trees, data_digest(rows), metrics, len(rows), positives)


def export_tree(root: Mapping[str, Any]) -> Tree:
    """A LightGBM tree structure as arrays in pre-order (children after their parent)."""
    arrays: dict[str, list[Any]] = {
        k: [] for k in ("feature", "threshold", "left", "right", "value")
    }

    def visit(node: Mapping[str, Any]) -> int:
        index = len(arrays["feature"])
        leaf = "leaf_value" in node
        arrays["feature"].append(LEAF if leaf else int(node["split_feature"]))
        arrays["threshold"].append(0.0 if leaf else float(node["threshold"]))
        arrays["value"].append(float(node["leaf_value"] if leaf else node["internal_value"]))
        arrays["left"].append(0)
        arrays["right"].append(0)
        if not leaf:
            if node.get("decision_type", "<=") != "<=":
                raise ValueError("only numeric splits are exported")
            arrays["left"][index] = visit(node["left_child"])
            arrays["right"][index] = visit(node["right_child"])
        return index

    visit(root)
    return Tree(
        tuple(arrays["feature"]),
        tuple(arrays["threshold"]),
        tuple(arrays["left"]),
        tuple(arrays["right"]),
        tuple(arrays["value"]),
    )


def evaluate(
    forest: Forest, rows: Sequence[tuple[list[float], int]], review_rate: float
) -> dict[str, float]:
    """ROC AUC and recall at the review rate of the forest and of the baseline rule."""
    labels = [label for _, label in rows]
    scores = [forest.raw(features) for features, _ in rows]
    new_device = FEATURE_NAMES.index("device_is_new")
    new_country = FEATURE_NAMES.index("country_is_new")
    baseline = [f[new_device] + f[new_country] for f, _ in rows]
    return {
        "roc_auc": round(roc_auc(scores, labels), 4),
        "recall_at_review_rate": round(recall_at(scores, labels, review_rate), 4),
        "baseline_roc_auc": round(roc_auc(baseline, labels), 4),
        "baseline_recall_at_review_rate": round(recall_at(baseline, labels, review_rate), 4),
        "review_rate": review_rate,
        "held_out_rows": float(len(rows)),
    }


def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """The area under the ROC curve (ties count half), by ranks."""
    ranked = sorted(zip(scores, labels, strict=True), key=lambda item: item[0])
    rank_sum, index = 0.0, 0
    while index < len(ranked):
        end = index
        while end < len(ranked) and ranked[end][0] == ranked[index][0]:
            end += 1
        mean_rank = (index + 1 + end) / 2
        rank_sum += mean_rank * sum(label for _, label in ranked[index:end])
        index = end
    positives = sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return 0.5
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def recall_at(scores: Sequence[float], labels: Sequence[int], rate: float) -> float:
    """Share of the positives among the top ``rate`` of the scores."""
    positives = sum(labels)
    if not positives:
        return 0.0
    top = max(int(len(scores) * rate), 1)
    ranked = sorted(zip(scores, labels, strict=True), key=lambda item: -item[0])
    return sum(label for _, label in ranked[:top]) / positives


def new_version(now_ns: int) -> str:
    """A model version from the time of training (sortable)."""
    return time.strftime("m%Y%m%dT%H%M%S", time.gmtime(now_ns / 1e9))
