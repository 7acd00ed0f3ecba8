"""The fraud decision points' problems: blocked (review opened) and step-up required."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradeguard.core.errors import ProblemError, ProblemType

if TYPE_CHECKING:
    from tradeguard.fraud.decisions import FraudDecision

FRAUD_BLOCKED = ProblemType("fraud-blocked", "Held for review", 403)
FRAUD_STEP_UP = ProblemType("fraud-step-up", "Additional verification required", 403)


def fraud_blocked(decision: FraudDecision) -> ProblemError:
    """The action is blocked and a review opened (no score is shown to the caller)."""
    return ProblemError(
        FRAUD_BLOCKED,
        "FRAUD_BLOCKED",
        "this action is held for review; contact support",
        {"action": decision.action.value},
    )


def fraud_step_up(decision: FraudDecision) -> ProblemError:
    """Verify a strong factor again (POST /v1/auth/step-up), then retry."""
    return ProblemError(
        FRAUD_STEP_UP,
        "FRAUD_STEP_UP_REQUIRED",
        "verify a strong factor again (POST /v1/auth/step-up), then retry",
        {"action": decision.action.value},
    )
