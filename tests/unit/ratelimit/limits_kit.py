"""Rate limits over clocked counters, an event list and requests built by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clocked_counters import ClockedCounters, WallClock
from starlette.requests import Request

from tradeguard.access.check_log import BufferedEvent
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.ratelimit.adaptive import AdaptiveRules, AdaptiveThrottle
from tradeguard.ratelimit.episodes import ThrottleEpisodes
from tradeguard.ratelimit.events import ClientEvent
from tradeguard.ratelimit.limiter import RateLimits
from tradeguard.ratelimit.policy import LimitPolicy

START_NS = 1_795_000_000 * 1_000_000_000


@dataclass
class Kit:
    """Rate limits with the time, counters and audit events a test controls."""

    limits: RateLimits
    wall: WallClock
    counters: ClockedCounters
    events: list[BufferedEvent] = field(default_factory=list)

    def event_types(self) -> list[str]:
        return [event.event_type for event in self.client_events()]

    def client_events(self) -> list[ClientEvent]:
        return [event for event in self.events if isinstance(event, ClientEvent)]


def settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


def kit(counters: ClockedCounters | None = None, **overrides: Any) -> Kit:
    configured = settings(**overrides)
    counters = counters or ClockedCounters(WallClock())
    wall = counters.wall
    events: list[BufferedEvent] = []
    clock = FixedClock(START_NS)
    adaptive = None
    if configured.rate_limit_adaptive_enabled:
        adaptive = AdaptiveThrottle(counters, AdaptiveRules.from_settings(configured), wall)
    limits = RateLimits(
        LimitPolicy.from_settings(configured),
        counters,
        adaptive,
        ThrottleEpisodes(events.append, clock, wall=wall),
        sink=events.append,
        clock=clock,
        enabled=configured.rate_limit_enabled,
        wall=wall,
    )
    return Kit(limits, wall, counters, events)


def request(method: str = "GET", path: str = "/v1/me", ip: str = "203.0.113.7") -> Request:
    return Request(
        {
            "type": "http",
            "method": method,
            "path": path,
            "headers": [],
            "query_string": b"",
            "client": (ip, 50000),
            "state": {"request_id": "req-1"},
        }
    )
