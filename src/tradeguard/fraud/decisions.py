"""Deciding: the model's probability and the takeover rules give allow, step-up or block.

``FraudScorer.decide(action, context)`` is the decision every point asks for (sign-in,
order, profile and credential changes, bank links, withdrawals): a pure function of the
profiles and the context, no input or output. Thresholds are per action. A rule that
fires can only raise the outcome, never lower it. A scoring failure fails closed for
money movement and credential changes (block), and steps up elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from tradeguard.fraud.artifact import FraudModel
from tradeguard.fraud.catalog import FEATURE_NAMES, vector
from tradeguard.fraud.context import CREDENTIAL_ACTIONS, MONEY_ACTIONS, Action, DecisionContext
from tradeguard.fraud.corroboration import (
    Corroboration,
    after_credential_change,
    after_liquidation,
)
from tradeguard.fraud.features import Snapshot, snapshot
from tradeguard.fraud.model import sigmoid
from tradeguard.fraud.profiles import ProfileStore
from tradeguard.fraud.signals import (
    country_is_new,
    device_is_new,
    impossible_travel,
    session_device_mismatch,
    session_network_mismatch,
)

TOP_REASONS = 5
RULES_ONLY = "rules-only"


class Outcome(StrEnum):
    """What a decision point does: let it through, ask for more proof, or stop it."""

    ALLOW = "allow"
    STEP_UP = "step_up"
    BLOCK = "block"


RANK = {Outcome.ALLOW: 0, Outcome.STEP_UP: 1, Outcome.BLOCK: 2}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Probabilities from which an action is stepped up, and blocked."""

    step_up: float = 0.5
    block: float = 0.9

    def __post_init__(self) -> None:
        if not 0.0 <= self.step_up <= self.block <= 1.0:
            raise ValueError("thresholds: 0 <= step_up <= block <= 1")

    def outcome(self, probability: float) -> Outcome:
        """The outcome of ``probability``."""
        if probability >= self.block:
            return Outcome.BLOCK
        return Outcome.STEP_UP if probability >= self.step_up else Outcome.ALLOW


@dataclass(frozen=True, slots=True)
class FraudDecision:
    """A decision with its why: score, model version, top features and the rules that fired."""

    action: Action
    outcome: Outcome
    score: float
    model_version: str
    reasons: tuple[tuple[str, float], ...]
    rules: tuple[str, ...]
    challenger: tuple[str, float] | None = None
    features: tuple[float, ...] = ()
    """The feature values decided on (kept with a review, becoming a label once decided)."""
    evidence: tuple[str, ...] = ()
    """What corroborated the withdrawal rules that fired (decision 87)."""

    def facts(self) -> dict[str, object]:
        """The decision as its audit event records it (numbers as text: no floats in a record)."""
        return {
            "action": self.action.value,
            "outcome": self.outcome.value,
            "score": f"{self.score:.4f}",
            "model_version": self.model_version,
            "reasons": [[name, f"{value:+.4f}"] for name, value in self.reasons],
            "rules": list(self.rules),
            "evidence": list(self.evidence),
            "challenger": None
            if self.challenger is None
            else [self.challenger[0], f"{self.challenger[1]:.4f}"],
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a rule that fired does at least, and the evidence it fired on."""

    outcome: Outcome
    evidence: tuple[str, ...] = ()


Judge = Callable[[Snapshot, bool], Verdict | None]
"""A rule's test: the snapshot and whether the score reached the step-up threshold."""


@dataclass(frozen=True, slots=True)
class Rule:
    """An account-takeover rule: where it applies, and its verdict when it fires."""

    name: str
    actions: frozenset[Action]
    judge: Judge


def plain(fires: Callable[[Snapshot], bool], outcome: Outcome) -> Judge:
    """A rule that does ``outcome`` at least whenever ``fires``."""
    return lambda snap, _elevated: Verdict(outcome) if fires(snap) else None


def corroborated(found: Callable[..., Corroboration | None]) -> Judge:
    """A withdrawal rule: block when strongly corroborated, step up when weakly (decision 87)."""

    def judge(snap: Snapshot, elevated: bool) -> Verdict | None:  # noqa: FBT001 - the score's part
        corroboration = found(snap, elevated=elevated)
        if corroboration is None or not corroboration.names:
            return None
        outcome = Outcome.BLOCK if corroboration.blocks else Outcome.STEP_UP
        return Verdict(outcome, corroboration.names)

    return judge


ALL = frozenset(Action)
RULES = (
    Rule(
        "new_device_and_new_country",
        frozenset({Action.LOGIN, Action.NEW_DEVICE}),
        plain(
            lambda s: (
                s.user.last_login_ns is not None and device_is_new(s) > 0 and country_is_new(s) > 0
            ),
            Outcome.STEP_UP,
        ),
    ),
    Rule("impossible_travel", ALL, plain(lambda s: impossible_travel(s) > 0, Outcome.STEP_UP)),
    Rule(
        "session_moved",
        ALL - {Action.LOGIN},
        plain(
            lambda s: session_device_mismatch(s) > 0 or session_network_mismatch(s) > 0,
            Outcome.STEP_UP,
        ),
    ),
    Rule(
        "credential_change_then_withdrawal",
        frozenset({Action.WITHDRAWAL}),
        corroborated(after_credential_change),
    ),
    Rule(
        "liquidation_then_withdrawal",
        frozenset({Action.WITHDRAWAL}),
        corroborated(after_liquidation),
    ),
)


@dataclass(slots=True)
class FraudScorer:
    """The model (champion and challenger), the profiles, the thresholds per action."""

    profiles: ProfileStore
    champion: FraudModel | None = None
    challenger: FraudModel | None = None
    thresholds: Mapping[Action, Thresholds] = field(default_factory=dict)
    default: Thresholds = field(default_factory=Thresholds)
    champion_expected: bool = False
    """A champion is named (or could not be looked for): scoring without one fails closed."""

    def decide(self, action: Action, context: DecisionContext) -> FraudDecision:
        """The decision for ``action`` in ``context``; fails closed on any scoring error."""
        try:
            return self._decide(action, context)
        except Exception:  # noqa: BLE001 - any failure is a decision of its own
            return failed(action)

    def _decide(self, action: Action, context: DecisionContext) -> FraudDecision:
        if self.champion is None and self.champion_expected:
            return failed(action)
        snap = snapshot(self.profiles, action, context)
        score, version = 0.0, RULES_ONLY
        reasons: tuple[tuple[str, float], ...] = ()
        challenger = None
        x = vector(snap)
        if self.champion is not None:
            explained = self.champion.forest.explain(x)
            score, version = explained.probability, self.champion.version
            reasons = tuple(explained.top(FEATURE_NAMES, TOP_REASONS))
            if self.challenger is not None:
                shadow = self.challenger.forest.raw(x)
                challenger = (self.challenger.version, sigmoid(shadow))
        thresholds = self.thresholds.get(action, self.default)
        outcome = thresholds.outcome(score)
        fired = judged(action, snap, elevated=score >= thresholds.step_up)
        for _, verdict in fired:
            outcome = max(outcome, verdict.outcome, key=RANK.__getitem__)
        names = tuple(name for name, _ in fired)
        evidence = tuple(dict.fromkeys(e for _, verdict in fired for e in verdict.evidence))
        return FraudDecision(
            action, outcome, score, version, reasons, names, challenger, tuple(x), evidence
        )


def judged(action: Action, snap: Snapshot, *, elevated: bool) -> list[tuple[str, Verdict]]:
    """The rules of ``action`` that fire on ``snap``, with their verdicts."""
    fired = []
    for rule in RULES:
        verdict = rule.judge(snap, elevated) if action in rule.actions else None
        if verdict is not None:
            fired.append((rule.name, verdict))
    return fired


def failed(action: Action) -> FraudDecision:
    """The decision when scoring failed: block money and credentials, step up the rest."""
    closed = action in MONEY_ACTIONS or action in CREDENTIAL_ACTIONS
    outcome = Outcome.BLOCK if closed else Outcome.STEP_UP
    return FraudDecision(action, outcome, 1.0, "scoring-failed", (), ("scoring_failed",))
