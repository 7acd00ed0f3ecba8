"""The decision points' effects: audit every decision, open a review on a block, lock.

``FraudGuard.check`` asks the scorer, records ``fraud.decision`` (score, model version,
reasons, rules) in the audit trail, and for a block raises a fraud alert into the shared
case queue and locks the customer's risky actions for ``LOCK_MINUTES`` (every decision
in that time is a block with the rule ``locked``). ``screen`` turns a decision into the
caller's answer: a step-up the session already passed lets it through, otherwise 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.cases.store import AlertStore
from tradeguard.core.clock import Clock
from tradeguard.db.session import transaction
from tradeguard.fraud.artifact import FraudModel
from tradeguard.fraud.catalog import FEATURE_NAMES
from tradeguard.fraud.context import Action, DecisionContext
from tradeguard.fraud.decisions import FraudDecision, FraudScorer, Outcome
from tradeguard.fraud.drift import codes
from tradeguard.fraud.geo import GeoLocator
from tradeguard.fraud.locks import Locks
from tradeguard.fraud.problems import fraud_blocked, fraud_step_up
from tradeguard.fraud.profiles import NS
from tradeguard.logs import get_logger

LOCK_MINUTES = 30
SOURCE = "fraud"

log = get_logger("tradeguard.fraud")


@dataclass
class FraudGuard:
    """The scorer with its audit trail, alert store and temporary locks."""

    scorer: FraudScorer
    geo: GeoLocator
    audit: AuditTrail
    alerts: AlertStore
    clock: Clock
    sessions: sessionmaker[Session]
    enabled: bool = True
    step_up_seconds: int = 300
    loader: Callable[[], None] | None = None
    """Loads the models on first use (the keyring is loaded by then)."""
    reloader: Callable[[], None] | None = None
    """Loads the registry's champion and challenger again (a refused file keeps the old)."""
    locks: Locks = field(default_factory=Locks)

    @property
    def decides_in_memory(self) -> bool:
        """Whether ``decide`` reads this process's memory only (an event loop may call it).

        True once the models are loaded, with the profiles and locks not in Redis.
        """
        return self.loader is None and self.locks.in_memory and self.scorer.profiles.in_memory

    def decide(self, action: Action, context: DecisionContext) -> FraudDecision:
        """The decision alone (no effects; ``check`` records it and acts on a block)."""
        self._load_once()
        if self.locked_until(context.user) > context.ts_ns:
            return FraudDecision(action, Outcome.BLOCK, 1.0, "locked", (), ("locked",))
        return self.scorer.decide(action, context)

    def check(
        self, db: Session, action: Action, context: DecisionContext, actor: Actor
    ) -> FraudDecision:
        """Decide, record the decision, and on a block open a review and lock the customer."""
        decision = self.decide(action, context)
        self.record(db, decision, context, actor)
        return decision

    def record(
        self, db: Session, decision: FraudDecision, context: DecisionContext, actor: Actor
    ) -> None:
        """Record a decision made by ``decide``; a block opens a review and locks the customer."""
        facts = decision.facts() | self._bins(decision)
        self.audit.record(db, "fraud.decision", actor, subject=context.user, data=facts)
        if decision.outcome is Outcome.BLOCK and "locked" not in decision.rules:
            self._review(db, context, decision)

    def check_alone(self, action: Action, context: DecisionContext, actor: Actor) -> FraudDecision:
        """``check`` in a transaction of its own (for callers that hold none)."""
        with transaction(self.sessions) as db:
            return self.check(db, action, context, actor)

    def record_alone(self, decision: FraudDecision, context: DecisionContext, actor: Actor) -> None:
        """``record`` in a transaction of its own (the decision is not made again)."""
        with transaction(self.sessions) as db:
            self.record(db, decision, context, actor)

    def _load_once(self) -> None:
        """Load the models before the first decision; a failed load fails closed, then retries."""
        loader = self.loader
        if loader is None:
            return
        try:
            loader()
        except Exception:
            log.exception("fraud.model_load_failed")
            self.scorer.champion_expected = True
            return
        self.loader = None

    def locked_until(self, user: str) -> int:
        """When the customer's lock ends (0: not locked)."""
        return self.locks.until(user)

    def lock(self, user: str, duration_ns: int) -> int:
        """Lock the customer's risky actions for ``duration_ns`` (never shortening a lock)."""
        now = self.clock.now_ns()
        return self.locks.extend(user, now + duration_ns, now)

    def unlock(self, db: Session, user: str, actor: Actor, reason: str) -> None:
        """End the customer's lock (staff, after review), audited."""
        before = self.locks.release(user)
        facts = {"until_ns": before, "reason": reason}
        self.audit.record(db, "fraud.lock.released", actor, subject=user, data=facts)

    def reload(self, db: Session, actor: Actor) -> tuple[FraudModel | None, FraudModel | None]:
        """Load the registry's models again (staff, after a promotion), audited."""
        self.loader = self.reloader
        self._load_once()  # a failed load fails closed and is tried again on the next decision
        champion, challenger = self.scorer.champion, self.scorer.challenger
        facts = {
            "champion": champion.version if champion else None,
            "challenger": challenger.version if challenger else None,
        }
        self.audit.record(db, "fraud.model.loaded", actor, subject="fraud-model", data=facts)
        return champion, challenger

    def models(self) -> tuple[FraudModel | None, FraudModel | None]:
        """The champion and the challenger in use (loaded first if not yet)."""
        self._load_once()
        return self.scorer.champion, self.scorer.challenger

    def _review(self, db: Session, context: DecisionContext, decision: FraudDecision) -> None:
        until = self.lock(context.user, LOCK_MINUTES * 60 * NS)
        draft = AlertDraft(
            typology=f"fraud.{decision.action.value}",
            score=round(min(max(decision.score, 0.0), 1.0), 4),
            subject=Subject(customer=context.user),
            start_ns=context.ts_ns,
            end_ns=context.ts_ns,
            rule=",".join(decision.rules) or "model",
            episode=str(context.ts_ns),
            evidence=decision.facts() | {"features": _named(decision.features)},
            parameters={"lock_until_ns": until},
        )
        self.alerts.raise_alert(db, draft, SOURCE)
        self.audit.record(
            db,
            "fraud.lock.applied",
            Actor.system(SOURCE),
            subject=context.user,
            data={"until_ns": until},
        )

    def _bins(self, decision: FraudDecision) -> dict[str, str]:
        """The bin of each feature the champion decided on (for ``fraud report``'s drift)."""
        champion = self.scorer.champion
        if champion is None or champion.bins is None or not decision.features:
            return {}
        if champion.version != decision.model_version:
            return {}
        return {"feature_bins": codes(champion.bins, decision.features)}


def _named(values: tuple[float, ...]) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, values, strict=True)) if values else {}


def screen(decision: FraudDecision, *, stepped_up: bool, locked_until_ns: int = 0) -> None:
    """Let an allowed (or already stepped-up) action through; 403 otherwise."""
    if decision.outcome is Outcome.BLOCK:
        raise fraud_blocked(decision, locked_until_ns)
    if decision.outcome is Outcome.STEP_UP and not stepped_up:
        raise fraud_step_up(decision)
