"""Reason codes of screening refusals and the problem documents they produce."""

from __future__ import annotations

from enum import StrEnum

from tradeguard.core.errors import ProblemError, ProblemType

SCREENING_UNAVAILABLE = ProblemType("screening-unavailable", "Sanctions screening unavailable", 503)


class ScreeningReason(StrEnum):
    """Stable reason codes of screening refusals."""

    NO_LIST_LOADED = "SCREENING_NO_LIST_LOADED"


def no_list_loaded() -> ProblemError:
    """503: no sanctions list is loaded, so no subject can be declared clear (fail closed)."""
    return ProblemError(
        SCREENING_UNAVAILABLE,
        ScreeningReason.NO_LIST_LOADED,
        "no sanctions list is loaded; screening cannot clear anyone until one is",
    )
