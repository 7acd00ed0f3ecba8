"""The model: trained on the synthetic generator it beats the baseline; tampering is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from tradeguard.crypto.keyring import KeyringError
from tradeguard.fraud.artifact import ModelRegistry, ModelRejectedError, model_document
from tradeguard.fraud.catalog import FEATURE_NAMES
from tradeguard.fraud.context import Action, DecisionContext
from tradeguard.fraud.decisions import FraudScorer, Outcome
from tradeguard.fraud.geo import GeoLocator
from tradeguard.fraud.guard import FraudGuard
from tradeguard.fraud.locks import Locks, RedisLocks
from tradeguard.fraud.profiles import ProfileStore
from tradeguard.fraud.shared_profiles import RedisProfileStore
from tradeguard.fraud.synthetic import generate
from tradeguard.fraud.training import Trained, TrainingConfig, roc_auc, train

KEY = b"k" * 32


@pytest.fixture(scope="module")
def trained() -> Trained:
    rows = [(s.features, s.label) for s in generate(11, 250, fraud_share=0.2)]
    held = [(s.features, s.label) for s in generate(12, 150, fraud_share=0.2)]
    return train(rows, held, TrainingConfig(trees=40), review_rate=0.01)


def test_train_when_synthetic_then_beats_the_new_device_baseline(trained: Trained) -> None:
    metrics = trained.metrics
    assert metrics["roc_auc"] > metrics["baseline_roc_auc"] + 0.2
    assert metrics["recall_at_review_rate"] > metrics["baseline_recall_at_review_rate"]


def test_explain_when_scored_then_contributions_add_up_to_the_raw_score(
    trained: Trained, tmp_path: Path
) -> None:
    registry = ModelRegistry(tmp_path, KEY)
    registry.store("v1", model_document("v1", trained.trees, FEATURE_NAMES, {}))
    model = registry.load("v1", FEATURE_NAMES)
    x = generate(13, 3)[-1].features
    explained = model.forest.explain(x)
    assert explained.bias + sum(explained.contributions.values()) == pytest.approx(explained.raw)
    assert model.forest.raw(x) == pytest.approx(explained.raw)


def test_load_when_file_tampered_then_refused(trained: Trained, tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path, KEY)
    path = registry.store("v1", model_document("v1", trained.trees, FEATURE_NAMES, {}))
    content = path.read_bytes()
    path.write_bytes(content.replace(b'"value":[', b'"value":[9,', 1))
    with pytest.raises(ModelRejectedError, match="signature"):
        registry.load("v1", FEATURE_NAMES)


def test_load_when_signed_with_another_key_then_refused(trained: Trained, tmp_path: Path) -> None:
    ModelRegistry(tmp_path, b"other").store(
        "v1", model_document("v1", trained.trees, FEATURE_NAMES, {})
    )
    with pytest.raises(ModelRejectedError):
        ModelRegistry(tmp_path, KEY).load("v1", FEATURE_NAMES)


def test_load_when_version_is_a_path_then_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelRejectedError):
        ModelRegistry(tmp_path, KEY).load("../v1", FEATURE_NAMES)


def test_roc_auc_when_ties_then_half_credit() -> None:
    assert roc_auc([1.0, 1.0], [0, 1]) == 0.5
    assert roc_auc([0.1, 0.9], [0, 1]) == 1.0


def test_decide_when_champion_and_challenger_then_reasons_and_shadow_score(
    trained: Trained, tmp_path: Path
) -> None:
    registry = ModelRegistry(tmp_path, KEY)
    registry.store("v1", model_document("v1", trained.trees, FEATURE_NAMES, {}))
    registry.store("v2", model_document("v2", trained.trees[:10], FEATURE_NAMES, {}))
    scorer = FraudScorer(
        ProfileStore(),
        champion=registry.load("v1", FEATURE_NAMES),
        challenger=registry.load("v2", FEATURE_NAMES),
    )
    decision = scorer.decide(Action.WITHDRAWAL, DecisionContext("u1", 10**18, amount_cents=10**7))
    assert decision.model_version == "v1"
    assert len(decision.reasons) == 5
    assert all(name in FEATURE_NAMES for name, _ in decision.reasons)
    assert decision.challenger is not None
    assert decision.challenger[0] == "v2"


def test_decide_when_a_named_champion_is_not_loaded_then_fails_closed() -> None:
    scorer = FraudScorer(ProfileStore(), champion_expected=True)
    context = DecisionContext("u1", 10**18, amount_cents=10**4)
    withdrawal = scorer.decide(Action.WITHDRAWAL, context)
    assert (withdrawal.outcome, withdrawal.model_version) == (Outcome.BLOCK, "scoring-failed")
    assert scorer.decide(Action.ORDER, context).outcome is Outcome.STEP_UP


def test_guard_when_the_models_cannot_be_loaded_then_fails_closed_and_tries_again() -> None:
    attempts: list[int] = []

    scorer = FraudScorer(ProfileStore())

    def load() -> None:  # as load_models: the first fails, the second finds no champion named
        attempts.append(1)
        if len(attempts) == 1:
            raise KeyringError("the keyring is not loaded yet")
        scorer.champion_expected = False

    guard = FraudGuard(scorer, GeoLocator(), *(None,) * 4)  # type: ignore[arg-type] # unused here
    guard.loader = load
    context = DecisionContext("u1", 10**18, amount_cents=10**4)
    assert guard.decide(Action.WITHDRAWAL, context).outcome is Outcome.BLOCK
    assert guard.decide(Action.WITHDRAWAL, context).model_version != "scoring-failed"
    assert len(attempts) == 2


def test_guard_decides_in_memory_only_with_its_models_loaded_and_nothing_in_redis() -> None:
    """What lets the order route score on the event loop instead of a thread."""
    unused = redis.Redis(host="127.0.0.1", port=1)  # never connected: only its kind matters
    scorer = FraudScorer(ProfileStore())
    guard = FraudGuard(scorer, GeoLocator(), *(None,) * 4)  # type: ignore[arg-type] # unused here
    assert guard.decides_in_memory

    guard.loader = lambda: None
    assert not guard.decides_in_memory  # the first decision loads the models from disk
    guard.decide(Action.ORDER, DecisionContext("u1", 10**18, amount_cents=10**4))
    assert guard.decides_in_memory

    guard.locks = RedisLocks(unused, "tg:")
    assert not guard.decides_in_memory
    guard.locks = Locks()
    guard.scorer.profiles = RedisProfileStore(unused, "tg:")
    assert not guard.decides_in_memory
