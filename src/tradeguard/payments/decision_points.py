"""The fraud and AML decision points a withdrawal asks before it is approved.

Each is a small protocol that the fraud and AML packages fill. Until one is configured
(``payments_fraud_decision`` / ``payments_aml_decision`` off) the point is not asked;
once configured, a point that is missing or fails denies the withdrawal (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class WithdrawalFacts:
    """What a decision point is told about a withdrawal."""

    withdrawal_id: str
    user_id: str
    account_id: str
    bank_link_id: str
    amount_cents: int
    requested_at_ns: int


@dataclass(frozen=True, slots=True)
class Decision:
    """A point's answer: allowed, or denied with its reason."""

    allowed: bool
    reason: str = ""


class DecisionPoint(Protocol):
    """Fraud or AML: may this withdrawal go ahead."""

    def decide_withdrawal(self, facts: WithdrawalFacts) -> Decision:
        """Allow or deny; raising counts as unavailable (deny)."""
        ...


@dataclass(frozen=True, slots=True)
class DecisionPoints:
    """The configured points (``None``: not configured) and whether each is switched on."""

    fraud: DecisionPoint | None = None
    aml: DecisionPoint | None = None
    fraud_on: bool = False
    aml_on: bool = False

    def asked(self) -> list[tuple[str, DecisionPoint | None]]:
        """The points to ask, by name (a switched-on point that is missing is ``None``)."""
        named = (("fraud", self.fraud_on, self.fraud), ("aml", self.aml_on, self.aml))
        return [(name, point) for name, on, point in named if on]
