"""The fraud decision point that a withdrawal asks before it is approved.

By then the customer has stepped up and entered both an email and an SMS code, so the
"additional verification" of a medium score is already done: only a block denies. A
block is recorded, reviewed and locks the customer as at every other decision point.
"""

from __future__ import annotations

from tradeguard.audit.records import Actor
from tradeguard.fraud.context import Action, DecisionContext
from tradeguard.fraud.decisions import Outcome
from tradeguard.fraud.guard import FraudGuard
from tradeguard.payments.decision_points import Decision, WithdrawalFacts

ACTOR = Actor.system("fraud-guard")


class FraudWithdrawalPoint:
    """Withdrawals asked of the fraud guard (satisfies the payments decision point)."""

    def __init__(self, guard: FraudGuard) -> None:
        self.guard = guard

    def decide_withdrawal(self, facts: WithdrawalFacts) -> Decision:
        """Deny a blocked withdrawal with the decision's rules and top features as reason."""
        context = DecisionContext(
            user=facts.user_id, ts_ns=facts.requested_at_ns, amount_cents=facts.amount_cents
        )
        decision = self.guard.check_alone(Action.WITHDRAWAL, context, ACTOR)
        if decision.outcome is not Outcome.BLOCK:
            return Decision(allowed=True)
        why = [*decision.rules, *(name for name, _ in decision.reasons)]
        return Decision(allowed=False, reason="fraud: " + ", ".join(why or ["high score"]))
