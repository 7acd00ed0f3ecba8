"""Reason codes of refused trading requests and the problem documents they produce."""

from __future__ import annotations

from enum import StrEnum

from tradeguard.core.errors import NOT_FOUND, ProblemError, ProblemType
from tradeguard.risk.model import Denial
from tradeguard.trading.orders.denial_terms import public_inputs, public_threshold

RISK_DENIED = ProblemType("order-denied", "Order denied by pre-trade risk checks", 422)
ORDER_CONFLICT = ProblemType("order-conflict", "Order conflict", 409)
NO_ACCOUNT = ProblemType("no-brokerage-account", "No brokerage account", 403)
UNAVAILABLE = ProblemType("trading-unavailable", "Trading unavailable", 503)


class TradingReason(StrEnum):
    """Stable reason codes of refused order requests (risk denials use ``RISK_*``)."""

    NO_ACCOUNT = "TRADING_NO_ACCOUNT"
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    ORDER_NOT_OPEN = "ORDER_NOT_OPEN"
    CLIENT_ORDER_ID_REUSED = "ORDER_CLIENT_ID_REUSED"
    NOT_MODIFIABLE = "ORDER_NOT_MODIFIABLE"
    QUANTITY_NOT_ABOVE_FILLED = "ORDER_QUANTITY_NOT_ABOVE_FILLED"
    UNAVAILABLE = "TRADING_UNAVAILABLE"
    AT_VENUE = "ORDER_AT_VENUE"


def risk_denied(denial: Denial) -> ProblemError:
    """A 422 carrying the check's reason code, inputs and threshold; its audit is kept.

    Inputs and threshold are in the API's units (``denial_terms``); the audit event keeps
    the checks' own.
    """
    extensions = {
        "inputs": public_inputs(denial.inputs),
        "threshold": public_threshold(denial.reason_code, denial.threshold),
    }
    return ProblemError(RISK_DENIED, denial.reason_code, denial.detail, extensions).kept()


def order_conflict(reason: TradingReason, detail: str) -> ProblemError:
    """A 409: the order exists but cannot do what was asked."""
    return ProblemError(ORDER_CONFLICT, reason, detail)


def order_not_found() -> ProblemError:
    """A 404: no such order of the caller's (another account's order does not exist to them)."""
    return ProblemError(NOT_FOUND, TradingReason.ORDER_NOT_FOUND, "no such order")


def no_account() -> ProblemError:
    """A 403: the caller has no brokerage account to trade or view."""
    return ProblemError(NO_ACCOUNT, TradingReason.NO_ACCOUNT, "you have no brokerage account")


def unavailable(detail: str) -> ProblemError:
    """A 503: the order may not have been taken; the client retries with its client order id."""
    return ProblemError(
        UNAVAILABLE, TradingReason.UNAVAILABLE, detail, headers={"Retry-After": "1"}
    )
