"""Reason codes of refused alert and case requests and the problem documents they produce."""

from __future__ import annotations

from enum import StrEnum

from tradeguard.core.errors import CONFLICT, FORBIDDEN, NOT_FOUND, ProblemError, ProblemType

INVALID_CASE = ProblemType("invalid-case-request", "Invalid case request", 422)


class CaseReason(StrEnum):
    """Stable reason codes of the case workflow."""

    CASE_NOT_FOUND = "CASE_NOT_FOUND"
    ALERT_NOT_FOUND = "ALERT_NOT_FOUND"
    ALERT_TAKEN = "ALERT_TAKEN"
    CASE_CLOSED = "CASE_CLOSED"
    DECISION_INVALID = "DECISION_INVALID"
    ASSIGNEE_INVALID = "ASSIGNEE_INVALID"
    CASE_NOT_ESCALATED = "CASE_NOT_ESCALATED"
    SECOND_REVIEW_REQUIRED = "SECOND_REVIEW_REQUIRED"


def case_not_found() -> ProblemError:
    """404: no case has that id."""
    return ProblemError(NOT_FOUND, CaseReason.CASE_NOT_FOUND, "no such case")


def alert_not_found(missing: list[str]) -> ProblemError:
    """404 (or 422 when named in a body): an alert id names no alert."""
    return ProblemError(
        INVALID_CASE, CaseReason.ALERT_NOT_FOUND, "no such alert", {"alerts": missing}
    )


def alert_taken(taken: list[str]) -> ProblemError:
    """409: the alert is already in a case or closed."""
    return ProblemError(
        CONFLICT, CaseReason.ALERT_TAKEN, "the alert is already in a case", {"alerts": taken}
    )


def case_closed() -> ProblemError:
    """409: a closed case takes no more work."""
    return ProblemError(CONFLICT, CaseReason.CASE_CLOSED, "the case is closed")


def invalid(reason: CaseReason, detail: str) -> ProblemError:
    """422: the request names something the workflow does not allow."""
    return ProblemError(INVALID_CASE, reason, detail)


def case_not_escalated() -> ProblemError:
    """409: only an escalated or reported case is referred to a regulator."""
    return ProblemError(
        CONFLICT, CaseReason.CASE_NOT_ESCALATED, "only an escalated or reported case is referred"
    )


def second_review_required() -> ProblemError:
    """403: whoever escalated a case does not also decide it; another reviewer does."""
    return ProblemError(
        FORBIDDEN,
        CaseReason.SECOND_REVIEW_REQUIRED,
        "an escalated case is decided by a reviewer other than the one who escalated it",
    )
