"""Training runs and promotions of the model registry, each audited.

``train_model`` trains on labelled history (or, without it, on the synthetic generator),
stores the signed file and makes it the champion when there is none, the challenger
otherwise. ``promote`` makes a stored version the champion (its signature checked first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.fraud.artifact import CHALLENGER, CHAMPION, ModelRegistry, model_document
from tradeguard.fraud.catalog import FEATURE_NAMES
from tradeguard.fraud.drift import profile
from tradeguard.fraud.synthetic import generate
from tradeguard.fraud.training import Trained, TrainingConfig, train

Rows = Sequence[tuple[list[float], int]]


@dataclass(frozen=True, slots=True)
class TrainingRun:
    """Where the rows come from and how to train."""

    source: str
    rows: Rows
    held_out: Rows
    config: TrainingConfig
    review_rate: float


def synthetic_run(
    seed: int, customers: int, config: TrainingConfig, review_rate: float
) -> TrainingRun:
    """A run on the generator (SYNTHETIC): ``seed`` to train, ``seed + 1`` held out."""
    rows = [(s.features, s.label) for s in generate(seed, customers)]
    held = [(s.features, s.label) for s in generate(seed + 1, max(customers // 2, 1))]
    return TrainingRun(
        f"synthetic:seed={seed}:customers={customers}", rows, held, config, review_rate
    )


def train_model(
    db: Session, audit: AuditTrail, registry: ModelRegistry, run: TrainingRun, version: str
) -> tuple[str, Trained]:
    """Train, store signed, name champion or challenger; the role given and the result."""
    trained = train(run.rows, run.held_out, run.config, run.review_rate)
    metadata = {
        "source": run.source,
        "data_sha256": trained.data_sha256,
        "rows": trained.rows,
        "positives": trained.positives,
        "metrics": trained.metrics,
        "trees": len(trained.trees),
        "drift": profile([f for f, label in run.rows if label == 0], FEATURE_NAMES),
    }
    registry.store(version, model_document(version, trained.trees, FEATURE_NAMES, metadata))
    role = CHALLENGER if registry.named(CHAMPION) else CHAMPION
    registry.name(role, version)
    facts = {
        "version": version,
        "role": role,
        "source": run.source,
        "data_sha256": trained.data_sha256,
        "rows": trained.rows,
        "positives": trained.positives,
        "metrics": {name: f"{value:.4f}" for name, value in trained.metrics.items()},
    }
    audit.record(db, "fraud.model.trained", Actor.system("fraud"), subject=version, data=facts)
    return role, trained


def promote(
    db: Session, audit: AuditTrail, registry: ModelRegistry, version: str, actor: Actor
) -> None:
    """Make ``version`` the champion (its file verified first); audited with the one before."""
    registry.load(version, FEATURE_NAMES)
    before = registry.named(CHAMPION)
    registry.name(CHAMPION, version)
    if registry.named(CHALLENGER) == version:
        registry.name(CHALLENGER, None)
    facts = {"before": before, "after": version}
    audit.record(db, "fraud.model.promoted", actor, subject=version, data=facts)
