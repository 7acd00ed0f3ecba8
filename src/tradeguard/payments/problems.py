"""Reason codes of money movement and the problem documents that carry them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tradeguard.core.errors import ProblemError, ProblemType

INVALID = ProblemType("payment-invalid", "Payment request invalid", 422)
DENIED = ProblemType("withdrawal-denied", "Withdrawal denied", 422)
CONFLICT = ProblemType("payment-conflict", "Payment conflict", 409)
FORBIDDEN = ProblemType("payment-forbidden", "Not allowed", 403)
NOT_FOUND = ProblemType("not-found", "Not Found", 404)
UNAVAILABLE = ProblemType("payment-unavailable", "Payment service unavailable", 503)


class PaymentReason(StrEnum):
    """Stable reason codes of refused money-movement requests."""

    AMOUNT_INVALID = "PAYMENT_AMOUNT_INVALID"
    ROUTING_INVALID = "PAYMENT_ROUTING_NUMBER_INVALID"
    ACCOUNT_NUMBER_INVALID = "PAYMENT_ACCOUNT_NUMBER_INVALID"
    HOLDER_NAME_INVALID = "PAYMENT_HOLDER_NAME_INVALID"
    LINK_LIMIT = "PAYMENT_BANK_LINK_LIMIT"
    LINK_EXISTS = "PAYMENT_BANK_LINK_EXISTS"
    LINK_NOT_VERIFIED = "PAYMENT_BANK_LINK_NOT_VERIFIED"
    MICRO_DEPOSITS_WRONG = "PAYMENT_MICRO_DEPOSITS_WRONG"
    MICRO_DEPOSITS_EXHAUSTED = "PAYMENT_MICRO_DEPOSITS_EXHAUSTED"
    NO_ACCOUNT = "PAYMENT_NO_BROKERAGE_ACCOUNT"
    IDEMPOTENCY_KEY_REQUIRED = "PAYMENT_IDEMPOTENCY_KEY_REQUIRED"
    IDEMPOTENCY_KEY_REUSED = "PAYMENT_IDEMPOTENCY_KEY_REUSED"
    STATE = "PAYMENT_STATE_CONFLICT"
    RETURN_CODE_INVALID = "PAYMENT_RETURN_CODE_INVALID"
    LIMIT_DAILY = "WITHDRAWAL_LIMIT_DAILY"
    LIMIT_WEEKLY = "WITHDRAWAL_LIMIT_WEEKLY"
    COOLING = "WITHDRAWAL_COOLING_PERIOD"
    INSUFFICIENT_FUNDS = "WITHDRAWAL_INSUFFICIENT_FUNDS"
    ACCOUNT_NOT_ACTIVE = "WITHDRAWAL_ACCOUNT_NOT_ACTIVE"
    STEP_UP = "WITHDRAWAL_STEP_UP_REQUIRED"
    CODES_WRONG = "WITHDRAWAL_CODES_WRONG"
    NOT_OWN_NAME = "WITHDRAWAL_LINK_NOT_OWN_NAME"
    SELF_REVIEW = "WITHDRAWAL_SELF_REVIEW"
    LINK_SELF_APPROVAL = "PAYMENT_LINK_SELF_APPROVAL"
    ALREADY_REVIEWED = "WITHDRAWAL_ALREADY_REVIEWED"
    DECISION_DENIED = "WITHDRAWAL_DECISION_DENIED"
    DECISION_UNAVAILABLE = "WITHDRAWAL_DECISION_UNAVAILABLE"


def invalid(reason: PaymentReason, detail: str, **facts: Any) -> ProblemError:  # noqa: ANN401 - JSON facts
    """422: the request cannot be taken as sent."""
    return ProblemError(INVALID, reason.value, detail, dict(facts))


def denied(reason: PaymentReason, detail: str, **facts: Any) -> ProblemError:  # noqa: ANN401 - JSON facts
    """422: a withdrawal that the rules refuse."""
    return ProblemError(DENIED, reason.value, detail, dict(facts))


def conflict(reason: PaymentReason, detail: str) -> ProblemError:
    """409: not possible in the object's present state."""
    return ProblemError(CONFLICT, reason.value, detail)


def forbidden(reason: PaymentReason, detail: str) -> ProblemError:
    """403: this caller may not do that."""
    return ProblemError(FORBIDDEN, reason.value, detail)


def not_found(what: str) -> ProblemError:
    """404: no such object of the caller's (another customer's answers the same)."""
    return ProblemError(NOT_FOUND, "NOT_FOUND", f"no such {what}")


def unavailable(reason: PaymentReason, detail: str) -> ProblemError:
    """503: a collaborator needed to decide is not answering; nothing was done."""
    return ProblemError(UNAVAILABLE, reason.value, detail)
