"""Reason codes of refused trading-control requests and the problem documents they produce."""

from __future__ import annotations

from enum import StrEnum

from tradeguard.core.errors import NOT_FOUND, ProblemError, ProblemType

INVALID_CONTROL = ProblemType("invalid-control", "Invalid trading control", 422)


class ControlReason(StrEnum):
    """Stable reason codes of refused control requests."""

    INSTRUMENT_NOT_FOUND = "INSTRUMENT_NOT_FOUND"
    ACCOUNT_NOT_FOUND = "ACCOUNT_NOT_FOUND"
    LIMIT_UNKNOWN = "LIMIT_UNKNOWN"
    LIMIT_INVALID = "LIMIT_INVALID"
    LOCATE_EXPIRY_INVALID = "LOCATE_EXPIRY_INVALID"


def instrument_not_found(symbol: str, *, in_body: bool = False) -> ProblemError:
    """404 for a symbol in the path, 422 for one named in the body: not in the universe."""
    kind = INVALID_CONTROL if in_body else NOT_FOUND
    return ProblemError(
        kind, ControlReason.INSTRUMENT_NOT_FOUND, f"no instrument {symbol}", {"symbol": symbol}
    )


def account_not_found(*, in_body: bool = False) -> ProblemError:
    """404 for an account id in the path, 422 for one named in the body: no such account."""
    kind = INVALID_CONTROL if in_body else NOT_FOUND
    return ProblemError(kind, ControlReason.ACCOUNT_NOT_FOUND, "no such brokerage account")


def invalid_control(reason: ControlReason, detail: str) -> ProblemError:
    """422: the request names a control or value that cannot be set."""
    return ProblemError(INVALID_CONTROL, reason, detail)
