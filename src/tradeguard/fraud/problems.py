"""The fraud decision points' problems: blocked (review opened) and step-up required.

Neither shows the score. A block says until when the account is paused, where there is
a lock, and where to go next (the password reset); a step-up names why in one of a few
fixed codes (``WHY``) and the page that leads the customer through a second factor
(``/account/verify``), so that a trading app can send them there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.core.errors import ProblemError, ProblemType

if TYPE_CHECKING:
    from tradeguard.fraud.decisions import FraudDecision

FRAUD_BLOCKED = ProblemType("fraud-blocked", "Held for review", 403)
FRAUD_STEP_UP = ProblemType("fraud-step-up", "Additional verification required", 403)
VERIFY_PAGE = "/account/verify"
RECOVER_PAGE = "/reset-password"
WHY = ("impossible_travel", "new_device_and_new_country", "session_moved")
"""The takeover rules a customer is told about by name; anything else is ``unusual``."""


def fraud_blocked(decision: FraudDecision, locked_until_ns: int = 0) -> ProblemError:
    """The action is blocked and a review opened (no score is shown to the caller)."""
    extras: dict[str, object] = {"action": decision.action.value, "recover_at": RECOVER_PAGE}
    if locked_until_ns > 0:
        extras["locked_until"] = ns_to_rfc3339(locked_until_ns)
    return ProblemError(
        FRAUD_BLOCKED,
        "FRAUD_BLOCKED",
        "this action is held for review; contact support",
        extras,
    )


def why_of(decision: FraudDecision) -> str:
    """The customer-facing reason code of a step-up."""
    return next((rule for rule in decision.rules if rule in WHY), "unusual")


def fraud_step_up(decision: FraudDecision) -> ProblemError:
    """Verify a strong factor again (POST /v1/auth/step-up), then retry."""
    action, why = decision.action.value, why_of(decision)
    return ProblemError(
        FRAUD_STEP_UP,
        "FRAUD_STEP_UP_REQUIRED",
        "verify a strong factor again (POST /v1/auth/step-up), then retry",
        {
            "action": action,
            "why": why,
            "verify_at": f"{VERIFY_PAGE}?{urlencode({'action': action, 'why': why})}",
        },
    )
