"""The configured limits: for each scope (IP, user, API key) and route class, n per window."""

from __future__ import annotations

from dataclasses import dataclass

from tradeguard.config import Settings
from tradeguard.core.rate_notation import parsed_rate_limit
from tradeguard.ratelimit.clients import LimitScope
from tradeguard.ratelimit.route_classes import RouteClass

LIMITED_CLASSES = (
    RouteClass.AUTH,
    RouteClass.ORDER_ENTRY,
    RouteClass.READ,
    RouteClass.DEFAULT,
)
ADDRESS_CLASSES = (*LIMITED_CLASSES, RouteClass.ORDER_CANCEL)
"""An address also has a budget of order cancels, paid only by callers that do not
authenticate (``route_classes.OWNER_FREE``)."""
API_KEY_CLASSES = (RouteClass.ORDER_ENTRY, RouteClass.READ, RouteClass.DEFAULT)
"""API keys never reach sign-in or account routes; an auth route is counted per user only."""


@dataclass(frozen=True, slots=True)
class Limit:
    """``amount`` requests per ``window_seconds``, counted under ``prefix`` + the client."""

    amount: int
    window_seconds: int
    prefix: str

    def adapted(self, level: int) -> int:
        """The amount at adaptive ``level``: halved per level, never below one request."""
        return max(1, self.amount >> level)


@dataclass(frozen=True, slots=True)
class LimitPolicy:
    """Which limit applies to a scope and route class (``None``: not limited there)."""

    limits: dict[tuple[LimitScope, RouteClass], Limit]

    def limit(self, scope: LimitScope, route_class: RouteClass) -> Limit | None:
        """The limit of ``scope`` on ``route_class`` requests, if any."""
        return self.limits.get((scope, route_class))

    @classmethod
    def from_settings(cls, settings: Settings) -> LimitPolicy:
        """The limits the settings configure."""
        limits: dict[tuple[LimitScope, RouteClass], Limit] = {}
        for scope in LimitScope:
            classes = {
                LimitScope.IP: ADDRESS_CLASSES,
                LimitScope.USER: LIMITED_CLASSES,
                LimitScope.API_KEY: API_KEY_CLASSES,
            }[scope]
            for route_class in classes:
                text = getattr(settings, f"rate_limit_{scope.value}_{route_class.value}")
                limits[scope, route_class] = _limit(scope, route_class, text)
        return cls(limits)


def _limit(scope: LimitScope, route_class: RouteClass, text: str) -> Limit:
    item = parsed_rate_limit(text)
    window = item.get_expiry()
    # The amount is not part of the key: a tightened limit keeps counting the same window.
    return Limit(item.amount, window, f"rl/{scope.value}/{route_class.value}/{window}/")
