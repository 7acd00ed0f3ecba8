"""Builds the fraud guard of a server: the registry's champion and challenger, the watcher."""

from __future__ import annotations

from pathlib import Path

import redis

from tradeguard.cases.store import AlertStore
from tradeguard.config import Settings
from tradeguard.crypto.keyring import DataClass, Keyring
from tradeguard.fraud.artifact import (
    CHALLENGER,
    CHAMPION,
    FraudModel,
    ModelRegistry,
    ModelRejectedError,
)
from tradeguard.fraud.catalog import FEATURE_NAMES
from tradeguard.fraud.context import Action
from tradeguard.fraud.decisions import FraudScorer, Thresholds
from tradeguard.fraud.geo import GeoLocator
from tradeguard.fraud.guard import FraudGuard
from tradeguard.fraud.hooks import identity_check
from tradeguard.fraud.locks import RedisLocks
from tradeguard.fraud.profiles import ProfileStore
from tradeguard.fraud.shared_profiles import RedisProfileStore
from tradeguard.fraud.watcher import FraudWatcher
from tradeguard.identity.kit import Identity
from tradeguard.logs import get_logger
from tradeguard.services import Services
from tradeguard.watch.service import WatchService

MODEL_KEY_LABEL = "tradeguard/fraud-model-signing/v1"
log = get_logger("tradeguard.fraud")


def model_key(keyring: Keyring) -> bytes:
    """The installation's model-signing key, derived from its keyring."""
    return keyring.blind_index(DataClass.PII, MODEL_KEY_LABEL)


def model_directory(settings: Settings) -> Path:
    """Where the model registry lives."""
    return settings.fraud_model_dir or settings.var_dir / "fraud-models"


def action_thresholds(settings: Settings) -> dict[Action, Thresholds]:
    """The per-action thresholds of ``fraud_action_thresholds`` (ValueError if malformed)."""
    found = {}
    for text in settings.fraud_action_thresholds:
        action, step_up, block = text.split(":")
        found[Action(action)] = Thresholds(float(step_up), float(block))
    return found


def load_role(registry: ModelRegistry, role: str) -> FraudModel | None:
    """The model named ``role``, or None (absent, or refused: logged)."""
    version = registry.named(role)
    if version is None:
        return None
    try:
        return registry.load(version, FEATURE_NAMES)
    except ModelRejectedError as exc:
        log.warning("fraud.model_refused", role=role, version=version, reason=str(exc))
        return None


def build_fraud(
    services: Services,
    watchers: WatchService,
    alerts: AlertStore,
    identity: Identity,
    shared: redis.Redis | None,
) -> FraudGuard:
    """The guard (champion and challenger loaded on first use), its watcher and sign-in check.

    With Redis the profiles live there, read by every process; else in this process.
    """
    settings = services.settings
    geo = GeoLocator.configured(settings.fraud_geo_networks, settings.fraud_geoip_database)
    in_redis = None if shared is None else RedisProfileStore(shared, settings.redis_key_prefix)
    scorer = FraudScorer(
        in_redis or ProfileStore(),
        thresholds=action_thresholds(settings),
        default=Thresholds(settings.fraud_step_up_threshold, settings.fraud_block_threshold),
    )
    guard = FraudGuard(scorer, geo, services.audit, alerts, services.clock, services.sessions)
    if shared is not None:
        guard.locks = RedisLocks(shared, settings.redis_key_prefix)
    guard.enabled = settings.fraud_enabled
    guard.step_up_seconds = settings.step_up_seconds

    def build() -> FraudWatcher:
        if in_redis is None:
            scorer.profiles = ProfileStore()  # rebuilt from the warm-up history
        return FraudWatcher(scorer.profiles, geo)

    watchers.register(build)
    identity.risk_checks.subscribe(identity_check(guard))
    guard.loader = lambda: load_models(guard, services)
    guard.reloader = lambda: load_models(guard, services)
    return guard


def load_models(guard: FraudGuard, services: Services) -> None:
    """Load the champion and challenger named in the registry.

    A refused file (bad signature, other features) is not used: the model loaded before
    it stays, and with none, decisions fail closed. The keyring must be loaded (else this
    raises, and the guard fails closed until a later load succeeds).
    """
    key = model_key(services.crypto.keyring)
    registry = ModelRegistry(model_directory(services.settings), key)
    scorer = guard.scorer
    scorer.champion_expected = registry.named(CHAMPION) is not None
    scorer.champion = _kept(registry, CHAMPION, scorer.champion)
    scorer.challenger = _kept(registry, CHALLENGER, scorer.challenger)


def _kept(registry: ModelRegistry, role: str, before: FraudModel | None) -> FraudModel | None:
    if registry.named(role) is None:
        return None
    return load_role(registry, role) or before
