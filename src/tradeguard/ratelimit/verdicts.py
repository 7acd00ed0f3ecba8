"""What one limit said about one request, and the 429/503 problems and headers that follow.

Headers follow the IETF RateLimit header fields draft: ``RateLimit-Limit`` (requests per
window), ``RateLimit-Remaining``, ``RateLimit-Reset`` (seconds until the window ends) and
``RateLimit-Policy`` (``limit;w=window``); a refusal adds ``Retry-After`` in seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from tradeguard.core.errors import ProblemError, ProblemType
from tradeguard.ratelimit.clients import Client, LimitScope
from tradeguard.ratelimit.route_classes import RouteClass

RATE_LIMITED = ProblemType("rate-limited", "Too many requests", 429)
OVERLOADED = ProblemType("overloaded", "Service overloaded", 503)
LIMITS_UNAVAILABLE = ProblemType("rate-limits-unavailable", "Rate limits unavailable", 503)
SHED_RETRY_AFTER_SECONDS = 2
UNAVAILABLE_RETRY_AFTER_SECONDS = 1


class LimitReason(StrEnum):
    """Reason codes of this package's refusals."""

    RATE_LIMITED = "RATE_LIMITED"
    OVERLOADED = "OVERLOADED"
    UNAVAILABLE = "RATE_LIMIT_UNAVAILABLE"


OWN_REASONS = frozenset(LimitReason)


@dataclass(slots=True)  # not frozen: several are built per request, and frozen ones cost 3x
class Verdict:
    """One limit's count after this request: allowed while ``count`` is within ``limit``."""

    client: Client
    route_class: RouteClass
    key: str
    limit: int
    window_seconds: int
    count: int
    level: int
    resets_at: float
    """When the window ends, as Unix seconds (read from the store with the count)."""

    @property
    def scope(self) -> LimitScope:
        """Whose requests the limit counts."""
        return self.client.scope

    @property
    def allowed(self) -> bool:
        """Whether this request is within the limit."""
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        """Requests left in the window."""
        return max(0, self.limit - self.count)


def tightest(verdicts: list[Verdict]) -> Verdict:
    """The verdict with the fewest requests left (the first of equals)."""
    found = verdicts[0]
    for verdict in verdicts[1:]:
        if verdict.limit - verdict.count < found.limit - found.count:
            found = verdict
    return found


def limit_headers(verdict: Verdict, reset_seconds: float) -> dict[str, str]:
    """The RateLimit-* headers of ``verdict``, ``reset_seconds`` before its window ends."""
    limit = str(verdict.limit)
    return {
        "RateLimit-Limit": limit,
        "RateLimit-Remaining": str(verdict.remaining),
        "RateLimit-Reset": str(whole_seconds(reset_seconds)),
        "RateLimit-Policy": limit + ";w=" + str(verdict.window_seconds),
    }


def whole_seconds(seconds: float) -> int:
    """Seconds rounded up, at least 1 (a client told 0 would retry at once)."""
    whole = math.ceil(seconds)
    return max(1, whole)


def rate_limited(verdict: Verdict, reset_seconds: float) -> ProblemError:
    """The 429 for a request over ``verdict``'s limit."""
    retry_after = whole_seconds(reset_seconds)
    headers = limit_headers(verdict, reset_seconds)
    headers["Retry-After"] = str(retry_after)
    return ProblemError(
        RATE_LIMITED,
        LimitReason.RATE_LIMITED,
        f"too many {verdict.route_class.value} requests for this {_scope_noun(verdict.scope)}; "
        f"retry after {retry_after} s",
        {
            "limit_scope": verdict.scope.value,
            "route_class": verdict.route_class.value,
            "limit": verdict.limit,
            "window_seconds": verdict.window_seconds,
            "adaptive_level": verdict.level,
            "retry_after_seconds": retry_after,
        },
        headers=headers,
    )


def overloaded(route_class: RouteClass) -> ProblemError:
    """The 503 of a request shed under overload."""
    return ProblemError(
        OVERLOADED,
        LimitReason.OVERLOADED,
        f"the service is overloaded and is refusing {route_class.value} requests for now",
        {"route_class": route_class.value, "retry_after_seconds": SHED_RETRY_AFTER_SECONDS},
        headers={"Retry-After": str(SHED_RETRY_AFTER_SECONDS)},
    )


def limits_unavailable() -> ProblemError:
    """The 503 when the shared counters cannot be reached (limits fail closed)."""
    return ProblemError(
        LIMITS_UNAVAILABLE,
        LimitReason.UNAVAILABLE,
        "request limits cannot be checked right now",
        {"retry_after_seconds": UNAVAILABLE_RETRY_AFTER_SECONDS},
        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)},
    )


def _scope_noun(scope: LimitScope) -> str:
    return {LimitScope.IP: "address", LimitScope.USER: "user", LimitScope.API_KEY: "API key"}[scope]
